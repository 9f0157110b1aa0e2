// The example programs (examples/send_dm.cpp, examples/echo_bot.cpp) run as separate processes
// against the in-process local network: the phrase goes in through the environment or a file, the
// network through --network FILE, and the messages must arrive.
#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "localnet/test_client_support.hpp"

extern char** environ;

using namespace session;
namespace fs = std::filesystem;

namespace {

struct LocalNet : test::LocalNetFile {
    LocalNet() : LocalNetFile(10, 5, /*short_timeouts=*/false) {}

    ClientOptions options() const { return {}; }
};

struct Run {
    int exit_code = -1;
    std::string out, err;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs an example binary with `args`, adding `extra_env` ("NAME=value") to our environment minus
// SESSION_MNEMONIC, and captures stdout/stderr.
Run run(const fs::path& dir, const std::string& program, std::vector<std::string> args,
        std::vector<std::string> extra_env = {}) {
    const std::string exe = std::string(SESSION_BINARY_DIR) + "/" + program;
    if (!fs::exists(exe)) FAIL(exe << " is missing: build the examples (cmake --build <dir> --target " << program << ")");
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).rfind("SESSION_MNEMONIC=", 0) != 0) env.emplace_back(*e);
    for (auto& e : extra_env) env.push_back(e);

    args.insert(args.begin(), exe);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    const auto out_path = dir / (program + ".out"), err_path = dir / (program + ".err");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    Run r;
    if (rc != 0) FAIL("posix_spawn " << exe << " failed: " << rc);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
}

struct Account {
    SessionId id;
    std::string phrase;  // test-only copy: these identities exist for this test alone
};

Account new_account() {
    auto [identity, phrase] = Identity::generate(*system_rng());
    return Account{identity.session_id(), std::string(phrase.view())};
}

}  // namespace

TEST_CASE("examples: send_dm delivers a DM with the phrase from the environment or a file",
          "[client][examples][localnet]") {
    LocalNet ln;
    auto reader = Client::create(Identity::generate(*system_rng()).first, ln.network(), ln.options());
    REQUIRE(reader);
    const auto sender = new_account();

    auto r = run(ln.dir, "send_dm", {"--network", ln.file, "--name", "CI sender", reader->session_id().hex(), "hello", "from", "send_dm"},
                 {"SESSION_MNEMONIC=" + sender.phrase});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.size() == 44);  // hash + newline
    CHECK(r.err.find(sender.phrase.substr(0, 8)) == std::string::npos);

    const auto phrase_file = ln.dir / "phrase.txt";
    {
        std::ofstream f(phrase_file);
        f << sender.phrase << "\n";
    }
    auto r2 = run(ln.dir, "send_dm", {"--network", ln.file, "--phrase-file", phrase_file.string(),
                                      reader->session_id().hex(), "second"});
    INFO("stderr: " << r2.err);
    REQUIRE(r2.exit_code == 0);

    auto got = reader->receive();
    REQUIRE(got);
    REQUIRE(got->messages.size() == 2);
    CHECK(got->messages[0].body == "hello from send_dm");
    CHECK(got->messages[0].sender == sender.id);
    CHECK(got->messages[0].display_name == std::optional<std::string>("CI sender"));
    CHECK(got->messages[1].body == "second");
}

TEST_CASE("examples: send_dm reports usage, phrase and recipient errors with exit codes", "[client][examples][localnet]") {
    LocalNet ln;
    const auto sender = new_account();
    const auto someone = new_account();
    // session-cli's exit codes (docs/cli.md): 2 usage or bad input, 4 network.
    CHECK(run(ln.dir, "send_dm", {}).exit_code == 2);
    auto no_phrase = run(ln.dir, "send_dm", {"--network", ln.file, someone.id.hex(), "x"});
    CHECK(no_phrase.exit_code == 2);
    CHECK(no_phrase.err.find("SESSION_MNEMONIC") != std::string::npos);
    auto bad_phrase = run(ln.dir, "send_dm", {"--network", ln.file, someone.id.hex(), "x"},
                          {"SESSION_MNEMONIC=not a valid phrase at all"});
    CHECK(bad_phrase.exit_code == 2);
    auto bad_to = run(ln.dir, "send_dm", {"--network", ln.file, "05abc", "x"}, {"SESSION_MNEMONIC=" + sender.phrase});
    CHECK(bad_to.exit_code == 2);
    auto bad_net = run(ln.dir, "send_dm", {"--network", (ln.dir / "missing.json").string(), someone.id.hex(), "x"},
                       {"SESSION_MNEMONIC=" + sender.phrase});
    CHECK(bad_net.exit_code == 2);
    auto device = run(ln.dir, "send_dm", {"--phrase-file", "/dev/zero", "--network", ln.file, someone.id.hex(), "x"});
    CHECK(device.exit_code == 2);
    // A network whose only seed refuses connections: the network failure code.
    const auto dead = ln.dir / "dead.json";
    std::ofstream(dead) << "{\"seeds\": [\"http://127.0.0.1:1\"]}";
    auto unreachable = run(ln.dir, "send_dm", {"--network", dead.string(), someone.id.hex(), "x"},
                           {"SESSION_MNEMONIC=" + sender.phrase});
    CHECK(unreachable.exit_code == 4);
}

TEST_CASE("examples: echo_bot answers a DM and stops after --max-iterations", "[client][examples][localnet]") {
    LocalNet ln;
    auto user = Client::create(Identity::generate(*system_rng()).first, ln.network(), ln.options());
    REQUIRE(user);
    const auto bot = new_account();

    auto sent = user->send(bot.id, "ping ✓");
    REQUIRE(sent);
    const auto state = ln.dir / "bot.state";
    // --backlog: the message sent before the bot's first start is answered too.
    auto r = run(ln.dir, "echo_bot",
                 {"--network", ln.file, "--max-iterations", "1", "--state", state.string(), "--backlog"},
                 {"SESSION_MNEMONIC=" + bot.phrase});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("ping ✓") != std::string::npos);
    CHECK(slurp(state).find("\"latest\":\"" + sent->hash + "\"") != std::string::npos);

    auto got = user->receive();
    REQUIRE(got);
    // Typing, the read receipt, the approval of our request (its first answer), the quoting
    // reply, the reaction.
    REQUIRE(got->messages.size() == 5);
    for (const auto& m : got->messages) CHECK(m.sender == bot.id);
    CHECK(got->messages[0].typing == TypingAction::started);
    REQUIRE(got->messages[1].receipt);
    CHECK(got->messages[1].receipt->timestamps == std::vector<std::int64_t>{sent->timestamp_ms});
    CHECK(got->messages[2].kind == MessageKind::message_request_response);
    CHECK(got->messages[3].body == "echo: ping ✓");
    CHECK(got->messages[3].display_name == std::optional<std::string>("Echo bot"));
    CHECK(got->messages[3].quote == QuoteInfo{sent->timestamp_ms, user->session_id().hex(), "ping ✓"});
    CHECK(got->messages[4].reaction == ReactionInfo{sent->timestamp_ms, user->session_id().hex(), "👍", false});

    // Restarted with its state file, the bot does not answer the old message again.
    auto r2 = run(ln.dir, "echo_bot", {"--network", ln.file, "--max-iterations", "1", "--state", state.string()},
                  {"SESSION_MNEMONIC=" + bot.phrase});
    REQUIRE(r2.exit_code == 0);
    CHECK(r2.out.empty());
    auto none = user->receive(got->last_hash);
    REQUIRE(none);
    CHECK(none->messages.empty());
}

TEST_CASE("examples: echo_bot starts from now: the backlog of its first start is left unanswered",
          "[client][examples][localnet]") {
    LocalNet ln;
    auto user = Client::create(Identity::generate(*system_rng()).first, ln.network(), ln.options());
    REQUIRE(user);
    const auto bot = new_account();
    REQUIRE(user->send(bot.id, "old news"));

    const auto out_path = ln.dir / "bot-now.out", err_path = ln.dir / "bot-now.err";
    const std::string exe = std::string(SESSION_BINARY_DIR) + "/echo_bot";
    std::vector<std::string> args{exe, "--network", ln.file, "--interval-ms", "200", "--max-iterations", "300"};
    std::vector<std::string> env{"SESSION_MNEMONIC=" + bot.phrase};
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).rfind("SESSION_MNEMONIC=", 0) != 0) env.emplace_back(*e);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&fa);
    struct Stop {
        pid_t pid;
        ~Stop() {
            ::kill(pid, SIGTERM);
            int status = 0;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
        }
    } stop{pid};

    // Bounded waits for what the bot says, not timing assertions.
    auto eventually = [](auto pred) {
        for (int i = 0; i < 600 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return pred();
    };
    REQUIRE(eventually([&] { return slurp(err_path).find("starting from now: 1 earlier message") != std::string::npos; }));
    REQUIRE(user->send(bot.id, "fresh"));
    std::vector<std::string> replies;
    std::string last;
    REQUIRE(eventually([&] {
        auto got = user->receive(last);
        if (!got) return false;
        last = got->last_hash;
        for (const auto& m : got->messages)
            if (m.kind == MessageKind::text) replies.push_back(m.body);
        return !replies.empty();
    }));
    CHECK(replies == std::vector<std::string>{"echo: fresh"});
    CHECK(slurp(out_path).find("old news") == std::string::npos);
}
