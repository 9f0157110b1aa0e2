#include "detail/delivery_ledger.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

using namespace session;
using detail::DeliveryLedger;

namespace {

// A 43-character hash made from a number.
std::string h(int n) {
    ByteArray<32> b{};
    b[0] = static_cast<std::uint8_t>(n);
    b[1] = static_cast<std::uint8_t>(n >> 8);
    b[31] = 0x77;
    return base64_encode_unpadded(b);
}

Ed25519PublicKey member(std::uint8_t fill) {
    Ed25519PublicKey k;
    k.bytes.fill(fill);
    return k;
}

retrieve::NodeCursor cursor(std::initializer_list<std::pair<std::uint8_t, std::string>> entries) {
    retrieve::NodeCursor c;
    for (const auto& [m, hash] : entries) c.last_hash.emplace(member(m), hash);
    return c;
}

constexpr std::int64_t kNow = 1'699'000'000'000;
constexpr std::int64_t kExpiry = kNow + 7LL * 24 * 60 * 60 * 1000;

// A ledger after one receive from "": h(1..3) handed out, members A and B both stopped at h(3).
DeliveryLedger after_first_receive() {
    DeliveryLedger l;
    const auto s0 = l.start("");
    for (int i = 1; i <= 3; ++i) l.record(h(i), kExpiry + i, kNow);
    l.remember(h(3), s0, cursor({{0xa, h(3)}, {0xb, h(3)}}));
    l.set_latest(h(3));
    return l;
}

}  // namespace

TEST_CASE("delivery_ledger: a first receive starts every member from its whole history", "[delivery_ledger]") {
    DeliveryLedger l;
    const auto s = l.start("");
    CHECK(s.since.empty());
    CHECK(s.cursor.last_hash.empty());
    CHECK_FALSE(s.since_seq);
    CHECK(s.base.empty());
    CHECK(s.fallback.empty());
    CHECK(l.is_new(s, h(1)));
    CHECK_FALSE(l.dirty());
}

TEST_CASE("delivery_ledger: a returned last_hash resumes each member where it stopped", "[delivery_ledger]") {
    auto l = after_first_receive();
    const auto s = l.start(h(3));
    CHECK(s.cursor == cursor({{0xa, h(3)}, {0xb, h(3)}}));
    REQUIRE(s.since_seq);
    CHECK(*s.since_seq == 3);
    CHECK(s.base.empty());
    CHECK(s.fallback.empty());  // the chain began with "": a new member is read in full…
    // …and everything handed out up to h(3) is filtered from what it returns.
    for (int i = 1; i <= 3; ++i) CHECK_FALSE(l.is_new(s, h(i)));
    CHECK(l.is_new(s, h(4)));

    // A resume point from the middle: h(2) was handed out in the same call, but only the call's
    // last hash is a resume point; h(2) still filters what was handed out up to it.
    const auto mid = l.start(h(2));
    CHECK(mid.cursor.last_hash.empty());
    REQUIRE(mid.since_seq);
    CHECK(*mid.since_seq == 2);
    CHECK(mid.fallback == h(2));  // no resume point: members start after h(2) itself
    CHECK_FALSE(l.is_new(mid, h(1)));
    CHECK_FALSE(l.is_new(mid, h(2)));
    CHECK(l.is_new(mid, h(3)));  // handed out after h(2): new to a caller at h(2)
}

TEST_CASE("delivery_ledger: a member polled for the first time brings only what the caller lacks",
          "[delivery_ledger]") {
    auto l = after_first_receive();
    const auto s = l.start(h(3));
    // Member C was never polled: asked from s.fallback (""), it returns its whole history, in its
    // own order, with h(5) that A and B missed.
    CHECK_FALSE(s.cursor.last_hash.contains(member(0xc)));
    std::vector<std::string> fresh;
    for (int i : {2, 1, 5, 3})
        if (l.is_new(s, h(i))) fresh.push_back(h(i));
    CHECK(fresh == std::vector<std::string>{h(5)});
}

TEST_CASE("delivery_ledger: a rewound member's old items are filtered; another consumer's are not",
          "[delivery_ledger]") {
    auto l = after_first_receive();
    const auto s = l.start(h(3));
    // Member A forgot its position (restarted, or the cursor points at a hash it dropped) and
    // answers from the start.
    for (int i = 1; i <= 3; ++i) CHECK_FALSE(l.is_new(s, h(i)));
    // A second consumer of the same Client, resuming from h(3) too, got h(4) in the meantime: the
    // first consumer has not seen h(4), so it is still new to it.
    const auto other = l.start(h(3));
    l.record(h(4), kExpiry + 4, kNow);
    l.remember(h(4), other, cursor({{0xa, h(4)}, {0xb, h(4)}}));
    CHECK(l.is_new(s, h(4)));
    CHECK_FALSE(l.is_new(l.start(h(4)), h(4)));
}

TEST_CASE("delivery_ledger: a foreign last_hash is passed to every member and filters only itself",
          "[delivery_ledger]") {
    auto l = after_first_receive();
    const std::string foreign = h(900);
    const auto s = l.start(foreign);
    CHECK(s.cursor.last_hash.empty());
    CHECK_FALSE(s.since_seq);
    CHECK(s.base == foreign);
    CHECK(s.fallback == foreign);
    CHECK_FALSE(l.is_new(s, foreign));  // a node that ignores last_hash returns it again
    CHECK(l.is_new(s, h(1)));           // no number to compare with: nothing else is filtered

    // The chain that began with the foreign hash keeps it as the base for members polled later:
    // they start after it, not from their whole history (which would not be filtered).
    l.record(h(6), kExpiry + 6, kNow);
    l.remember(h(6), s, cursor({{0xa, h(6)}}));
    const auto next = l.start(h(6));
    CHECK(next.base == foreign);
    CHECK(next.fallback == foreign);
    CHECK(next.cursor == cursor({{0xa, h(6)}}));
}

TEST_CASE("delivery_ledger: delivered hashes are forgotten after their expiry plus a grace period",
          "[delivery_ledger]") {
    auto l = after_first_receive();
    l.mark_saved();
    l.prune(kExpiry + 1 + detail::kForgetAfterExpiryMs);  // h(1)'s last moment
    CHECK(l.delivered_count() == 3);
    CHECK_FALSE(l.dirty());
    l.prune(kExpiry + 2 + detail::kForgetAfterExpiryMs);  // h(1) gone, h(2) and h(3) kept
    CHECK(l.delivered_count() == 2);
    CHECK(l.dirty());
    CHECK_FALSE(l.start(h(1)).since_seq);
    CHECK(l.start(h(2)).since_seq == std::optional<std::uint64_t>(2));
    l.prune(kExpiry + 10 * detail::kForgetAfterExpiryMs);
    CHECK(l.delivered_count() == 0);
    // The resume point outlives the hashes (the members' cursors stay valid resume points).
    CHECK(l.start(h(3)).cursor == cursor({{0xa, h(3)}, {0xb, h(3)}}));
}

TEST_CASE("delivery_ledger: a node-chosen expiry is clamped to now + 14 days + a day", "[delivery_ledger][reject]") {
    DeliveryLedger l;
    // A hostile node reports its junk as expiring at the end of time (or in a year).
    l.record(h(1), std::numeric_limits<std::int64_t>::max(), kNow);
    l.record(h(2), kNow + 365LL * 24 * 60 * 60 * 1000, kNow);
    l.record(h(3), kNow + 1000, kNow);  // an honest expiry is kept as it is
    const auto st = l.to_state("05" + std::string(64, 'c'));
    REQUIRE(st.delivered.size() == 3);
    CHECK(st.delivered[0].expiry_ms == kNow + detail::kMaxExpiryAheadMs);
    CHECK(st.delivered[1].expiry_ms == kNow + detail::kMaxExpiryAheadMs);
    CHECK(st.delivered[2].expiry_ms == kNow + 1000);
    l.prune(kNow + detail::kMaxExpiryAheadMs + detail::kForgetAfterExpiryMs + 1);
    CHECK(l.delivered_count() == 0);
    // An expiry restored from a file written before the clamp is clamped by the next prune.
    detail::ReceiveState old_file;
    old_file.next_seq = 2;
    old_file.delivered = {{h(9), 1, std::numeric_limits<std::int64_t>::max()}};
    auto restored = DeliveryLedger::from_state(old_file);
    restored.prune(kNow);
    CHECK(restored.dirty());
    CHECK(restored.to_state("05").delivered[0].expiry_ms == kNow + detail::kMaxExpiryAheadMs);
    // A clock at the end of time does not overflow.
    l.record(h(4), 5, std::numeric_limits<std::int64_t>::max());
    CHECK(l.to_state("05").delivered.back().expiry_ms == 5);
}

TEST_CASE("delivery_ledger: the same sender and signed time under another hash is a replay", "[delivery_ledger]") {
    DeliveryLedger l;
    const auto alice = SessionId::of(X25519PublicKey{ByteArray<32>{1}});
    const auto bob = SessionId::of(X25519PublicKey{ByteArray<32>{2}});
    CHECK_FALSE(l.is_replay(alice, kNow, h(1)));
    l.record_signed(alice, kNow, h(1));
    CHECK(l.dirty());
    CHECK_FALSE(l.is_replay(alice, kNow, h(1)));  // the same stored item again: not a replay
    CHECK(l.is_replay(alice, kNow, h(2)));         // re-wrapped under a new hash: a replay
    CHECK_FALSE(l.is_replay(alice, kNow + 1, h(2)));
    CHECK_FALSE(l.is_replay(bob, kNow, h(2)));
    // The first hash recorded for a pair stays its hash.
    l.record_signed(alice, kNow, h(3));
    CHECK(l.is_replay(alice, kNow, h(3)));
    CHECK(l.signed_count() == 1);

    // Kept for kReplayWindowMs after the signed time, then forgotten (such messages are refused
    // as too old by then).
    l.record_signed(bob, kNow + 1000, h(4));
    l.prune(kNow + detail::kReplayWindowMs);
    CHECK(l.signed_count() == 2);
    l.prune(kNow + detail::kReplayWindowMs + 1);
    CHECK(l.signed_count() == 1);
    CHECK_FALSE(l.is_replay(alice, kNow, h(2)));
    CHECK(l.is_replay(bob, kNow + 1000, h(5)));
    // A clock at either end of time does not overflow.
    l.prune(std::numeric_limits<std::int64_t>::min());
    CHECK(l.signed_count() == 1);
    l.prune(std::numeric_limits<std::int64_t>::max());
    CHECK(l.signed_count() == 0);
}

TEST_CASE("delivery_ledger: the oldest resume points are dropped beyond the cap", "[delivery_ledger]") {
    DeliveryLedger l;
    const auto s0 = l.start("");
    for (int i = 1; i <= static_cast<int>(detail::kMaxResumePoints) + 1; ++i) {
        l.record(h(i), kExpiry, kNow);
        l.remember(h(i), s0, cursor({{0xa, h(i)}}));
    }
    CHECK(l.resume_point_count() == detail::kMaxResumePoints);
    // h(1) lost its resume point but is still a delivered item: members start after it, and what
    // was handed out up to it is filtered.
    const auto oldest = l.start(h(1));
    CHECK(oldest.cursor.last_hash.empty());
    CHECK(oldest.since_seq == std::optional<std::uint64_t>(1));
    CHECK(oldest.fallback == h(1));
    CHECK(l.start(h(2)).cursor == cursor({{0xa, h(2)}}));

    // Remembering the same point again changes nothing (and does not count as a change).
    l.mark_saved();
    l.remember(h(2), s0, cursor({{0xa, h(2)}}));
    CHECK_FALSE(l.dirty());
    CHECK(l.resume_point_count() == detail::kMaxResumePoints);
    l.set_latest("");
    l.set_latest(l.latest());
    CHECK_FALSE(l.dirty());
}

TEST_CASE("delivery_ledger: a ledger restored from its saved state behaves the same", "[delivery_ledger]") {
    auto l = after_first_receive();
    const auto foreign = l.start(h(900));
    l.record(h(7), kExpiry + 7, kNow);
    l.remember(h(7), foreign, cursor({{0xc, h(7)}}));
    const std::string account = "05" + std::string(64, 'c');
    const auto alice = SessionId::of(X25519PublicKey{ByteArray<32>{1}});
    l.record_signed(alice, kNow + 5, h(7));
    l.record_signed(alice, kNow + 2, h(3));

    const auto state = l.to_state(account);
    REQUIRE(state.signed_messages.size() == 2);
    CHECK(state.signed_messages[0].signed_ms == kNow + 2);  // by signed time
    CHECK(state.signed_messages[0].sender == alice);
    CHECK(state.signed_messages[1].hash == h(7));
    CHECK(state.account == account);
    CHECK(state.next_seq == 5);
    CHECK(state.latest == h(3));
    REQUIRE(state.delivered.size() == 4);
    CHECK(state.delivered.front().hash == h(1));  // in the order handed out
    CHECK(state.delivered.back().hash == h(7));
    REQUIRE(state.cursors.size() == 2);
    CHECK(state.cursors[0].last_hash == h(3));  // oldest first
    CHECK(state.cursors[1].base == h(900));

    // Through the state file's text, as a restarted process reads it.
    auto parsed = detail::parse_receive_state(detail::dump_receive_state(state), "test");
    REQUIRE(parsed);
    const auto back = DeliveryLedger::from_state(*parsed);
    CHECK_FALSE(back.dirty());
    CHECK(back.latest() == h(3));
    CHECK(detail::dump_receive_state(back.to_state(account)) == detail::dump_receive_state(state));
    for (const auto& since : {h(3), h(7), h(900), std::string()}) {
        const auto a = l.start(since), b = back.start(since);
        CHECK(a.cursor == b.cursor);
        CHECK(a.since_seq == b.since_seq);
        CHECK(a.base == b.base);
        CHECK(a.fallback == b.fallback);
        for (int i : {1, 2, 3, 4, 7, 900}) CHECK(l.is_new(a, h(i)) == back.is_new(b, h(i)));
    }
    CHECK(back.is_replay(alice, kNow + 5, h(8)));
    CHECK_FALSE(back.is_replay(alice, kNow + 5, h(7)));
    CHECK(back.signed_count() == 2);
    // Numbering continues after the saved items.
    auto more = back;
    more.record(h(8), kExpiry, kNow);
    CHECK(more.start(h(8)).since_seq == std::optional<std::uint64_t>(5));
}
