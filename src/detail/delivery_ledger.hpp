#pragma once
// delivery_ledger.hpp (private): the Client's exactly-once bookkeeping for receive().
//
// Each swarm member orders messages by its own arrival order, so a hash is a resume point only for
// the members that returned it. The ledger therefore keeps, per last_hash the Client handed out:
//   * where each polled member stopped (a retrieve::NodeCursor), and where a member never polled
//     from there starts (`base`): "" when the caller's chain of last_hashes began with "" (the
//     member's whole history, as session-desktop asks a node it has no last hash for), or the
//     foreign last_hash the chain began with;
//   * every hash handed out, numbered in the order it was handed out (`seq`), until its message
//     expires: a caller resuming from last_hash L has everything numbered up to L's number, so
//     items a new or rewound member returns again are recognised and filtered out.
// It also keeps, per message handed out, its sender and signed send time with its hash: the same
// pair under another hash is the same signed content re-wrapped in a new envelope (a replay).
// A last_hash the ledger never handed out (foreign: saved by another process, or from before a
// restart without a state file) is passed to the members as is; nothing is filtered but itself.
//
// Not thread-safe: the Client guards it with its lock (never held across network I/O).
// Persistence: to_state()/from_state() convert to and from detail::ReceiveState (the state file).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "detail/receive_state.hpp"
#include "session/retrieve.hpp"

namespace session::detail {

/// Resume points kept (one per last_hash handed out, oldest dropped first). Each is a few member
/// keys; 256 covers any realistic number of independent consumers of one Client.
inline constexpr std::size_t kMaxResumePoints = 256;
/// A recorded expiry is at most this far after the time it is recorded: the longest TTL of a 1:1
/// message (14 days, storage-server.md §4.7) plus a day for clocks that disagree. A node chooses
/// the `expiration` it reports; without the clamp a hostile one could make the ledger (and the
/// state file) keep its junk forever.
inline constexpr std::int64_t kMaxExpiryAheadMs = (14LL + 1) * 24 * 60 * 60 * 1000;
/// (sender, signed send time) pairs are kept this long after the signed time. The Client refuses
/// messages signed longer ago than kMaxSignedAge (14 + 1 days, client.hpp), so a replay of an older
/// message needs no entry.
inline constexpr std::int64_t kReplayWindowMs = (14LL + 1) * 24 * 60 * 60 * 1000;
/// Delivered hashes are forgotten this long after their message expires: nodes purge expired
/// messages only every 10 s (storage-server.md §5.4), so one may still be returned just after expiry.
inline constexpr std::int64_t kForgetAfterExpiryMs = 5 * 60 * 1000;

class DeliveryLedger {
public:
    /// Where one receive call starts, from the caller's last_hash (`since`).
    struct Start {
        std::string since;
        retrieve::NodeCursor cursor;             ///< where the members polled up to `since` stopped
        std::optional<std::uint64_t> since_seq;  ///< `since` was handed out by us, as item number since_seq
        std::string base;                        ///< where members without a cursor entry start
        std::string fallback;                    ///< what the poll asks such members from
    };

    /// The start of a receive from `since` ("" or a 43-character hash: the caller checks).
    /// A `since` handed out by this ledger resumes its members' cursors and lets members without
    /// an entry start from `base` (their older items are filtered by is_new); a foreign one starts
    /// every member after `since` itself.
    Start start(std::string_view since) const;

    /// Whether `hash` is new to a caller that started at `start`: not `since` itself (a node that
    /// ignores last_hash semantics), and not handed out at or before `since`.
    bool is_new(const Start& start, std::string_view hash) const;

    /// Records `hash` as handed out now (the next number), kept until expiry_ms + kForgetAfterExpiryMs,
    /// with expiry_ms clamped to now_ms + kMaxExpiryAheadMs.
    void record(std::string_view hash, std::int64_t expiry_ms, std::int64_t now_ms);

    /// Whether the message `sender` signed at `signed_ms`, stored as `hash`, repeats one already
    /// handed out under another hash. (The same hash again is not a replay: it is the same stored
    /// item, which is_new() decides about.)
    bool is_replay(const SessionId& sender, std::int64_t signed_ms, std::string_view hash) const;
    /// Records that `hash` is the message `sender` signed at `signed_ms` (the first one wins), kept
    /// until signed_ms + kReplayWindowMs.
    void record_signed(const SessionId& sender, std::int64_t signed_ms, std::string_view hash);

    /// Remembers, for a caller that passes `last_hash` back, where each member stopped (`cursor`)
    /// and where new members start (start.fallback). Keeps the newest kMaxResumePoints.
    void remember(const std::string& last_hash, const Start& start, const retrieve::NodeCursor& cursor);

    /// The last_hash the most recent receive (or page) returned ("" = none): resume_hash().
    const std::string& latest() const { return latest_; }
    /// Sets latest() (an empty hash leaves it unchanged).
    void set_latest(const std::string& hash);

    /// Forgets delivered hashes whose message expired more than kForgetAfterExpiryMs before now_ms,
    /// and signed pairs older than kReplayWindowMs.
    void prune(std::int64_t now_ms);

    /// Whether anything changed since the last mark_saved() (or since from_state()).
    bool dirty() const { return dirty_; }
    void mark_saved() { dirty_ = false; }

    std::size_t delivered_count() const { return delivered_.size(); }
    std::size_t resume_point_count() const { return resume_.size(); }
    std::size_t signed_count() const { return signed_.size(); }

    /// The ledger as a state file's content, for `account` ("05…"): delivered items in the order
    /// they were handed out, resume points oldest first.
    ReceiveState to_state(const std::string& account) const;
    /// The ledger saved in `state` (the caller checks state.account).
    static DeliveryLedger from_state(const ReceiveState& state);

private:
    struct Delivered {
        std::uint64_t seq;       // order in which the item was handed out (latest time)
        std::int64_t expiry_ms;  // forgotten after this: the swarm no longer holds it
    };
    struct Resume {
        retrieve::NodeCursor nodes;
        std::string base;
        bool operator==(const Resume&) const = default;
    };

    struct SignedKey {
        X25519PublicKey sender;
        std::int64_t signed_ms;
        bool operator==(const SignedKey&) const = default;
    };
    struct SignedKeyHasher {
        std::size_t operator()(const SignedKey& k) const noexcept;
    };

    std::unordered_map<retrieve::HashKey, Delivered, retrieve::HashKey::Hasher> delivered_;
    std::unordered_map<SignedKey, retrieve::HashKey, SignedKeyHasher> signed_;
    std::uint64_t next_seq_ = 1;
    std::map<std::string, Resume, std::less<>> resume_;
    std::deque<std::string> resume_order_;  // oldest first
    std::string latest_;
    bool dirty_ = false;
};

}  // namespace session::detail
