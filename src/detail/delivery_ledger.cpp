// delivery_ledger.cpp: the exactly-once rules of receive() (see delivery_ledger.hpp).
#include "detail/delivery_ledger.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace session::detail {

namespace {

// The latest expiry recorded at now_ms (saturating: a clock at the end of time does not overflow).
std::int64_t clamp_limit(std::int64_t now_ms) {
    return now_ms > std::numeric_limits<std::int64_t>::max() - kMaxExpiryAheadMs ? std::numeric_limits<std::int64_t>::max()
                                                                                   : now_ms + kMaxExpiryAheadMs;
}

// now_ms - d without overflow (d >= 0).
std::int64_t before(std::int64_t now_ms, std::int64_t d) {
    return now_ms < std::numeric_limits<std::int64_t>::min() + d ? std::numeric_limits<std::int64_t>::min() : now_ms - d;
}

}  // namespace

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
    delivered_.insert_or_assign(retrieve::HashKey(hash), Delivered{next_seq_++, std::min(expiry_ms, clamp_limit(now_ms))});
    dirty_ = true;
}

std::size_t DeliveryLedger::SignedKeyHasher::operator()(const SignedKey& k) const noexcept {
    // The key is a public key (uniformly distributed bytes): its first 8 bytes mixed with the time.
    std::uint64_t h = 0;
    for (std::size_t i = 0; i < 8; ++i) h = (h << 8) | k.sender.bytes[i];
    return static_cast<std::size_t>(h ^ (static_cast<std::uint64_t>(k.signed_ms) * 0x9E3779B97F4A7C15ull));
}

bool DeliveryLedger::is_replay(const SessionId& sender, std::int64_t signed_ms, std::string_view hash) const {
    auto it = signed_.find(SignedKey{sender.x25519(), signed_ms});
    return it != signed_.end() && it->second.view() != hash;
}

void DeliveryLedger::record_signed(const SessionId& sender, std::int64_t signed_ms, std::string_view hash) {
    if (signed_.try_emplace(SignedKey{sender.x25519(), signed_ms}, retrieve::HashKey(hash)).second) dirty_ = true;
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
            return kv.second.expiry_ms < before(now_ms, kForgetAfterExpiryMs);
        }) > 0)
        dirty_ = true;
    // Expiries restored from a file written before record() clamped them are clamped here.
    const std::int64_t latest = clamp_limit(now_ms);
    for (auto& [key, d] : delivered_)
        if (d.expiry_ms > latest) {
            d.expiry_ms = latest;
            dirty_ = true;
        }
    if (std::erase_if(signed_, [now_ms](const auto& kv) { return kv.first.signed_ms < before(now_ms, kReplayWindowMs); }) >
        0)
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
    st.signed_messages.reserve(signed_.size());
    for (const auto& [key, hash] : signed_)
        st.signed_messages.push_back({SessionId::of(key.sender), key.signed_ms, std::string(hash.view())});
    std::sort(st.signed_messages.begin(), st.signed_messages.end(), [](const auto& a, const auto& b) {
        return a.signed_ms != b.signed_ms ? a.signed_ms < b.signed_ms : a.hash < b.hash;
    });
    return st;
}

DeliveryLedger DeliveryLedger::from_state(const ReceiveState& state) {
    DeliveryLedger ledger;
    ledger.next_seq_ = state.next_seq;
    ledger.latest_ = state.latest;
    for (const auto& d : state.delivered)
        ledger.delivered_.insert_or_assign(retrieve::HashKey(d.hash), Delivered{d.seq, d.expiry_ms});
    for (const auto& m : state.signed_messages)
        ledger.signed_.insert_or_assign(SignedKey{m.sender.x25519(), m.signed_ms}, retrieve::HashKey(m.hash));
    for (const auto& c : state.cursors) {
        Start st;
        st.fallback = c.base;
        ledger.remember(c.last_hash, st, c.nodes);
    }
    ledger.dirty_ = false;
    return ledger;
}

}  // namespace session::detail
