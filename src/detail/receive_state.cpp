// receive_state.cpp: load and atomically save the Client's receive bookkeeping.
#include "detail/receive_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "detail/file_read.hpp"
#include "detail/json_limited.hpp"
#include "session/retrieve.hpp"

namespace session::detail {

namespace {

using nlohmann::json;

bool is_hex(const std::string& s, std::size_t size) {
    return s.size() == size &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string system_reason() { return std::strerror(errno); }

}  // namespace

Result<std::optional<ReceiveState>> load_receive_state(const std::string& path) {
    auto text = read_file_if_exists(path, ReadRules{.max_bytes = kMaxStateFileBytes}, "client: state file");
    if (!text) return unexpected(std::move(text).error());
    if (!*text || (*text)->empty()) return std::optional<ReceiveState>{};  // a first run
    auto st = parse_receive_state(**text, path);
    if (!st) return unexpected(std::move(st).error());
    return std::optional<ReceiveState>(std::move(*st));
}

Result<ReceiveState> parse_receive_state(std::string_view text, std::string_view name) {
    const std::string path(name);
    // Only a file that is clearly ours may be called damaged, with the advice to delete it; any
    // other file was given by mistake and is someone's data.
    auto foreign = [&](const std::string& what) {
        return unexpected(Errc::invalid_argument, "client: state file " + path + ": not a session-client state file (" +
                                                      what + "); it is left untouched: give the path of a state "
                                                             "file or of a file that does not exist yet");
    };
    auto bad = [&](const std::string& what) {
        return unexpected(Errc::invalid_argument, "client: state file " + path + ": " + what +
                                                      " (a damaged session-client state file: delete it to start over)");
    };
    const std::string marker = "\"format\":" + json(std::string(kStateFileFormat)).dump();
    // Depth-checked before anything walks it (STYLE.md §12): a state file is 4 levels deep.
    if (json_depth(text) > kMaxJsonDepth) {
        const std::string what = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        return text.find(marker) != std::string_view::npos ? bad(what) : foreign(what);
    }
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        // A truncated or garbled file of ours still shows its marker, or the opening every file
        // written before the marker has (keys are written sorted: "account" first).
        if (text.find(marker) != std::string_view::npos || text.starts_with("{\"account\":\"05")) return bad("not JSON");
        return foreign("not JSON");
    }
    if (!j.is_object()) return foreign("expected a JSON object");
    const bool marked = j.contains("format") && j["format"] == std::string(kStateFileFormat);
    const bool legacy = !j.contains("format") && j.contains("version") && j.contains("account");
    if (!marked && !legacy) return foreign("no \"format\": \"" + std::string(kStateFileFormat) + "\" field");
    if (!j.contains("version") || j["version"] != 1) return bad("version: expected 1");
    ReceiveState st;
    if (!j.contains("account") || !j["account"].is_string()) return bad("account: expected a Session ID");
    st.account = j["account"].get<std::string>();
    if (!j.contains("next_seq") || !j["next_seq"].is_number_unsigned() || j["next_seq"].get<std::uint64_t>() == 0)
        return bad("next_seq: expected a number from 1");
    st.next_seq = j["next_seq"].get<std::uint64_t>();

    const auto& delivered = j.contains("delivered") ? j["delivered"] : json();
    if (!delivered.is_array()) return bad("delivered: expected an array");
    st.delivered.reserve(delivered.size());
    std::uint64_t prev = 0;
    for (std::size_t i = 0; i < delivered.size(); ++i) {
        const auto& d = delivered[i];
        const std::string where = "delivered[" + std::to_string(i) + "]";
        if (!d.is_array() || d.size() != 3 || !d[0].is_string() || !d[1].is_number_unsigned() ||
            !d[2].is_number_integer())
            return bad(where + ": expected [hash, seq, expiry_ms]");
        ReceiveState::Item item{d[0].get<std::string>(), d[1].get<std::uint64_t>(), d[2].get<std::int64_t>()};
        if (!retrieve::is_message_hash(item.hash)) return bad(where + ": hash: expected 43 base64 characters");
        if (item.seq <= prev || item.seq >= st.next_seq)
            return bad(where + ": seq " + std::to_string(item.seq) + " out of order");
        prev = item.seq;
        st.delivered.push_back(std::move(item));
    }

    const auto& cursors = j.contains("cursors") ? j["cursors"] : json();
    if (!cursors.is_array()) return bad("cursors: expected an array");
    for (std::size_t i = 0; i < cursors.size(); ++i) {
        const auto& c = cursors[i];
        const std::string where = "cursors[" + std::to_string(i) + "]";
        if (!c.is_object() || !c.contains("last_hash") || !c["last_hash"].is_string() || !c.contains("base") ||
            !c["base"].is_string() || !c.contains("nodes") || !c["nodes"].is_object())
            return bad(where + ": expected {last_hash, base, nodes}");
        ReceiveState::Cursor cur{c["last_hash"].get<std::string>(), c["base"].get<std::string>(), {}};
        if (!retrieve::is_message_hash(cur.last_hash)) return bad(where + ".last_hash: expected 43 base64 characters");
        if (!cur.base.empty() && !retrieve::is_message_hash(cur.base)) return bad(where + ".base: expected empty or a hash");
        for (const auto& [node, hash] : c["nodes"].items()) {
            auto key = from_hex_array<32>(node);
            if (!is_hex(node, 64) || !key) return bad(where + ".nodes: expected 64-hex node keys");
            if (!hash.is_string() || !retrieve::is_message_hash(hash.get<std::string>()))
                return bad(where + ".nodes." + node.substr(0, 8) + "…: expected a hash");
            cur.nodes.last_hash.emplace(Ed25519PublicKey{*key}, hash.get<std::string>());
        }
        st.cursors.push_back(std::move(cur));
    }
    if (j.contains("signed")) {
        const auto& sig = j["signed"];
        if (!sig.is_array()) return bad("signed: expected an array");
        st.signed_messages.reserve(sig.size());
        for (std::size_t i = 0; i < sig.size(); ++i) {
            const auto& e = sig[i];
            const std::string where = "signed[" + std::to_string(i) + "]";
            if (!e.is_array() || e.size() != 3 || !e[0].is_string() || !e[1].is_number_integer() || !e[2].is_string() ||
                (e[1].is_number_unsigned() && e[1].get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
                return bad(where + ": expected [sender, signed_ms, hash]");
            auto sender = SessionId::parse(e[0].get<std::string>());
            if (!sender) return bad(where + ": sender: expected a Session ID");
            const auto hash = e[2].get<std::string>();
            if (!retrieve::is_message_hash(hash)) return bad(where + ": hash: expected 43 base64 characters");
            st.signed_messages.push_back({*sender, e[1].get<std::int64_t>(), hash});
        }
    }
    if (j.contains("latest")) {
        if (!j["latest"].is_string()) return bad("latest: expected a hash");
        st.latest = j["latest"].get<std::string>();
        if (!st.latest.empty() && !retrieve::is_message_hash(st.latest)) return bad("latest: expected empty or a hash");
    }
    return st;
}

std::string dump_receive_state(const ReceiveState& state) {
    json j;
    j["format"] = std::string(kStateFileFormat);
    j["version"] = 1;
    j["account"] = state.account;
    j["next_seq"] = state.next_seq;
    j["latest"] = state.latest;
    json delivered = json::array();
    for (const auto& d : state.delivered) delivered.push_back(json::array({d.hash, d.seq, d.expiry_ms}));
    j["delivered"] = std::move(delivered);
    json cursors = json::array();
    for (const auto& c : state.cursors) {
        json nodes = json::object();
        for (const auto& [node, hash] : c.nodes.last_hash) nodes[to_hex(node.bytes)] = hash;
        cursors.push_back({{"last_hash", c.last_hash}, {"base", c.base}, {"nodes", std::move(nodes)}});
    }
    j["cursors"] = std::move(cursors);
    json sig = json::array();
    for (const auto& m : state.signed_messages) sig.push_back(json::array({m.sender.hex(), m.signed_ms, m.hash}));
    j["signed"] = std::move(sig);
    return j.dump();
}

namespace {

// The directory holding `path` ("." for a bare file name).
std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// Flushes a directory, so a rename inside it survives a crash.
bool sync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0 || errno == EINVAL;  // some file systems cannot sync a directory
    ::close(fd);
    return ok;
}

// Every StateLock alive in this process (by descriptor: moving a lock keeps its descriptor), for
// remove_lock_files_before_exit().
struct HeldLock {
    std::string path;
    std::uint64_t dev, ino;
};
std::mutex& held_mutex() {
    static std::mutex m;
    return m;
}
std::map<int, HeldLock>& held_locks() {
    static std::map<int, HeldLock> locks;
    return locks;
}

// Removes `path` if it still names the file (dev, ino): never somebody else's lock file.
void unlink_if_same(const std::string& path, std::uint64_t dev, std::uint64_t ino) noexcept {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_dev) == dev &&
        static_cast<std::uint64_t>(st.st_ino) == ino)
        ::unlink(path.c_str());
}

// Attempts at taking a lock whose file keeps being replaced under us (each replacement means
// another holder came and went, so a few attempts always suffice in practice).
constexpr int kLockAttempts = 16;

}  // namespace

Result<void> save_receive_state(const std::string& path, const ReceiveState& state) {
    const std::string text = dump_receive_state(state);

    const std::string tmp = path + ".tmp";
    auto fail = [&](const std::string& what, bool remove_tmp = true) {
        const std::string reason = system_reason();
        if (remove_tmp) std::remove(tmp.c_str());
        return unexpected(Errc::io_error, "client: state file " + path + ": cannot " + what + ": " + reason);
    };
    // The descriptor is closed on every path; the last close is checked (it can report a write error).
    struct Fd {
        int fd;
        ~Fd() {
            if (fd >= 0) ::close(fd);
        }
        int close() { return ::close(std::exchange(fd, -1)); }
    };
    // O_EXCL | O_NOFOLLOW: never write through a file or symbolic link somebody placed at tmp.
    constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    Fd file{::open(tmp.c_str(), kCreate, 0600)};
    if (file.fd < 0 && errno == EEXIST) {
        // Our own leftover from a save that crashed (the caller holds the lock, so no save of ours
        // is running) is a regular file owned by us; anything else is refused.
        struct stat st {};
        if (::lstat(tmp.c_str(), &st) == 0 && (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid())) {
            errno = EEXIST;
            return unexpected(Errc::io_error, "client: state file " + path + ": " + tmp + " exists and is " +
                                                  (S_ISREG(st.st_mode) ? std::string("owned by another user")
                                                                       : std::string(file_type_name(st.st_mode))) +
                                                  "; refusing to write through it");
        }
        ::unlink(tmp.c_str());
        file.fd = ::open(tmp.c_str(), kCreate, 0600);
    }
    if (file.fd < 0) return fail("create " + tmp, /*remove_tmp=*/false);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(file.fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("write");
        }
        done += static_cast<std::size_t>(n);
    }
    // On disk before the rename, so the rename never exposes an empty or partial file.
    if (::fsync(file.fd) != 0) return fail("flush");
    if (file.close() != 0) return fail("close");
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail("replace");
    // And the rename itself on disk, so after a crash the file is not the old one again.
    if (!sync_directory(directory_of(path))) return fail("flush the directory of", /*remove_tmp=*/false);
    return {};
}

StateLock::StateLock(int fd, std::string path, std::uint64_t dev, std::uint64_t ino)
        : fd_(fd), path_(std::move(path)), dev_(dev), ino_(ino) {
    std::lock_guard lk(held_mutex());
    held_locks()[fd_] = HeldLock{path_, dev_, ino_};
}

Result<StateLock> StateLock::acquire(const std::string& state_path) {
    const std::string prefix = "client: state file " + state_path + ": ";
    // Everything that can be refused is refused before the lock file is created.
    if (state_path.empty()) return unexpected(Errc::invalid_argument, "client: state file: expected a path, got none");
    struct stat st {};
    if (::stat(state_path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return unexpected(Errc::invalid_argument, prefix + "is " + std::string(file_type_name(st.st_mode)) +
                                                          "; expected a regular file");
        if (static_cast<std::uint64_t>(st.st_size) > kMaxStateFileBytes)
            return unexpected(Errc::invalid_argument, prefix + "is larger than the limit of " +
                                                          std::to_string(kMaxStateFileBytes) + " bytes (" +
                                                          std::to_string(st.st_size) + " bytes)");
    } else if (errno != ENOENT) {
        return unexpected(Errc::io_error, prefix + "cannot stat: " + system_reason());
    }
    const std::string dir = directory_of(state_path);
    struct stat dst {};
    if (::stat(dir.c_str(), &dst) != 0)
        return unexpected(Errc::io_error, prefix + "cannot use directory " + dir + ": " + system_reason());
    if (!S_ISDIR(dst.st_mode))
        return unexpected(Errc::io_error, prefix + dir + " is " + std::string(file_type_name(dst.st_mode)) +
                                              ", not a directory");
    if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
        return unexpected(Errc::io_error, prefix + "cannot write in directory " + dir + ": " + system_reason() +
                                              " (the state is saved by replacing the file)");

    const std::string path = state_path + ".lock";
    for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == ELOOP)
                return unexpected(Errc::io_error, prefix + path + " is a symbolic link; refusing to use it as a lock");
            return unexpected(Errc::io_error, prefix + "cannot create " + path + ": " + system_reason());
        }
        struct stat mine {};
        if (::fstat(fd, &mine) != 0 || !S_ISREG(mine.st_mode)) {
            ::close(fd);
            return unexpected(Errc::io_error, prefix + path + " is not a regular file; refusing to use it as a lock");
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int e = errno;
            ::close(fd);
            if (e == EWOULDBLOCK)
                return unexpected(Errc::invalid_argument,
                                  prefix + "in use by another Client (" + path + " is locked)");
            errno = e;
            return unexpected(Errc::io_error, prefix + "cannot lock " + path + ": " + system_reason());
        }
        // The lock counts only if the name still refers to the file we locked: its last holder
        // may have removed it (see the class comment) between our open and our flock.
        struct stat named {};
        if (::lstat(path.c_str(), &named) == 0 && named.st_dev == mine.st_dev && named.st_ino == mine.st_ino)
            return StateLock(fd, path, static_cast<std::uint64_t>(mine.st_dev), static_cast<std::uint64_t>(mine.st_ino));
        ::close(fd);
    }
    return unexpected(Errc::io_error, prefix + "cannot lock " + path + ": it was replaced " +
                                          std::to_string(kLockAttempts) + " times while being locked");
}

void StateLock::release() noexcept {
    if (fd_ < 0) return;
    {
        std::lock_guard lk(held_mutex());
        held_locks().erase(fd_);
    }
    unlink_if_same(path_, dev_, ino_);  // the name first, while the lock is still held
    ::close(std::exchange(fd_, -1));    // closing the descriptor releases the lock
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

StateLock::~StateLock() { release(); }

void StateLock::remove_lock_files_before_exit() noexcept {
    std::lock_guard lk(held_mutex());
    for (const auto& [fd, lock] : held_locks()) unlink_if_same(lock.path, lock.dev, lock.ino);
}

}  // namespace session::detail
