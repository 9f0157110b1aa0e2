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
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

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
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return std::optional<ReceiveState>{};
        return unexpected(Errc::io_error, "client: state file " + path + ": cannot read: " + system_reason());
    }
    std::stringstream text;
    text << in.rdbuf();
    auto st = parse_receive_state(text.str(), path);
    if (!st) return unexpected(std::move(st).error());
    return std::optional<ReceiveState>(std::move(*st));
}

Result<ReceiveState> parse_receive_state(std::string_view text, std::string_view name) {
    const std::string path(name);
    auto bad = [&](const std::string& what) {
        return unexpected(Errc::invalid_argument,
                          "client: state file " + path + ": " + what + " (delete it to start over)");
    };
    // Depth-checked before anything walks it (STYLE.md §12): a state file is 4 levels deep.
    if (json_depth(text) > kMaxJsonDepth) return bad("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return bad("not JSON");
    if (!j.is_object()) return bad("expected a JSON object");
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

Result<void> save_receive_state(const std::string& path, const ReceiveState& state) {
    const std::string text = dump_receive_state(state);

    const std::string tmp = path + ".tmp";
    auto fail = [&](const std::string& what) {
        const std::string reason = system_reason();
        std::remove(tmp.c_str());
        return unexpected(Errc::io_error, "client: state file " + path + ": cannot " + what + ": " + reason);
    };
    // The descriptor is closed on every path; the last close is checked (it can report a write error).
    struct Fd {
        int fd;
        ~Fd() {
            if (fd >= 0) ::close(fd);
        }
        int close() { return ::close(std::exchange(fd, -1)); }
    } file{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (file.fd < 0) return fail("create " + tmp);
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
    return {};
}

Result<StateLock> StateLock::acquire(const std::string& state_path) {
    const std::string path = state_path + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return unexpected(Errc::io_error, "client: state file " + state_path + ": cannot create " + path + ": " +
                                              system_reason());
    StateLock lock(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return unexpected(Errc::invalid_argument, "client: state file " + state_path +
                                                          ": in use by another Client (" + path + " is locked)");
        return unexpected(Errc::io_error, "client: state file " + state_path + ": cannot lock " + path + ": " +
                                              system_reason());
    }
    return lock;
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

StateLock::~StateLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

}  // namespace session::detail
