#pragma once
// receive_state.hpp (private): the Client's receive bookkeeping as a file, so a restarted process
// keeps the exactly-once guarantee (ClientOptions::state_path).
//
// What is kept is what receive() needs to filter and resume: every hash handed out (in the order it
// was handed out, with its expiry) and, per last_hash returned, where each polled member stopped.
// No message content, no key: hashes, swarm member keys and the account's Session ID only.
//
// Format: one JSON object, {"version":1,"account":"05…","next_seq":N,"latest":hash-or-"",
//   "delivered":[[hash, seq, expiry_ms], …], "cursors":[{"last_hash", "base", "nodes":{hex: hash}}, …],
//   "signed":[[sender "05…", signed_ms, hash], …]} (cursors oldest first). "signed" was added later
// and is optional when reading, so older files still load (older readers ignore it). Written to a temporary file beside the target, flushed to disk and
// renamed over it, so a crash leaves either the old or the new state, never half of one.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "session/error.hpp"
#include "session/retrieve.hpp"

namespace session::detail {

struct ReceiveState {
    std::string account;  // "05…": a state file belongs to one account
    std::uint64_t next_seq = 1;
    struct Item {
        std::string hash;
        std::uint64_t seq;
        std::int64_t expiry_ms;
    };
    std::vector<Item> delivered;
    struct Cursor {
        std::string last_hash;
        std::string base;
        retrieve::NodeCursor nodes;  // on disk: {member Ed25519 key hex: hash}
    };
    std::vector<Cursor> cursors;  // oldest first
    std::string latest;           // the last_hash of the most recent receive (or page); "" = none
    struct Signed {
        SessionId sender;        // on disk: "05…"
        std::int64_t signed_ms;  // the signed send time
        std::string hash;        // the item first handed out as that message
    };
    std::vector<Signed> signed_messages;  // absent from files written before replays were tracked
};

/// Parses the text of a state file; `name` (the path) is used in error messages only.
/// Errors: invalid_argument as for load_receive_state.
[[nodiscard]] Result<ReceiveState> parse_receive_state(std::string_view text, std::string_view name);
/// The text of a state file: parse_receive_state(dump_receive_state(s)) gives `s` back.
std::string dump_receive_state(const ReceiveState& state);

/// Reads `path`. nullopt when the file does not exist (a first run). Errors: io_error (unreadable),
/// invalid_argument naming the file and what is wrong with it (not JSON, a field of the wrong
/// type, a hash that is not 43 base64 characters, a sequence number out of order).
[[nodiscard]] Result<std::optional<ReceiveState>> load_receive_state(const std::string& path);

/// Writes `state` to `path` atomically (temporary file, fsync, rename), mode 0600.
/// Errors: io_error naming the path and the system's reason.
[[nodiscard]] Result<void> save_receive_state(const std::string& path, const ReceiveState& state);

/// An exclusive advisory lock (flock) on `state_path + ".lock"`, held while the object lives, so a
/// second Client using the same state file, in this process or another, is refused instead of both
/// overwriting each other's bookkeeping. (The lock is on a separate file because saving replaces
/// the state file itself.)
class StateLock {
public:
    /// Errors: io_error (cannot create the lock file), invalid_argument (another Client holds it).
    [[nodiscard]] static Result<StateLock> acquire(const std::string& state_path);
    StateLock(StateLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    StateLock& operator=(StateLock&& other) noexcept;
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;
    ~StateLock();

private:
    explicit StateLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace session::detail
