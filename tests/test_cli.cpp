// test_cli.cpp: drives the built session-cli binary (path from SESSION_CLI_PATH) like a user would:
// stdin, environment, argv, stdout/stderr and the exit code. Offline verbs only; the network verbs
// are exercised against session-localnet at the end when SESSION_LOCALNET_PATH is available.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "session/envelope.hpp"
#include "session/keys.hpp"
#include "support/vectors.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Run {
    int code = -1;
    std::string out;
    std::string err;
    std::vector<json> json_lines() const {
        std::vector<json> lines;
        std::istringstream in(out);
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) lines.push_back(json::parse(line));
        return lines;
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A scratch directory per test run, removed at exit.
const fs::path& scratch() {
    static const fs::path dir = [] {
        char tmpl[] = "/tmp/session-test-cli-XXXXXX";
        const char* d = ::mkdtemp(tmpl);
        REQUIRE(d != nullptr);
        return fs::path(d);
    }();
    static const struct Cleanup {
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup;
    return dir;
}

// A started child process whose stdin/stdout/stderr are files, so no pipe can fill up and block
// either side.
struct Child {
    pid_t pid = -1;
    std::string out_path, err_path;

    // Waits for the child and collects its output.
    Run wait() {
        int status = 0;
        ::waitpid(pid, &status, 0);
        Run r;
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = slurp(out_path);
        r.err = slurp(err_path);
        return r;
    }
    std::string out_so_far() const { return slurp(out_path); }
};

// Starts `binary args…` with `input` on stdin and the environment minus SESSION_MNEMONIC plus `env`.
Child spawn(const std::string& binary, const std::vector<std::string>& args, const std::string& input = "",
            const std::map<std::string, std::string>& env = {}) {
    static int counter = 0;
    const auto base = scratch() / ("run" + std::to_string(++counter));
    {
        std::ofstream(base.string() + ".in", std::ios::binary) << input;
    }
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
        std::string_view kv = *e;
        if (kv.starts_with("SESSION_MNEMONIC=")) continue;
        envs.emplace_back(kv);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : envs) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argstore{binary};
    argstore.insert(argstore.end(), args.begin(), args.end());
    for (auto& s : argstore) argv.push_back(s.data());
    argv.push_back(nullptr);

    Child c;
    const std::string in = base.string() + ".in";
    c.out_path = base.string() + ".out";
    c.err_path = base.string() + ".err";
    c.pid = ::fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        int fi = ::open(in.c_str(), O_RDONLY);
        int fo = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = ::open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fi < 0 || fo < 0 || fe < 0) ::_exit(127);
        ::dup2(fi, 0);
        ::dup2(fo, 1);
        ::dup2(fe, 2);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return c;
}

Run run_binary(const std::string& binary, const std::vector<std::string>& args, const std::string& input = "",
               const std::map<std::string, std::string>& env = {}) {
    return spawn(binary, args, input, env).wait();
}

Run cli(const std::vector<std::string>& args, const std::string& input = "",
        const std::map<std::string, std::string>& env = {}) {
    return run_binary(SESSION_CLI_PATH, args, input, env);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

fs::path write_phrase_file(const std::string& name, const std::string& content, fs::perms perms = fs::perms::owner_read |
                                                                                                   fs::perms::owner_write) {
    auto p = scratch() / name;
    std::ofstream(p) << content;
    fs::permissions(p, perms);
    return p;
}

const std::string kAlice = "session session session session session session session session session session session session session";
const std::string kAliceId = "0512742fb4ac033a8a33f5776aa0e7e88f35f7af9f65dee31e57fbc7d6f8664b12";
const std::string kBob = "love love love love love love love love love love love love love";
const std::string kBobId = "053db493811f729da20289e31498b8fe2b28edc90358cd3ec11a6b12ac1b9fb818";
const std::string kPuffin = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

// True when no word of `phrase` (4+ letters, so not a common English word fragment) appears in `text`.
bool leaks_no_word(std::string text, const std::string& phrase) {
    // The CLI's own fixed warning contains list words ("keep", "session"); a random phrase that
    // happens to hold one of them is not a leak, so that sentence is taken out before looking.
    const std::string warning = "keep the recovery phrase secret: anyone who has it can read and send your messages";
    for (auto at = text.find(warning); at != std::string::npos; at = text.find(warning)) text.erase(at, warning.size());
    text = std::regex_replace(text, std::regex("session-cli"), "");
    std::istringstream in(phrase);
    std::string w;
    while (in >> w)
        if (w.size() >= 4 && w != "love" && text.find(w) != std::string::npos) return false;
    return true;
}

std::string seal(const std::string& phrase, const std::string& to, const std::string& text,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"seal", "--to", to};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cli(args, text, {{"SESSION_MNEMONIC", phrase}});
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.out.ends_with("\n"));
    return trim(r.out);
}

json open_one(const std::string& phrase, const std::string& data) {
    auto r = cli({"open"}, data + "\n", {{"SESSION_MNEMONIC", phrase}});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto lines = r.json_lines();
    REQUIRE(lines.size() == 1);
    return lines[0];
}

}  // namespace

TEST_CASE("cli: id prints the Session ID of every mnemonic.json phrase, from the environment", "[cli]") {
    for (const auto& v : session::test::vectors("mnemonic.json")) {
        if (!v.contains("expected_session_id_hex")) continue;
        const auto phrase = v.at("mnemonic").get<std::string>();
        const auto expected = v.at("expected_session_id_hex").get<std::string>();
        auto r = cli({"id"}, "", {{"SESSION_MNEMONIC", phrase}});
        INFO(v.at("name").get<std::string>() << ": " << r.err);
        CHECK(r.code == 0);
        CHECK(r.out == expected + "\n");
        CHECK(r.err.empty());
        auto j = cli({"id", "-o", "json"}, "", {{"SESSION_MNEMONIC", phrase}});
        CHECK(j.code == 0);
        CHECK(json::parse(j.out) == json{{"session_id", expected}});
    }
}

TEST_CASE("cli: id reads the phrase from --phrase-file, which wins over the environment", "[cli]") {
    const auto file = write_phrase_file("alice.phrase", "  " + kAlice + "\n\n");
    auto r = cli({"id", "--phrase-file", file.string()}, "", {{"SESSION_MNEMONIC", kBob}});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == kAliceId + "\n");
    CHECK(r.err.empty());  // mode 0600: no warning

    SECTION("a file others can read works but warns") {
        const auto open_file = write_phrase_file("open.phrase", kAlice, fs::perms::owner_read | fs::perms::owner_write |
                                                                            fs::perms::group_read | fs::perms::others_read);
        auto w = cli({"id", "--phrase-file=" + open_file.string()});
        CHECK(w.code == 0);
        CHECK(w.out == kAliceId + "\n");
        CHECK(w.err.find("chmod 600") != std::string::npos);
    }
    SECTION("a missing file, a directory and an over-long file are usage errors") {
        auto missing = cli({"id", "--phrase-file", (scratch() / "nope").string()});
        CHECK(missing.code == 2);
        CHECK(missing.err.find("cannot open") != std::string::npos);
        auto dir = cli({"id", "--phrase-file", scratch().string()});
        CHECK(dir.code == 2);
        CHECK(dir.err.find("directory") != std::string::npos);
        const auto big = write_phrase_file("big.phrase", std::string(10000, 'a'));
        auto large = cli({"id", "--phrase-file", big.string()});
        CHECK(large.code == 2);
        CHECK(large.err.find("longer than") != std::string::npos);
    }
}

TEST_CASE("cli: id reads one phrase line from piped stdin when nothing else is given", "[cli]") {
    auto r = cli({"id"}, kBob + "\n");
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == kBobId + "\n");
    auto none = cli({"id"}, "");
    CHECK(none.code == 2);
    CHECK(none.err.find("SESSION_MNEMONIC") != std::string::npos);
    auto empty_env = cli({"id"}, "", {{"SESSION_MNEMONIC", ""}});
    CHECK(empty_env.code == 2);
    CHECK(empty_env.err.find("empty") != std::string::npos);
}

TEST_CASE("cli: a phrase on the command line is refused without being echoed", "[cli][secret]") {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"id", "--phrase", kPuffin},
             {"id", "--phrase=" + kPuffin},
             {"id", "--mnemonic", kPuffin},
             {"--mnemonic=" + kPuffin, "id"},
             {"id", "--seed", "00112233"},
             {"id", kPuffin},
             {"send", kAliceId, kPuffin},
             {"seal", "--display-name", kPuffin, "--to", kAliceId},
         }) {
        auto r = cli(args, "", {{"SESSION_MNEMONIC", kAlice}});
        INFO(args[0] << " " << args[1]);
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("SESSION_MNEMONIC") != std::string::npos);
        CHECK(r.err.find("--phrase-file") != std::string::npos);
        CHECK(leaks_no_word(r.err, kPuffin));
    }
    // Ordinary text with short words is not mistaken for a phrase.
    auto text = cli({"send", "--help", "this is a message of thirteen words that is not a recovery phrase ok"});
    CHECK(text.code == 0);
}

TEST_CASE("cli: a wrong phrase names the word position and never echoes the phrase", "[cli][secret]") {
    SECTION("unknown word") {
        std::string bad = kPuffin;
        bad.replace(bad.find("memoir"), 6, "xqzvw");  // word 5
        auto r = cli({"id"}, "", {{"SESSION_MNEMONIC", bad}});
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("word 5") != std::string::npos);
        CHECK(r.err.find("SESSION_MNEMONIC") != std::string::npos);
        CHECK(r.err.find("xqzvw") == std::string::npos);
        CHECK(leaks_no_word(r.err, kPuffin));
    }
    SECTION("wrong checksum word") {
        std::string bad = kPuffin.substr(0, kPuffin.rfind(' ')) + " nylon";
        const auto file = write_phrase_file("bad.phrase", bad);
        auto r = cli({"id", "--phrase-file", file.string()});
        CHECK(r.code == 2);
        CHECK(r.err.find("word 13") != std::string::npos);
        CHECK(r.err.find("--phrase-file") != std::string::npos);
        CHECK(leaks_no_word(r.err, kPuffin));
    }
    SECTION("wrong word count, typed on stdin") {
        auto r = cli({"id"}, "puffin luxury annoyed\n");
        CHECK(r.code == 2);
        CHECK(r.err.find("13 words") != std::string::npos);
        CHECK(r.err.find("puffin") == std::string::npos);
    }
}

TEST_CASE("cli: new prints a phrase and the Session ID that id derives from it", "[cli]") {
    auto r = cli({"new"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::istringstream lines(r.out);
    std::string phrase, id;
    std::getline(lines, phrase);
    std::getline(lines, id);
    CHECK(std::count(phrase.begin(), phrase.end(), ' ') == 12);
    CHECK(id.size() == 66);
    CHECK(id.starts_with("05"));
    CHECK(leaks_no_word(r.err, phrase));
    CHECK(r.err.find("secret") != std::string::npos);
    auto again = cli({"id"}, "", {{"SESSION_MNEMONIC", phrase}});
    CHECK(again.out == id + "\n");

    auto j = cli({"new", "-o", "json"});
    REQUIRE(j.code == 0);
    auto obj = json::parse(j.out);
    auto check = cli({"id"}, "", {{"SESSION_MNEMONIC", obj.at("phrase").get<std::string>()}});
    CHECK(check.out == obj.at("session_id").get<std::string>() + "\n");
    CHECK(obj.at("phrase") != phrase);  // two calls, two identities
}

TEST_CASE("cli: seal | open round trips text, sender, timestamp and timers", "[cli]") {
    struct Case {
        std::string name, text;
        std::vector<std::string> options;
    };
    const std::vector<Case> cases{
        {"ascii", "hello Bob", {}},
        {"unicode", "héllo wörld ✓ 🙂 日本語 \u200d", {}},
        {"empty", "", {}},
        {"5000 characters", std::string(5000, 'x'), {}},
        {"inner newlines", "line 1\nline 2\n\nline 4", {}},
        {"expire after send", "gone soon", {"--expire-after-send", "300"}},
        {"expire after read", "read me once", {"--expire-after-read", "86400"}},
        {"display name and timestamp", "named", {"--display-name", "Alice ✓", "--timestamp", "1700000000123"}},
        {"legacy padding", "old style", {"--legacy-padding"}},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            const auto data = seal(kAlice, kBobId, c.text, c.options);
            CHECK(data.find('\n') == std::string::npos);
            const auto m = open_one(kBob, data);
            CHECK(m.at("sender_session_id") == kAliceId);
            // An empty DataMessage is not a visible message (desktop VisibleMessage sends a body only
            // when non-empty), so it opens as kind "other" with an empty body.
            CHECK(m.at("kind") == (c.text.empty() ? "other" : "text"));
            CHECK(m.at("body") == c.text);
            CHECK(m.at("line") == 1);
            CHECK(m.at("attachments") == json::array());
            CHECK(m.at("timestamp").get<std::int64_t>() > 0);
            if (c.name == "expire after send") {
                CHECK(m.at("expire_seconds") == 300);
                CHECK(m.at("expire_after_read") == false);
                CHECK(m.at("expiry") == "after_send");
            } else if (c.name == "expire after read") {
                CHECK(m.at("expire_seconds") == 86400);
                CHECK(m.at("expire_after_read") == true);
                CHECK(m.at("expiry") == "after_read");
            } else {
                CHECK(m.at("expire_seconds") == 0);
                CHECK(m.at("expiry") == "none");
            }
            if (c.name == "display name and timestamp") {
                CHECK(m.at("timestamp") == 1700000000123);
                CHECK(m.at("sig_timestamp") == 1700000000123);
                CHECK(m.at("display_name") == "Alice ✓");
            }
        }
    }
    SECTION("an empty message is sealed with a warning") {
        auto r = cli({"seal", "--to", kBobId}, "", {{"SESSION_MNEMONIC", kAlice}});
        CHECK(r.code == 0);
        CHECK(r.err.find("empty") != std::string::npos);
    }
    SECTION("one trailing newline is the shell's and is dropped") {
        CHECK(open_one(kBob, seal(kAlice, kBobId, "hi\n")).at("body") == "hi");
        CHECK(open_one(kBob, seal(kAlice, kBobId, "hi\n\n")).at("body") == "hi\n");
    }
    SECTION("seal -o json carries the data, recipient and timestamp") {
        auto r = cli({"seal", "--to", kBobId, "-o", "json", "--timestamp", "42"}, "x", {{"SESSION_MNEMONIC", kAlice}});
        REQUIRE(r.code == 0);
        auto j = json::parse(r.out);
        CHECK(j.at("to") == kBobId);
        CHECK(j.at("timestamp") == 42);
        CHECK(open_one(kBob, j.at("data")).at("timestamp") == 42);
    }
    SECTION("open -o text prints time, sender, kind and body") {
        auto data = seal(kAlice, kBobId, "plain", {"--timestamp", "1700000000000"});
        auto r = cli({"open", "-o", "text"}, data + "\n", {{"SESSION_MNEMONIC", kBob}});
        CHECK(r.code == 0);
        CHECK(r.out == "2023-11-14T22:13:20.000Z " + kAliceId + " [text]: plain\n");
    }
}

TEST_CASE("cli: open reports each bad line as an error object and keeps going", "[cli]") {
    const auto good = seal(kAlice, kBobId, "survivor");
    const auto for_alice = seal(kBob, kAliceId, "not for bob");
    std::string flipped = good;
    flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
    const std::string input = "garbage!!\n" + good + "\n\n   \nQUJD\n" + for_alice + "\n" + flipped + "\n" +
                              std::string(3000, 'A') + "\n" + good + "\r\n";
    auto r = cli({"open"}, input, {{"SESSION_MNEMONIC", kBob}});
    CHECK(r.code == 3);
    auto lines = r.json_lines();
    REQUIRE(lines.size() == 7);  // the two blank lines are skipped
    CHECK(lines[0].at("line") == 1);
    CHECK(lines[0].contains("error"));
    CHECK(lines[1].at("body") == "survivor");
    CHECK(lines[2].at("line") == 5);
    CHECK(lines[2].contains("error"));
    CHECK(lines[3].at("error").get<std::string>().find("not for us") != std::string::npos);
    CHECK(lines[4].contains("error"));
    CHECK(lines[5].contains("error"));
    CHECK(lines[6].at("body") == "survivor");
    CHECK(lines[6].at("line") == 9);
    CHECK(r.err.find("5 of 7") != std::string::npos);

    SECTION("random bytes never crash it") {
        std::mt19937 gen(1234);
        std::string noise;
        for (int i = 0; i < 20000; ++i) noise.push_back(static_cast<char>(gen() & 0xff));
        auto n = cli({"open"}, noise, {{"SESSION_MNEMONIC", kBob}});
        CHECK(n.code == 3);
        for (const auto& l : n.json_lines()) CHECK(l.contains("error"));
    }
    SECTION("an over-long line is an error, and the next line still opens") {
        auto r = cli({"open"}, std::string(15 * 1024 * 1024, 'A') + "\n" + good + "\n", {{"SESSION_MNEMONIC", kBob}});
        CHECK(r.code == 3);
        auto l = r.json_lines();
        REQUIRE(l.size() == 2);
        CHECK(l[0].at("error").get<std::string>().find("longer than") != std::string::npos);
        CHECK(l[1].at("body") == "survivor");
    }
    SECTION("empty input is success with no output") {
        auto e = cli({"open"}, "", {{"SESSION_MNEMONIC", kBob}});
        CHECK(e.code == 0);
        CHECK(e.out.empty());
    }
}

TEST_CASE("cli: bad recipient Session IDs are usage errors naming the problem", "[cli]") {
    const std::string key(64, 'a');
    struct Bad {
        std::string id, says;
    };
    for (const auto& b : std::vector<Bad>{{"03" + key, "03"},
                                          {"15" + key, "15"},
                                          {"25" + key, "25"},
                                          {"05" + key.substr(2), "66"},
                                          {"05" + key + "aa", "66"},
                                          {"05" + key.substr(1) + "z", "position 65"},
                                          {"", "66"},
                                          {"05" + std::string(64, '0'), "low-order"}}) {
        auto r = cli({"seal", "--to", b.id}, "hi", {{"SESSION_MNEMONIC", kAlice}});
        INFO(b.id << ": " << r.err);
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("--to") != std::string::npos);
        CHECK(r.err.find(b.says) != std::string::npos);
        if (b.says == "low-order") continue;  // parses, so send would build a mainnet client: not in tests
        auto s = cli({"send", b.id, "hi"}, "", {{"SESSION_MNEMONIC", kAlice}});
        CHECK(s.code == 2);
    }
}

TEST_CASE("cli: usage errors exit 2 with a precise message", "[cli]") {
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}};
    struct Bad {
        std::vector<std::string> args;
        std::string input, says;
    };
    for (const auto& b : std::vector<Bad>{
             {{}, "", "usage"},
             {{"frobnicate"}, "", "unknown verb"},
             {{"id", "--frobnicate"}, "", "unknown option --frobnicate"},
             {{"id", "-x"}, "", "unknown option -x"},
             {{"id", "-o", "xml"}, "", "json or text"},
             {{"id", "-o"}, "", "needs a value"},
             {{"id", "extra"}, "", "expected 0 arguments"},
             {{"id", "--to", kBobId}, "", "does not take --to"},
             {{"seal"}, "hi", "--to"},
             {{"seal", "--to", kBobId, "--to", kBobId}, "hi", "given twice"},
             {{"seal", "--to", kBobId, "--expire-after-send", "0"}, "hi", "at least 1"},
             {{"seal", "--to", kBobId, "--expire-after-send", "-5"}, "hi", "non-negative integer"},
             {{"seal", "--to", kBobId, "--expire-after-read", "99999999999"}, "hi", "maximum"},
             {{"seal", "--to", kBobId, "--expire-after-read", "5", "--expire-after-send", "5"}, "hi", "exclude"},
             {{"seal", "--to", kBobId, "--timestamp", "12abc"}, "hi", "--timestamp"},
             {{"seal", "--to", kBobId, "--legacy-padding=yes"}, "hi", "takes no value"},
             {{"seal", "--to", kBobId}, std::string("bad \xff\xfe utf8"), "UTF-8"},
             {{"receive", "--last-hash", "short"}, "", "43-character"},
             {{"watch", "--interval", "0"}, "", "at least 1"},
             {{"send"}, "", "expected 1 to 2 arguments"},
         }) {
        auto r = cli(b.args, b.input, alice);
        INFO((b.args.empty() ? std::string("(none)") : b.args[0]) << ": " << r.err);
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find(b.says) != std::string::npos);
    }
}

TEST_CASE("cli: seal and open need the phrase from the environment or a file, not stdin", "[cli]") {
    auto r = cli({"seal", "--to", kBobId}, kAlice + "\nhello\n");
    CHECK(r.code == 2);
    CHECK(r.err.find("reads its data from stdin") != std::string::npos);
    CHECK(r.err.find("SESSION_MNEMONIC") != std::string::npos);
    auto o = cli({"open"}, kAlice + "\n");
    CHECK(o.code == 2);
    const auto file = write_phrase_file("bob.phrase", kBob);
    auto ok = cli({"open", "--phrase-file", file.string()}, seal(kAlice, kBobId, "via file") + "\n");
    CHECK(ok.code == 0);
    CHECK(ok.json_lines().at(0).at("body") == "via file");
}

TEST_CASE("cli: random bytes in argv, the phrase and stdin give a clean error, never a crash", "[cli]") {
    std::mt19937 gen(99);
    auto noise = [&](std::size_t max) {
        std::string out(gen() % max + 1, '\0');
        for (auto& c : out) c = static_cast<char>(gen() % 255 + 1);  // argv and env cannot hold NUL
        return out;
    };
    for (int i = 0; i < 25; ++i) {
        auto argv_noise = cli({noise(40), noise(40)});
        CHECK(argv_noise.code == 2);
        auto phrase_noise = cli({"id"}, "", {{"SESSION_MNEMONIC", noise(300)}});
        CHECK(phrase_noise.code == 2);
        auto flag_noise = cli({"seal", "--to", noise(80)}, noise(200), {{"SESSION_MNEMONIC", kAlice}});
        CHECK(flag_noise.code == 2);
        auto stdin_noise = cli({"seal", "--to", kBobId}, noise(3000), {{"SESSION_MNEMONIC", kAlice}});
        CHECK((stdin_noise.code == 0 || stdin_noise.code == 2));  // 2 unless the noise happens to be UTF-8
    }
}

TEST_CASE("cli: help and version succeed; help documents the exit codes", "[cli]") {
    auto h = cli({"--help"});
    CHECK(h.code == 0);
    for (const char* s : {"new", "id", "seal", "open", "send", "receive", "watch", "SESSION_MNEMONIC", "--phrase-file",
                          "--network", "Exit codes", "  2  ", "  3  ", "  4  "})
        CHECK(h.out.find(s) != std::string::npos);
    auto v = cli({"--version"});
    CHECK(v.code == 0);
    CHECK(v.out.starts_with("session-cli "));
}

#ifdef SESSION_LOCALNET_PATH
namespace {

// Waits up to `seconds` for `pred`; returns whether it became true. (A bound, not a timing assertion.)
template <class Pred>
bool eventually(Pred pred, int seconds = 20) {
    for (int i = 0; i < seconds * 20; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

}  // namespace

TEST_CASE("cli: send, receive and watch against session-localnet", "[cli][localnet]") {
    // Catch runs this case once per SECTION: each run starts its own network.
    const auto net_file = (scratch() / "net.json").string();
    fs::remove(net_file);
    Child net = spawn(SESSION_LOCALNET_PATH, {"--network-file", net_file, "--quiet"});
    struct StopNetwork {  // also when a REQUIRE ends the run early
        Child& net;
        ~StopNetwork() {
            if (net.pid > 0) {
                ::kill(net.pid, SIGTERM);
                net.wait();
            }
        }
    } stop_network{net};
    REQUIRE(eventually([&] { return fs::exists(net_file) && fs::file_size(net_file) > 0; }));
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}}, bob{{"SESSION_MNEMONIC", kBob}};

    auto sent = cli({"--network", net_file, "send", kBobId, "hello over localnet ✓"}, "", alice);
    INFO(sent.err);
    REQUIRE(sent.code == 0);
    const std::string hash1 = trim(sent.out);
    CHECK(hash1.size() == 43);
    CHECK(sent.err.find("stored by") != std::string::npos);

    auto got = cli({"--network", net_file, "receive", "-o", "json"}, "", bob);
    INFO(got.err);
    REQUIRE(got.code == 0);
    auto lines = got.json_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("hash") == hash1);
    CHECK(lines[0].at("sender_session_id") == kAliceId);
    CHECK(lines[0].at("body") == "hello over localnet ✓");
    CHECK(lines[0].at("kind") == "text");

    // Text on stdin, with a timer and a display name; -o json on send.
    auto sent2 = cli({"--network", net_file, "send", kBobId, "-o", "json", "--expire-after-send", "600",
                      "--display-name", "Alice"},
                     "second\n", alice);
    REQUIRE(sent2.code == 0);
    const auto s2 = json::parse(sent2.out);
    CHECK(s2.at("to") == kBobId);
    CHECK(s2.at("confirmed").get<int>() >= 1);
    auto after = cli({"--network", net_file, "receive", "-o", "json", "--last-hash", hash1}, "", bob);
    REQUIRE(after.code == 0);
    auto only = after.json_lines();
    REQUIRE(only.size() == 1);
    CHECK(only[0].at("body") == "second");
    CHECK(only[0].at("hash") == s2.at("hash"));
    CHECK(only[0].at("expiry") == "after_send");
    CHECK(only[0].at("expire_seconds") == 600);
    CHECK(only[0].at("display_name") == "Alice");

    SECTION("watch prints new messages and stops cleanly on SIGTERM") {
        Child watch = spawn(SESSION_CLI_PATH, {"--network", net_file, "watch", "--interval", "1", "-o", "json",
                                               "--last-hash", s2.at("hash").get<std::string>()},
                            "", bob);
        auto third = cli({"--network", net_file, "send", kBobId, "third"}, "", alice);
        REQUIRE(third.code == 0);
        CHECK(eventually([&] { return watch.out_so_far().find("\"third\"") != std::string::npos; }));
        ::kill(watch.pid, SIGTERM);
        auto w = watch.wait();
        CHECK(w.code == 0);
        CHECK(w.err.find("stopped after") != std::string::npos);
        auto seen = w.json_lines();
        REQUIRE(seen.size() == 1);  // never twice, and nothing before --last-hash
        CHECK(seen[0].at("body") == "third");
    }
    SECTION("watch --count stops by itself") {
        auto w = cli({"--network", net_file, "watch", "--interval", "1", "--count", "2", "-o", "json"}, "", bob);
        CHECK(w.code == 0);
        CHECK(w.json_lines().size() == 2);  // both earlier messages, once each
    }
    SECTION("--state resumes a restarted receive where the last one stopped") {
        const auto state = (scratch() / "bob.state").string();
        fs::remove(state);
        auto first = cli({"--network", net_file, "receive", "-o", "json", "--state", state}, "", bob);
        INFO(first.err);
        REQUIRE(first.code == 0);
        CHECK(first.json_lines().size() == 2);
        auto third = cli({"--network", net_file, "send", kBobId, "third"}, "", alice);
        REQUIRE(third.code == 0);
        // A new process, no --last-hash: only what came since, and it says where it resumed.
        auto next = cli({"--network", net_file, "receive", "-o", "json", "--state", state}, "", bob);
        INFO(next.err);
        REQUIRE(next.code == 0);
        auto lines = next.json_lines();
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].at("body") == "third");
        CHECK(next.err.find("resuming after " + s2.at("hash").get<std::string>()) != std::string::npos);
        auto none = cli({"--network", net_file, "receive", "-o", "json", "--state", state}, "", bob);
        REQUIRE(none.code == 0);
        CHECK(none.json_lines().empty());
        // Another account's state file is a usage error naming the file.
        auto wrong = cli({"--network", net_file, "receive", "--state", state}, "", alice);
        CHECK(wrong.code == 2);
        CHECK(wrong.err.find(state) != std::string::npos);
        CHECK(wrong.err.find("another account") != std::string::npos);
    }
    SECTION("a missing network file is a usage error") {
        auto r = cli({"--network", (scratch() / "absent.json").string(), "receive"}, "", bob);
        CHECK(r.code == 2);
        CHECK(r.err.find("--network") != std::string::npos);
    }
    SECTION("an unreachable network is exit code 4") {
        ::kill(net.pid, SIGTERM);
        net.wait();
        net.pid = -1;
        auto r = cli({"--network", net_file, "receive"}, "", bob);
        CHECK(r.code == 4);
        auto s = cli({"--network", net_file, "send", kAliceId, "nobody home"}, "", bob);
        CHECK(s.code == 4);
    }
}
#endif

TEST_CASE("cli: open shows the real recipient of a sync copy as sync_target", "[cli]") {
    using namespace session;
    auto self = Identity::from_phrase(kPuffin);
    REQUIRE(self);
    const std::string other = "05" + std::string(64, '1');
    auto to = SessionId::parse(other);
    REQUIRE(to);
    envelope::OutgoingMessage m;
    m.body = "sent from my phone";
    m.timestamp_ms = 1'700'000'000'000;
    m.sync_target = other;
    auto sealed = envelope::seal(*self, self->session_id(), m);
    REQUIRE(sealed);
    auto r = cli({"open"}, envelope::to_swarm_data(*sealed) + "\n", {{"SESSION_MNEMONIC", kPuffin}});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j.at("sync_target") == other);
    CHECK(j.at("sender_session_id") == self->session_id().hex());
    // An ordinary message has no such field.
    m.sync_target.reset();
    auto plain = envelope::seal(*self, *to, m);
    REQUIRE(plain);
    auto other_open = cli({"open"}, envelope::to_swarm_data(*plain) + "\n", {{"SESSION_MNEMONIC", kPuffin}});
    CHECK(other_open.code == 3);  // sealed for someone else: an error line, not a sync_target
}
