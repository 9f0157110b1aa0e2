// session-cli daemon as a separate process on the local network, driven over its socket the way
// another program would (docs/daemon.md): kill -9 while sends are queued and while messages
// arrive, then restart, counting every message on both sides; malformed and oversized requests;
// concurrent clients; a read-only data dir; a full disk.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "localnet/test_client_support.hpp"
#include "session/client.hpp"
#include "session/store.hpp"
#include "support/exec_image.hpp"
#include "support/ports.hpp"

using namespace session;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kCli = std::string(SESSION_BINARY_DIR) + "/session-cli";

using test::Account;
using test::new_account;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One daemon process: started with the phrase in SESSION_MNEMONIC, stderr to a file.
struct DaemonProc {
    pid_t pid = -1;
    std::string socket, data_dir, log;
    ~DaemonProc() { kill9(); }
    void kill9() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            pid = -1;
        }
    }
    int term() {  // SIGTERM and wait: the exit code
        if (pid <= 0) return -1;
        ::kill(pid, SIGTERM);
        int st = 0;
        ::waitpid(pid, &st, 0);
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
};

pid_t spawn_cli(const std::vector<std::string>& args, const Account& who, const std::string& log, bool as_nobody = false) {
    // Laid out before the fork: this process has threads (the local network's, the clients').
    const test::ExecImage image(kCli, args,
                                {{"SESSION_MNEMONIC", std::string(who.phrase.view())},
                                 {"SESSION_NETWORK", std::nullopt},
                                 {"XDG_CONFIG_HOME", "/nonexistent-session-test"}});
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (err >= 0) ::dup2(err, 2);
        const int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        if (as_nobody && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(90);
        image.exec();
    }
    return pid;
}

// A line-oriented socket client.
class Conn {
public:
    explicit Conn(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.c_str(), path.size());
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~Conn() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return fd_ >= 0; }
    bool write_raw(std::string_view s) {
        while (!s.empty()) {
            const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // The next line, or nullopt after `timeout` or at the end of the connection.
    std::optional<json> read(std::chrono::milliseconds timeout = 20s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return json::parse(line);
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
            char tmp[65536];
            const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) return std::nullopt;
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }
    // A call: its response (events that come meanwhile are kept for events()).
    json call(const std::string& method, const json& params = json::object()) {
        const int id = ++next_id_;
        json req{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
        REQUIRE(write_raw(req.dump() + "\n"));
        for (;;) {
            auto line = read();
            REQUIRE(line.has_value());
            if (line->contains("id") && (*line)["id"] == id) return *line;
            if (line->value("method", "") == "event") events.push_back(*line);
        }
    }
    std::vector<json> events;

private:
    int fd_ = -1;
    std::string buf_;
    int next_id_ = 0;
};

struct LocalNet : test::LocalNetFile {
    using LocalNetFile::LocalNetFile;

    DaemonProc start(const Account& who, const std::string& name, const std::vector<std::string>& extra = {}) const {
        DaemonProc d;
        d.socket = (dir / (name + ".sock")).string();
        d.data_dir = (dir / (name + "-data")).string();
        d.log = (dir / (name + "-" + std::to_string(++starts_) + ".log")).string();
        std::vector<std::string> args{"daemon", "--socket", d.socket, "--data-dir", d.data_dir, "--network", file,
                                      "--interval", "1"};
        args.insert(args.end(), extra.begin(), extra.end());
        d.pid = spawn_cli(args, who, d.log);
        // Ready once the socket answers (in well under a second on an idle machine; the limit is
        // for a loaded one running sanitized builds side by side).
        for (int i = 0; i < 1200; ++i) {
            Conn c(d.socket);
            if (c.ok()) return d;
            int st = 0;
            if (::waitpid(d.pid, &st, WNOHANG) == d.pid) {
                d.pid = -1;
                FAIL("daemon exited at start: " << slurp(d.log));
            }
            std::this_thread::sleep_for(50ms);
        }
        FAIL("daemon did not open its socket within 60 s; its log: " << slurp(d.log));
        return d;
    }
    mutable int starts_ = 0;
};

// Every message in `who`'s swarm, read by a fresh library Client: body → how many times.
std::map<std::string, int> swarm_bodies(const LocalNet& ln, const Account& who) {
    auto c = Client::create(who.identity(), ln.client_net());
    REQUIRE_OK(c);
    std::map<std::string, int> out;
    auto got = c->receive_pages("", [&](ReceivedPage& p) {
        for (const auto& m : p.messages) ++out[m.body];
        return true;
    });
    REQUIRE_OK(got);
    return out;
}

// Subscribes from `since` and collects events until `done` says so (or the timeout).
void collect(Conn& c, std::map<std::uint64_t, json>& by_seq, const std::function<bool()>& done,
             std::chrono::seconds timeout = 120s) {
    for (const auto& e : c.events) by_seq[e["params"]["seq"].get<std::uint64_t>()] = e["params"];
    c.events.clear();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < until) {
        auto line = c.read(1s);
        if (!line) continue;
        if (line->value("method", "") == "event") by_seq[(*line)["params"]["seq"].get<std::uint64_t>()] = (*line)["params"];
    }
}

void kill_while_sending(std::size_t messages) {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    std::set<std::string> hashes;
    {
        auto d = ln.start(alice, "alice");
        Conn c(d.socket);
        REQUIRE(c.ok());
        for (std::size_t i = 0; i < messages; ++i) {
            auto r = c.call("send", {{"recipient", bob.id.hex()}, {"message", "m" + std::to_string(i)},
                                     {"attachments", json::array()}});
            REQUIRE(r.contains("result"));
            CHECK(r["result"]["hash"].get<std::string>().size() == 43);
            CHECK(r["result"]["timestamp"].is_number_integer());
            hashes.insert(r["result"]["hash"]);
        }
        d.kill9();  // some stored, most still queued (or in flight)
        // The kill came while sends were still queued (the store is ours to open once it died).
        auto st = store::Store::open((fs::path(d.data_dir) / "store.sqlite").string(), alice.id);
        REQUIRE_OK(st);
        auto stats = st->stats();
        REQUIRE_OK(stats);
        INFO("queued at the kill: " << stats->outbox_queued);
        CHECK(stats->outbox_queued > 0);
    }
    REQUIRE(hashes.size() == messages);
    auto d = ln.start(alice, "alice");
    Conn c(d.socket);
    REQUIRE(c.ok());
    REQUIRE(c.call("subscribe", {{"since", 0}}).contains("result"));
    std::map<std::uint64_t, json> events;
    std::set<std::string> stored;
    collect(c, events, [&] {
        stored.clear();
        for (const auto& [seq, e] : events)
            if (e["type"] == "sendStatus" && e["status"] == "stored") stored.insert(e["hash"]);
        return stored.size() == messages;
    }, 600s);
    CHECK(stored == hashes);
    CHECK(d.term() == 0);

    // Bob's swarm holds each message exactly once.
    auto bodies = swarm_bodies(ln, bob);
    CHECK(bodies.size() == messages);
    for (const auto& [body, n] : bodies) {
        INFO(body);
        CHECK(n == 1);
    }
}

void kill_while_receiving(std::size_t messages) {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    auto sender = Client::create(alice.identity(), ln.client_net());
    REQUIRE_OK(sender);

    std::atomic<std::size_t> sent{0};
    std::thread producer([&] {
        for (std::size_t i = 0; i < messages; ++i) {
            for (int attempt = 0; attempt < 5; ++attempt)
                if (sender->send(bob.id, "r" + std::to_string(i))) break;
            ++sent;
            if (i % 10 == 0) std::this_thread::sleep_for(20ms);
        }
    });

    std::map<std::uint64_t, json> events;  // what the subscriber processed, by seq
    std::uint64_t last_seq = 0;
    auto count_messages = [&] {
        std::size_t n = 0;
        for (const auto& [seq, e] : events) n += e["type"] == "message";
        return n;
    };
    {
        auto d = ln.start(bob, "bob");
        Conn c(d.socket);
        REQUIRE(c.ok());
        REQUIRE(c.call("subscribe").contains("result"));
        // Until about a third has arrived, then kill -9 mid-stream.
        collect(c, events, [&] { return count_messages() >= messages / 3; }, 120s);
        d.kill9();
    }
    for (const auto& [seq, e] : events) last_seq = std::max(last_seq, seq);
    // Restart while the rest keeps arriving; resume after the last event processed.
    auto d = ln.start(bob, "bob");
    Conn c(d.socket);
    REQUIRE(c.ok());
    REQUIRE(c.call("subscribe", {{"since", last_seq}}).contains("result"));
    producer.join();
    REQUIRE(sent == messages);
    collect(c, events, [&] { return count_messages() >= messages; }, 300s);
    // A moment more: nothing extra may come.
    collect(c, events, [] { return false; }, 3s);

    std::map<std::string, int> per_body;
    std::set<std::string> per_hash;
    for (const auto& [seq, e] : events) {
        if (e["type"] != "message") continue;
        CHECK(e["sender"] == alice.id.hex());
        CHECK(e["attachments"].is_array());
        CHECK(e["timestamp"].is_number_integer());
        ++per_body[e["body"].get<std::string>()];
        CHECK(per_hash.insert(e["hash"].get<std::string>()).second);  // one event per message
    }
    CHECK(per_body.size() == messages);
    for (const auto& [body, n] : per_body) {
        INFO(body);
        CHECK(n == 1);
    }
    // Acknowledged events are not replayed to a subscriber that comes back without `since`.
    REQUIRE(c.call("ack", {{"seq", events.rbegin()->first}}).contains("result"));
    Conn again(d.socket);
    REQUIRE(again.call("subscribe").contains("result"));
    CHECK_FALSE(again.read(2s).has_value());
    // History: one conversation with every message.
    auto convs = again.call("listConversations");
    REQUIRE(convs["result"]["conversations"].size() == 1);
    CHECK(convs["result"]["conversations"][0]["peer"] == alice.id.hex());
    std::size_t listed = 0;
    json cursor = nullptr;
    for (int page = 0; page < 100; ++page) {
        json p{{"conversation", alice.id.hex()}, {"limit", 37}};
        if (!cursor.is_null()) p["cursor"] = cursor;
        auto r = again.call("listMessages", p);
        REQUIRE(r.contains("result"));
        listed += r["result"]["messages"].size();
        cursor = r["result"]["next"];
        if (cursor.is_null()) break;
    }
    CHECK(listed == messages);
    CHECK(d.term() == 0);
}

}  // namespace

TEST_CASE("daemon: kill -9 with 150 sends queued; after a restart each reaches the recipient once",
          "[daemon][localnet]") {
    kill_while_sending(150);
}

TEST_CASE("daemon: kill -9 while 150 messages arrive; after a restart the subscriber gets each once",
          "[daemon][localnet]") {
    kill_while_receiving(150);
}

TEST_CASE("daemon: kill -9 with 1,000 sends queued (slow)", "[daemon][localnet][.slow]") { kill_while_sending(1000); }

TEST_CASE("daemon: kill -9 while 1,000 messages arrive (slow)", "[daemon][localnet][.slow]") {
    kill_while_receiving(1000);
}

TEST_CASE("daemon: malformed, oversized and unknown requests get errors; the daemon stays up; concurrent clients",
          "[daemon][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    auto d = ln.start(alice, "alice");
    Conn c(d.socket);
    REQUIRE(c.ok());
    auto expect_error = [&](const std::string& raw, int code) {
        REQUIRE(c.write_raw(raw));
        auto line = c.read();
        REQUIRE(line.has_value());
        INFO(raw.substr(0, 80));
        REQUIRE(line->contains("error"));
        CHECK((*line)["error"]["code"] == code);
    };
    expect_error("not json\n", -32700);
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1}\n", -32600);
    expect_error("[1,2]\n", -32600);
    expect_error(std::string(100'000, '[') + "\n", -32700);
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}\n", -32601);
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"sendReaction\",\"params\":{}}\n", -32602);
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"send\",\"params\":{\"recipient\":\"05zz\",\"message\":\"x\"}}\n", -32602);
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"send\",\"params\":{\"recipient\":\"" + alice.id.hex() +
                     "\",\"message\":\"x\",\"attachments\":[\"/no/such/file\"]}}\n",
                 -32602);  // a path that cannot be read is a bad parameter
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"send\",\"params\":{\"recipient\":\"" + alice.id.hex() +
                     "\",\"message\":\"" + std::string(200'000, 'x') + "\"}}\n",
                 -32003);
    // A line over the limit, sent in pieces: one error, then the connection works on.
    expect_error(std::string(3 * 1024 * 1024, 'x') + "\n", -32600);
    auto v = c.call("version");
    REQUIRE(v.contains("result"));
    CHECK(v["result"]["version"].is_string());

    // Eight clients at once, each sending and reading.
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
        clients.emplace_back([&, t] {
            Conn cc(d.socket);
            if (!cc.ok()) return;
            for (int i = 0; i < 10; ++i) {
                auto r = cc.call("send", {{"recipient", alice.id.hex()}, {"message", "c" + std::to_string(t * 100 + i)}});
                if (r.contains("result")) ++ok;
                auto p = cc.call("getProfile");
                if (p.contains("result") && p["result"]["sessionId"] == alice.id.hex()) ++ok;
            }
        });
    for (auto& t : clients) t.join();
    CHECK(ok == 8 * 10 * 2);
    // updateProfile is kept.
    auto up = c.call("updateProfile", {{"displayName", "Alice ✓"}});
    REQUIRE(up.contains("result"));
    CHECK(up["result"]["displayName"] == "Alice ✓");
    CHECK(d.term() == 0);
    CHECK_FALSE(fs::exists(d.socket));  // removed at a clean stop
    auto d2 = ln.start(alice, "alice");
    Conn c2(d2.socket);
    CHECK(c2.call("getProfile")["result"]["displayName"] == "Alice ✓");
    CHECK(fs::status(d2.socket).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("daemon: attachments, sendReaction, sendReceipt, sendTyping and remoteDelete reach the peer", "[daemon][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    auto d = ln.start(alice, "alice");
    Conn c(d.socket);
    REQUIRE(c.ok());
    const std::string to = bob.id.hex();
    const std::string file = (ln.dir / "report.txt").string();
    std::string contents;
    for (int i = 0; i < 2000; ++i) contents += "line " + std::to_string(i) + "\n";
    std::ofstream(file) << contents;

    auto result = [&](const std::string& method, const json& params) {
        auto r = c.call(method, params);
        INFO(method << ": " << r.dump());
        REQUIRE(r.contains("result"));
        return r["result"];
    };
    const auto hello = result("send", {{"recipient", to}, {"message", "the report"}, {"attachments", {file}}});
    const std::int64_t t = hello["timestamp"];
    result("sendReaction", {{"recipient", to}, {"emoji", "👍"}, {"targetAuthor", alice.id.hex()}, {"targetTimestamp", t}});
    result("sendTyping", {{"recipient", to}, {"stop", true}});
    result("sendReceipt", {{"recipient", to}, {"targetTimestamp", json::array({t - 1, t - 2})}});
    const auto del = result("remoteDelete", {{"recipient", to}, {"targetTimestamp", t}});
    CHECK(del["deleted"].is_array());
    // Bad parameters are invalid params, and the daemon goes on.
    CHECK(c.call("sendReaction", {{"recipient", to}, {"emoji", ""}, {"targetAuthor", to}, {"targetTimestamp", 1}})["error"]["code"] == -32602);
    CHECK(c.call("sendReceipt", {{"recipient", to}, {"targetTimestamp", 1}, {"type", "delivery"}})["error"]["code"] == -32602);
    CHECK(c.call("sendTyping", {{"recipient", to}, {"stop", "yes"}})["error"]["code"] == -32602);

    // Bob, with the library, sees each kind once, the attachment's bytes intact.
    auto b = Client::create(bob.identity(), ln.client_net());
    REQUIRE_OK(b);
    std::vector<ReceivedMessage> got;  // the Client hands out each message once: gathered over polls
    std::string cursor;
    for (int round = 0; round < 60 && got.size() < 5; ++round) {
        auto r = b->receive(cursor);
        REQUIRE_OK(r);
        cursor = r->last_hash;
        for (auto& m : r->messages) got.push_back(std::move(m));
        if (got.size() < 5) std::this_thread::sleep_for(500ms);
    }
    REQUIRE(got.size() == 5);
    int seen = 0;
    for (const auto& m : got) {
        if (m.body == "the report") {
            ++seen;
            CHECK(m.sent_timestamp_ms == t);
            REQUIRE(m.attachments.size() == 1);
            auto bytes = b->download_attachment(m.attachments[0]);
            REQUIRE_OK(bytes);
            CHECK(std::string(bytes->begin(), bytes->end()) == contents);
        } else if (m.reaction) {
            ++seen;
            CHECK(m.reaction->emoji == "👍");
            CHECK(m.reaction->timestamp_ms == t);
            CHECK_FALSE(m.reaction->remove);
        } else if (m.typing) {
            ++seen;
            CHECK(*m.typing == TypingAction::stopped);
        } else if (m.receipt) {
            ++seen;
            CHECK(m.receipt->timestamps == std::vector<std::int64_t>{t - 1, t - 2});
        } else if (m.unsend) {
            ++seen;
            CHECK(m.unsend->timestamp_ms == t);
        }
    }
    CHECK(seen == 5);
}

TEST_CASE("daemon: a read-only data dir is a clear error at start", "[daemon][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    const fs::path data = ln.dir / "ro-data";
    fs::create_directories(data);
    if (::geteuid() == 0) REQUIRE(::chown(data.c_str(), 65534, 65534) == 0);
    fs::permissions(data, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string log = (ln.dir / "ro.log").string();
    const std::string sock = (ln.dir / "ro.sock").string();
    // As nobody when we are root, so that the permissions apply (the socket's directory must then
    // be writable by nobody too).
    const fs::path sockdir = ln.dir / "ro-sock";
    fs::create_directories(sockdir);
    fs::permissions(sockdir, fs::perms::all);
    fs::permissions(ln.dir, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
    const pid_t pid = spawn_cli({"daemon", "--socket", (sockdir / "s").string(), "--data-dir", data.string()}, alice, log,
                                true);
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 5);  // kLocal
    const std::string text = slurp(log);
    INFO(text);
    CHECK(text.find("is not writable") != std::string::npos);
    CHECK(text.find(std::string(alice.phrase.view())) == std::string::npos);
    fs::permissions(data, fs::perms::owner_all);
}

TEST_CASE("daemon: a full disk fails send with a clear store error; the daemon stays up and delivers every accepted "
          "send once there is room",
          "[daemon][localnet][full]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    auto d = ln.start(alice, "alice");
    Conn c(d.socket);
    REQUIRE(c.ok());
    REQUIRE(c.call("subscribe", {{"since", 0}}).contains("result"));
    auto send = [&](const std::string& body) { return c.call("send", {{"recipient", bob.id.hex()}, {"message", body}}); };
    std::set<std::string> accepted;
    for (int i = 0; i < 5; ++i) {
        auto r = send("before " + std::to_string(i));
        REQUIRE(r.contains("result"));
        accepted.insert(r["result"]["hash"].get<std::string>());
    }
    // The disk fills up: no file of the daemon's may grow any more (a file size limit of 0 on the
    // running process; its writes fail with EFBIG, as they fail with ENOSPC on a full disk). Some of
    // the sends above may still be on their way out.
    rlimit before{};
    REQUIRE(::prlimit(d.pid, RLIMIT_FSIZE, nullptr, &before) == 0);
    const rlimit full{0, before.rlim_max};
    REQUIRE(::prlimit(d.pid, RLIMIT_FSIZE, &full, nullptr) == 0);
    for (int i = 0; i < 3; ++i) {
        auto r = send("refused " + std::to_string(i));
        INFO(r.dump());
        REQUIRE(r.contains("error"));
        CHECK(r["error"]["code"] == -32000);  // kStoreError: nothing changed
        const auto message = r["error"]["message"].get<std::string>();
        CHECK(message.find("the store is full") != std::string::npos);
        CHECK(message.find("store.sqlite") != std::string::npos);
        CHECK(message.find(std::string(alice.phrase.view())) == std::string::npos);
    }
    // Up and answering meanwhile.
    CHECK(c.call("listConversations").contains("result"));
    // Room again: new sends are accepted, and every accepted send reaches bob.
    REQUIRE(::prlimit(d.pid, RLIMIT_FSIZE, &before, nullptr) == 0);
    for (int i = 0; i < 5; ++i) {
        auto r = send("after " + std::to_string(i));
        INFO(r.dump());
        REQUIRE(r.contains("result"));
        accepted.insert(r["result"]["hash"].get<std::string>());
    }
    REQUIRE(accepted.size() == 10);
    std::map<std::uint64_t, json> events;
    std::set<std::string> stored;
    collect(c, events, [&] {
        stored.clear();
        for (const auto& [seq, e] : events)
            if (e["type"] == "sendStatus" && e["status"] == "stored") stored.insert(e["hash"]);
        return stored.size() == accepted.size();
    }, 120s);
    CHECK(stored == accepted);
    CHECK(d.term() == 0);
    auto bodies = swarm_bodies(ln, bob);
    CHECK(bodies.size() == accepted.size());
    for (const auto& [body, n] : bodies) {
        INFO(body);
        CHECK(n == 1);
        CHECK(body.rfind("refused", 0) == std::string::npos);
    }
}

TEST_CASE("daemon: HTTP on loopback with a bearer token: calls, the event stream, refusals", "[daemon][localnet]") {
    LocalNet ln;
    const auto alice = new_account();
    const auto bob = new_account();
    const std::string token = "0123456789abcdef-token";
    const std::string token_file = (ln.dir / "token").string();
    {
        std::ofstream(token_file) << token << "\n";
    }
    fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write);
    const int port = session::test::unused_loopback_port();
    auto d = ln.start(alice, "alice", {"--http", "127.0.0.1:" + std::to_string(port), "--token-file", token_file});
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(20, 0);
    const httplib::Headers auth{{"Authorization", "Bearer " + token}};

    auto no_token = http.Post("/api/v1/rpc", R"({"jsonrpc":"2.0","id":1,"method":"version"})", "application/json");
    if (!no_token) FAIL("the first HTTP request failed: " << httplib::to_string(no_token.error()) << "; daemon log: " << d.log);
    CHECK(no_token->status == 401);
    CHECK(json::parse(no_token->body)["error"]["code"] == -32002);
    auto wrong = http.Post("/api/v1/rpc", httplib::Headers{{"Authorization", "Bearer " + token + "x"}},
                           R"({"jsonrpc":"2.0","id":1,"method":"version"})", "application/json");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);

    auto v = http.Post("/api/v1/rpc", auth, R"({"jsonrpc":"2.0","id":1,"method":"version"})", "application/json");
    REQUIRE(v);
    CHECK(v->status == 200);
    CHECK(json::parse(v->body)["result"]["name"] == "session-cli daemon");
    auto sub = http.Post("/api/v1/rpc", auth, R"({"jsonrpc":"2.0","id":2,"method":"subscribe","params":{}})",
                         "application/json");
    REQUIRE(sub);
    CHECK(json::parse(sub->body)["error"]["code"] == -32602);
    auto bad = http.Post("/api/v1/rpc", auth, "{oops", "application/json");
    REQUIRE(bad);
    CHECK(json::parse(bad->body)["error"]["code"] == -32700);

    json send{{"jsonrpc", "2.0"}, {"id", 3}, {"method", "send"},
              {"params", {{"recipient", bob.id.hex()}, {"message", "over http"}}}};
    auto sent = http.Post("/api/v1/rpc", auth, send.dump(), "application/json");
    REQUIRE(sent);
    const std::string hash = json::parse(sent->body)["result"]["hash"];

    // The event stream: replayed from 0 until this message is reported stored.
    std::string stream;
    bool stored = false;
    std::uint64_t last_id = 0;
    auto events = http.Get("/api/v1/events?since=0", auth, [&](const char* data, std::size_t n) {
        stream.append(data, n);
        for (std::size_t pos; (pos = stream.find("\n\n")) != std::string::npos;) {
            const std::string frame = stream.substr(0, pos);
            stream.erase(0, pos + 2);
            const auto id_at = frame.find("id: ");
            const auto data_at = frame.find("data: ");
            if (id_at == std::string::npos || data_at == std::string::npos) continue;
            last_id = std::stoull(frame.substr(id_at + 4));
            auto e = json::parse(frame.substr(data_at + 6));
            CHECK(e["method"] == "event");
            CHECK(e["params"]["seq"] == last_id);
            if (e["params"]["type"] == "sendStatus" && e["params"]["hash"] == hash && e["params"]["status"] == "stored")
                stored = true;
        }
        return !stored;  // stop reading once seen
    });
    CHECK(stored);
    CHECK(last_id >= 2);
    CHECK(d.term() == 0);

    // Refused at start: a token file others can read; a non-loopback address.
    fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    const std::string log = (ln.dir / "refused.log").string();
    auto run = [&](std::vector<std::string> args) {
        const pid_t pid = spawn_cli(args, alice, log);
        int st = 0;
        REQUIRE(::waitpid(pid, &st, 0) == pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    };
    const std::string sock = (ln.dir / "r.sock").string(), data = (ln.dir / "r-data").string();
    CHECK(run({"daemon", "--socket", sock, "--data-dir", data, "--http", "127.0.0.1:" + std::to_string(port),
               "--token-file", token_file}) == 2);
    fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write);
    CHECK(run({"daemon", "--socket", sock, "--data-dir", data, "--http", "0.0.0.0:" + std::to_string(port),
               "--token-file", token_file}) == 2);
    CHECK(run({"daemon", "--socket", sock, "--data-dir", data, "--http", "127.0.0.1:" + std::to_string(port)}) == 2);
}
