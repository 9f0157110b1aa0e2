#pragma once
// receive_state.hpp (private): the Client's receive bookkeeping as a file, so a restarted process
// keeps the exactly-once guarantee (ClientOptions::state_path).
//
// What is kept is what receive() needs to filter and resume: every hash handed out (in the order it
// was handed out, with its expiry) and, per last_hash returned, where each polled member stopped.
// No message content, no key: hashes, swarm member keys and the account's Session ID only.
//
// Format: one JSON object, {"format":"session-client receive state","version":1,"account":"05…",
//   "next_seq":N,"latest":hash-or-"","delivered":[[hash, seq, expiry_ms], …],
//   "cursors":[{"last_hash", "base", "nodes":{hex: hash}}, …], "signed":[[sender "05…", signed_ms, hash], …]}
// (cursors oldest first). "signed" was added later and is optional when reading, so older files
// still load (older readers ignore it). "format" marks the file as ours, so a damaged state file
// (which the user may delete to start over) can be told from somebody else's file given by mistake
// (which is left alone and never overwritten); files written before the marker existed are
// recognised by their "version" and "account" fields. Written to a new temporary file beside the
// target (O_EXCL | O_NOFOLLOW: a planted symbolic link is refused), flushed to disk, renamed over
// it, and the directory flushed, so a crash leaves either the old or the new state, never half of one.
//
// Reading follows detail/file_read.hpp: a regular file only, at most kMaxStateFileBytes, checked
// before a byte is read. An empty file counts as a first run (so `--state "$(mktemp)"` works).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "session/error.hpp"
#include "session/retrieve.hpp"

namespace session::detail {

/// Largest state file read. An item costs about 70 bytes and items are forgotten after their
/// expiry (at most 14 days), so a real file stays far below this; a wrong path (/dev/zero, a
/// video) is refused before any byte is read.
inline constexpr std::uint64_t kMaxStateFileBytes = 64ULL * 1024 * 1024;
/// The value of the "format" field that marks a state file as written by this library.
inline constexpr std::string_view kStateFileFormat = "session-client receive state";

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

/// Reads `path`. nullopt when the file does not exist or is empty (a first run). Errors: io_error
/// (unreadable), invalid_argument naming the file and what is wrong with it: not a regular file,
/// larger than kMaxStateFileBytes, not a state file at all ("not a session-client state file",
/// without advice to delete it), or a damaged state file (a field of the wrong type, a hash that is
/// not 43 base64 characters, a sequence number out of order: "delete it to start over").
[[nodiscard]] Result<std::optional<ReceiveState>> load_receive_state(const std::string& path);

/// Writes `state` to `path` atomically, mode 0600: a new `path + ".tmp"` (O_CREAT | O_EXCL |
/// O_NOFOLLOW), fsync, rename over `path`, fsync of the directory. A leftover `.tmp` regular file
/// of ours (a crash mid-save) is replaced; a symbolic link or anything else there is refused.
/// Call it while holding the StateLock of `path` (the Client does). Errors: io_error naming the
/// path and the system's reason.
[[nodiscard]] Result<void> save_receive_state(const std::string& path, const ReceiveState& state);

/// An exclusive advisory lock (flock) on `state_path + ".lock"`, held while the object lives, so a
/// second Client using the same state file, in this process or another, is refused instead of both
/// overwriting each other's bookkeeping. (The lock is on a separate file because saving replaces
/// the state file itself.)
///
/// The lock file is removed when the lock is released. Removing a lock file is safe here because
/// both sides check names, not just descriptors: the holder unlinks the name *before* it releases
/// the lock, and acquire() counts a lock only if, after flock succeeded, the name still refers to
/// the very file it locked (same device and inode); otherwise it retries with a fresh file. So a
/// process that opened the old file just before the unlink and wins its flock after the release
/// notices that it holds an orphan and starts again, and two holders can never coexist. A lock
/// file left behind by a killed process is harmless: flock locks die with their process.
class StateLock {
public:
    /// Checks before creating anything (so a refused path leaves no lock file): an existing state
    /// file must be a regular file of at most kMaxStateFileBytes; the directory must exist and be
    /// writable (the state is saved by replacing the file). Errors: invalid_argument (the state
    /// path is a directory, device, FIFO… or too large; another Client holds the lock), io_error
    /// (missing or read-only directory, cannot create or lock the lock file, a symbolic link at
    /// the lock file's name).
    [[nodiscard]] static Result<StateLock> acquire(const std::string& state_path);
    StateLock(StateLock&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), dev_(other.dev_), ino_(other.ino_) {}
    StateLock& operator=(StateLock&& other) noexcept;
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;
    /// Removes the lock file (if it is still ours) and releases the lock.
    ~StateLock();

    /// For a process about to end with _exit() while a thread still uses a Client (session-cli's
    /// watch on Ctrl-C during a hung poll): removes the lock files of every StateLock alive in
    /// this process, as their destructors would. The locks themselves end with the process.
    /// Async-signal-unsafe (takes a mutex); thread-safe.
    static void remove_lock_files_before_exit() noexcept;

private:
    StateLock(int fd, std::string path, std::uint64_t dev, std::uint64_t ino);
    void release() noexcept;
    int fd_ = -1;
    std::string path_;  // the lock file
    std::uint64_t dev_ = 0, ino_ = 0;
};

}  // namespace session::detail
