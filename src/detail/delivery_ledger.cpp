// delivery_ledger.cpp: the exactly-once rules of receive() (see delivery_ledger.hpp).
#include "detail/delivery_ledger.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace session::detail {

DeliveryLedger::Start DeliveryLedger::start(std::string_view since) const {
    Start st;
    st.since = std::string(since);
    st.base = st.since;  // a foreign since: itself
    if (!st.since.empty()) {
        if (auto it = resume_.find(st.since); it != resume_.end()) {
            st.cursor = it->second.nodes;
            st.base = it->second.base;
        }
        if (auto it = delivered_.find(retrieve::HashKey(st.since)); it != delivered_.end()) st.since_seq = it->second.seq;
    }
    // Without the filter (since_seq) a member's whole history would come back as new: start it
    // from `since`.
    st.fallback = st.since_seq ? st.base : st.since;
    return st;
}

bool DeliveryLedger::is_new(const Start& start, std::string_view hash) const {
    if (hash == start.since) return false;
    // Handed out at or before the call that returned `since`: the caller has it. (Rewound members
    // and members asked for their whole history return such items.)
    if (start.since_seq) {
        if (auto it = delivered_.find(retrieve::HashKey(hash)); it != delivered_.end() && it->second.seq <= *start.since_seq)
            return false;
    }
    return true;
}

void DeliveryLedger::record(std::string_view hash, std::int64_t expiry_ms, std::int64_t now_ms) {
    const std::int64_t latest =
        now_ms > std::numeric_limits<std::int64_t>::max() - kMaxExpiryAheadMs ? now_ms : now_ms + kMaxExpiryAheadMs;
    delivered_.insert_or_assign(retrieve::HashKey(hash), Delivered{next_seq_++, std::min(expiry_ms, latest)});
    dirty_ = true;
}

void DeliveryLedger::remember(const std::string& last_hash, const Start& start, const retrieve::NodeCursor& cursor) {
    Resume resume{cursor, start.fallback};
    if (auto it = resume_.find(last_hash); it != resume_.end() && it->second == resume) return;
    dirty_ = true;
    auto [it, fresh] = resume_.insert_or_assign(last_hash, std::move(resume));
    (void)it;
    if (fresh) resume_order_.push_back(last_hash);
    while (resume_order_.size() > kMaxResumePoints) {
        resume_.erase(resume_order_.front());
        resume_order_.pop_front();
    }
}

void DeliveryLedger::set_latest(const std::string& hash) {
    if (hash.empty() || hash == latest_) return;
    latest_ = hash;
    dirty_ = true;
}

void DeliveryLedger::prune(std::int64_t now_ms) {
    if (std::erase_if(delivered_, [now_ms](const auto& kv) {
            return kv.second.expiry_ms + kForgetAfterExpiryMs < now_ms;
        }) > 0)
        dirty_ = true;
}

ReceiveState DeliveryLedger::to_state(const std::string& account) const {
    ReceiveState st;
    st.account = account;
    st.next_seq = next_seq_;
    st.latest = latest_;
    st.delivered.reserve(delivered_.size());
    for (const auto& [key, d] : delivered_) st.delivered.push_back({std::string(key.view()), d.seq, d.expiry_ms});
    std::sort(st.delivered.begin(), st.delivered.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    for (const auto& hash : resume_order_) {
        const auto& r = resume_.at(hash);
        st.cursors.push_back({hash, r.base, r.nodes});
    }
    return st;
}

DeliveryLedger DeliveryLedger::from_state(const ReceiveState& state) {
    DeliveryLedger ledger;
    ledger.next_seq_ = state.next_seq;
    ledger.latest_ = state.latest;
    for (const auto& d : state.delivered)
        ledger.delivered_.insert_or_assign(retrieve::HashKey(d.hash), Delivered{d.seq, d.expiry_ms});
    for (const auto& c : state.cursors) {
        Start st;
        st.fallback = c.base;
        ledger.remember(c.last_hash, st, c.nodes);
    }
    ledger.dirty_ = false;
    return ledger;
}

}  // namespace session::detail
