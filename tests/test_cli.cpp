// test_cli.cpp: drives the built session-cli binary (path from SESSION_CLI_PATH) like a user would:
// stdin, environment, argv, stdout/stderr and the exit code. Offline verbs only; the network verbs
// are exercised against session-localnet at the end when SESSION_LOCALNET_PATH is available.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "session/envelope.hpp"
#include "session/keys.hpp"
#include "support/exec_image.hpp"
#include "support/ports.hpp"
#include "support/vectors.hpp"

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
    std::optional<int> status;  // once reaped

    // Whether the child has ended (reaps it without waiting).
    bool ended() {
        int st = 0;
        if (!status && ::waitpid(pid, &st, WNOHANG) == pid) status = st;
        return status.has_value();
    }
    // Waits for the child and collects its output.
    Run wait() {
        if (!status) {
            int st = 0;
            ::waitpid(pid, &st, 0);
            status = st;
        }
        Run r;
        r.code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
        r.out = slurp(out_path);
        r.err = slurp(err_path);
        return r;
    }
    std::string out_so_far() const { return slurp(out_path); }
    std::size_t lines_so_far() const {
        const auto out = slurp(out_path);
        return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n'));
    }
};

// How a child differs from a plain run.
struct Extra {
    bool close_stdin = false;       // `<&-`
    std::optional<uid_t> uid;       // run as this user (the tests may run as root, who ignores permissions)
    std::string stderr_path;        // stderr to this path (e.g. a terminal's) instead of a file
};

// The value that removes a variable from the child's environment.
const std::string kUnset = "\x01unset";

// Starts `binary args…` with `input` on stdin and our environment, minus the variables session-cli
// reads (SESSION_MNEMONIC, SESSION_NETWORK, SESSION_OUTPUT; XDG_CONFIG_HOME points at an empty
// directory, so no config file of the machine's user applies), plus `env`.
Child spawn(const std::string& binary, const std::vector<std::string>& args, const std::string& input = "",
            const std::map<std::string, std::string>& env = {}, const Extra& extra = {}) {
    static int counter = 0;
    const auto base = scratch() / ("run" + std::to_string(++counter));
    {
        std::ofstream(base.string() + ".in", std::ios::binary) << input;
    }
    std::map<std::string, std::optional<std::string>> vars{{"XDG_CONFIG_HOME", (scratch() / "no-config").string()},
                                                           {"SESSION_MNEMONIC", std::nullopt},
                                                           {"SESSION_NETWORK", std::nullopt},
                                                           {"SESSION_OUTPUT", std::nullopt}};
    for (const auto& [k, v] : env) vars[k] = v == kUnset ? std::nullopt : std::optional<std::string>(v);
    const session::test::ExecImage image(binary, args, vars);  // before the fork: the child must not allocate

    Child c;
    const std::string in = base.string() + ".in";
    c.out_path = base.string() + ".out";
    c.err_path = base.string() + ".err";
    if (!extra.stderr_path.empty()) std::ofstream(c.err_path).flush();  // stays empty: stderr goes elsewhere
    c.pid = ::fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        int fi = ::open(in.c_str(), O_RDONLY);
        int fo = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int fe = extra.stderr_path.empty() ? ::open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666)
                                           : ::open(extra.stderr_path.c_str(), O_WRONLY | O_NOCTTY);
        if (fi < 0 || fo < 0 || fe < 0) ::_exit(127);
        ::dup2(fi, 0);
        ::dup2(fo, 1);
        ::dup2(fe, 2);
        if (extra.close_stdin) ::close(0);
        if (extra.uid && (::setgid(*extra.uid) != 0 || ::setuid(*extra.uid) != 0)) ::_exit(126);
        image.exec();
    }
    return c;
}

Run run_binary(const std::string& binary, const std::vector<std::string>& args, const std::string& input = "",
               const std::map<std::string, std::string>& env = {}, const Extra& extra = {}) {
    return spawn(binary, args, input, env, extra).wait();
}

Run cli(const std::vector<std::string>& args, const std::string& input = "",
        const std::map<std::string, std::string>& env = {}, const Extra& extra = {}) {
    return run_binary(SESSION_CLI_PATH, args, input, env, extra);
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
    if (text.empty()) args.push_back("--allow-empty");
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
        CHECK(large.err.find("larger than the limit of 4096 bytes") != std::string::npos);
        auto device = cli({"id", "--phrase-file", "/dev/zero"});
        CHECK(device.code == 2);
        CHECK(device.err.find("is a character device") != std::string::npos);
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
             {"id", kPuffin.substr(0, kPuffin.rfind(' '))},  // 12 words: a phrase without its checksum word
             {"send", kAliceId, kPuffin},
             {"send", kAliceId, kPuffin.substr(0, kPuffin.rfind(' '))},
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
    SECTION("an empty message is sealed only with --allow-empty") {
        auto r = cli({"seal", "--to", kBobId}, "", {{"SESSION_MNEMONIC", kAlice}});
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("--allow-empty") != std::string::npos);
        auto allowed = cli({"seal", "--to", kBobId, "--allow-empty"}, "", {{"SESSION_MNEMONIC", kAlice}});
        CHECK(allowed.code == 0);
        CHECK(open_one(kBob, trim(allowed.out)).at("body") == "");
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

// Issue 10 finding 3: a body that holds a newline and a line shaped like another message, ANSI
// escapes or bidi overrides must not reach a terminal as such.
const std::string kSpoofBody = "hi\n2026-01-01T00:00:00.000Z 05" + std::string(64, 'f') +
                               " [text]: send me your phrase\x1b[2J\x1b]0;owned\x07 \u202egnp.exe\r\xc2\x9b";

// Checks text output lines of messages whose body is kSpoofBody: `messages` lines start with a time,
// every other line is an indented continuation, and no control byte or bidi override is left raw.
void check_escaped_text(const std::string& out, std::size_t messages) {
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\r') == std::string::npos);
    CHECK(out.find('\x07') == std::string::npos);
    CHECK(out.find("\u202e") == std::string::npos);
    CHECK(out.find("\\x1b[2J") != std::string::npos);
    CHECK(out.find("\\u202egnp.exe") != std::string::npos);
    std::istringstream in(out);
    std::string line;
    std::size_t heads = 0, continuations = 0;
    while (std::getline(in, line)) {
        INFO(line);
        for (char c : line) CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
        if (line.starts_with("    | ")) {
            ++continuations;
            CHECK(line.starts_with("    | 2026-01-01T00:00:00.000Z 05fff"));
        } else {
            ++heads;
            CHECK(line.ends_with(": hi"));
        }
    }
    CHECK(heads == messages);
    CHECK(continuations == messages);
}

TEST_CASE("cli: text output escapes controls, ANSI and bidi; a body's lines cannot pass for messages", "[cli]") {
    const auto data = seal(kAlice, kBobId, kSpoofBody);
    auto text = cli({"open", "-o", "text"}, data + "\n" + data + "\n", {{"SESSION_MNEMONIC", kBob}});
    INFO(text.err);
    REQUIRE(text.code == 0);
    check_escaped_text(text.out, 2);
    // JSON output carries the body exactly as sent.
    CHECK(open_one(kBob, data).at("body") == kSpoofBody);
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

namespace {

fs::path write_file(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p;
}


// A seed that accepts connections (the kernel completes them) and never answers: a frozen network.
struct FrozenSeed {
    int fd = -1;
    int port = 0;
    FrozenSeed() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 64) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port = ntohs(a.sin_port);
    }
    ~FrozenSeed() { ::close(fd); }
    FrozenSeed(const FrozenSeed&) = delete;
    FrozenSeed& operator=(const FrozenSeed&) = delete;
};

// A network file whose only seed is http://127.0.0.1:PORT (no node list): every network verb must
// go through that seed, and nothing leaves the machine.
std::string network_file_for(int port, const std::string& name) {
    return write_file(scratch() / name, "{\"seeds\": [\"http://127.0.0.1:" + std::to_string(port) + "\"]}\n").string();
}

std::string dead_network() {
    static const std::string file = network_file_for(session::test::unused_loopback_port(), "dead-network.json");
    return file;
}

// Waits up to `seconds` for `pred`; returns whether it became true. (A bound, not a timing assertion.)
template <class Pred>
bool within(int seconds, Pred pred) {
    for (int i = 0; i < seconds * 20; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

// A fresh directory that a user other than root can use too.
fs::path open_dir(const std::string& name) {
    auto d = scratch() / name;
    fs::create_directories(d);
    fs::permissions(scratch(), fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
    fs::permissions(d, fs::perms::all);
    return d;
}

}  // namespace

TEST_CASE("cli: --state accepts only a regular file of ours, refuses the rest at once and leaves no lock file",
          "[cli][state]") {
    const std::map<std::string, std::string> bob{{"SESSION_MNEMONIC", kBob}};
    const auto dir = open_dir("state-refusals");
    const auto fifo = dir / "fifo";
    fs::remove(fifo);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto readme = write_file(dir / "README.md", "# My project\n\nSomebody's real file.\n");
    const auto package = write_file(dir / "package.json", "{\"name\": \"x\", \"version\": \"1.0.0\"}");
    const auto big = dir / "huge.state";
    { std::ofstream touch(big); }
    fs::resize_file(big, 64ULL * 1024 * 1024 + 1);  // sparse: one byte over the cap
    struct Case {
        std::string path, says;
    };
    for (const auto& c : std::vector<Case>{{dir.string(), "is a directory"},
                                           {"/dev/full", "is a character device"},
                                           {"/dev/zero", "is a character device"},
                                           {fifo.string(), "is a FIFO"},
                                           {readme.string(), "not a session-client state file"},
                                           {package.string(), "not a session-client state file"},
                                           {big.string(), "larger than the limit of 67108864 bytes"}}) {
        for (const char* verb : {"receive", "watch"}) {
            auto r = cli({"--network", dead_network(), verb, "--state", c.path}, "", bob);
            INFO(verb << " --state " << c.path << ": " << r.err);
            CHECK(r.code == 2);
            CHECK(r.out.empty());
            CHECK(r.err.find(c.path) != std::string::npos);
            CHECK(r.err.find(c.says) != std::string::npos);
            CHECK(r.err.find("delete") == std::string::npos);  // never advice to delete somebody's file
            CHECK_FALSE(fs::exists(c.path + ".lock"));
        }
    }
    CHECK(slurp(readme) == "# My project\n\nSomebody's real file.\n");

    SECTION("a damaged state file of ours may be deleted to start over") {
        const auto damaged = write_file(dir / "damaged.state", "{\"account\":\"05" + std::string(20, 'a'));
        auto r = cli({"--network", dead_network(), "receive", "--state", damaged.string()}, "", bob);
        CHECK(r.code == 2);
        CHECK(r.err.find("delete it to start over") != std::string::npos);
        CHECK_FALSE(fs::exists(damaged.string() + ".lock"));
    }
    SECTION("a usable path leaves no lock file after the run, even a failed one") {
        const auto state = (dir / "fresh.state").string();
        auto r = cli({"--network", dead_network(), "receive", "--state", state}, "", bob);
        CHECK(r.code == 4);
        CHECK_FALSE(fs::exists(state + ".lock"));
    }
}

TEST_CASE("cli: a --state place that cannot be written is a local error (5) at once", "[cli][state]") {
    const auto dir = open_dir("read-only");
    const auto net = network_file_for(session::test::unused_loopback_port(), "read-only/net.json");
    fs::permissions(net, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                             fs::perms::others_exec);
    // Root ignores permissions: the child then runs as nobody.
    Extra as_user;
    if (::geteuid() == 0) as_user.uid = 65534;
    for (const char* verb : {"receive", "watch"}) {
        auto r = cli({"--network", net, verb, "--state", (dir / "bob.state").string()}, "", {{"SESSION_MNEMONIC", kBob}},
                     as_user);
        INFO(verb << ": " << r.err);
        CHECK(r.code == 5);
        CHECK(r.err.find("cannot write in directory " + dir.string()) != std::string::npos);
        CHECK(r.err.find("will retry") == std::string::npos);
    }
    auto missing = cli({"--network", net, "receive", "--state", (dir / "no-such-dir" / "s").string()}, "",
                       {{"SESSION_MNEMONIC", kBob}});
    CHECK(missing.code == 5);
    CHECK(missing.err.find("no-such-dir") != std::string::npos);
}

TEST_CASE("cli: an empty message needs --allow-empty, whatever stdin is", "[cli]") {
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}};
    Extra closed;
    closed.close_stdin = true;
    struct Case {
        std::vector<std::string> args;
        Extra extra;
        std::string says;
    };
    for (const auto& c : std::vector<Case>{
             {{"send", kBobId}, closed, "stdin is closed"},
             {{"send", kBobId}, {}, "stdin is empty"},
             {{"send", kBobId, ""}, {}, "TEXT is empty"},
             {{"seal", "--to", kBobId}, closed, "stdin is closed"},
             {{"seal", "--to", kBobId}, {}, "stdin is empty"},
         }) {
        auto args = c.args;
        args.insert(args.begin(), {"--network", dead_network()});
        auto r = cli(args, "", alice, c.extra);
        INFO(c.args[0] << " " << c.says << ": " << r.err);
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find(c.says) != std::string::npos);
        CHECK(r.err.find("--allow-empty") != std::string::npos);
        // With --allow-empty the message gets past the check: seal prints it, send reaches the
        // (unreachable) network.
        args.push_back("--allow-empty");
        auto allowed = cli(args, "", alice, c.extra);
        INFO(allowed.err);
        CHECK(allowed.code == (c.args[0] == "seal" ? 0 : 4));
    }
    // stdin from /dev/null, as cron gives it.
    auto devnull = spawn(SESSION_CLI_PATH, {"send", kBobId}, "", alice);
    CHECK(devnull.wait().code == 2);
    // id with a closed stdin fails as before: no phrase.
    CHECK(cli({"id"}, "", {}, closed).code == 2);
}

TEST_CASE("cli: exit codes: a message too large to store is bad input (2); seal warns at the real limit",
          "[cli]") {
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}};
    // 70,000 characters seal to about 93,500 base64 characters: under the 102,400 a storage server
    // takes, so no warning; 80,000 go over it.
    auto fits = cli({"seal", "--to", kBobId}, std::string(70'000, 'x'), alice);
    REQUIRE(fits.code == 0);
    CHECK(trim(fits.out).size() < 102'400);
    CHECK(fits.err.empty());
    auto over = cli({"seal", "--to", kBobId}, std::string(80'000, 'x'), alice);
    REQUIRE(over.code == 0);
    CHECK(trim(over.out).size() > 102'400);
    CHECK(over.err.find("refuses more than 102400 (76800 bytes decoded)") != std::string::npos);
    // send refuses the same before it touches the network.
    auto send = cli({"--network", dead_network(), "send", kBobId}, std::string(80'000, 'x'), alice);
    INFO(send.err);
    CHECK(send.code == 2);
    CHECK(send.err.find("message too large") != std::string::npos);
}

TEST_CASE("cli: the exit code table is the same in --help, the man page and docs/cli.md", "[cli][docs]") {
    // The man page has one ".TP / .B N / meaning" entry per code.
    const auto man = cli({"--print-man"}).out;
    const auto status = man.substr(man.find(".SH EXIT STATUS"));
    std::map<int, std::string> from_man;
    std::regex entry(R"(\.TP\n\.B (\d+)\n([^\n]+)\n)");
    for (auto it = std::sregex_iterator(status.begin(), status.end(), entry); it != std::sregex_iterator(); ++it)
        from_man[std::stoi((*it)[1])] = (*it)[2];
    REQUIRE(from_man.size() == 6);
    // docs/cli.md: "| N | meaning |" rows under "## Exit codes".
    const auto docs = slurp(fs::path(SESSION_SOURCE_DIR) / "docs" / "cli.md");
    const auto at = docs.find("## Exit codes");
    REQUIRE(at != std::string::npos);
    const auto section = docs.substr(at, docs.find("\n## ", at + 1) - at);
    std::map<int, std::string> from_docs;
    std::regex row(R"(\n\| (\d+) \| ([^\n]+) \|)");
    for (auto it = std::sregex_iterator(section.begin(), section.end(), row); it != std::sregex_iterator(); ++it)
        from_docs[std::stoi((*it)[1])] = (*it)[2];
    CHECK(from_docs == from_man);
    // --help lists every code with the start of its meaning.
    const auto help = cli({"--help"}).out;
    for (const auto& [code, meaning] : from_man)
        CHECK(help.find("  " + std::to_string(code) + "  " + meaning.substr(0, 20)) != std::string::npos);
}

namespace {

// Every "--name" in `text` (a roff page has "\fB\-\-name\fR"), comment lines left out (the
// generated files name the hidden options that made them there).
std::set<std::string> long_options_in(std::string text) {
    text = std::regex_replace(text, std::regex(R"((^|\n)(\.\\"|#)[^\n]*)"), "$1");
    text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
    text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
    std::set<std::string> out;
    std::regex opt(R"((^|[^A-Za-z0-9-])--([a-z][a-z-]*[a-z]))");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), opt); it != std::sregex_iterator(); ++it)
        out.insert((*it)[2]);
    return out;
}

// The text between `from` and the next `to` (or the end).
std::string between(const std::string& text, const std::string& from, const std::string& to) {
    const auto a = text.find(from);
    if (a == std::string::npos) return "";
    const auto b = text.find(to, a + from.size());
    return text.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// What bash completes for `words` (the last one being completed), with the generated script.
std::set<std::string> bash_completes(const fs::path& script, const std::vector<std::string>& words) {
    std::string array;
    for (const auto& w : words) array += " '" + w + "'";
    auto r = run_binary("/bin/bash",
                        {"-c", "source '" + script.string() + "'; COMP_WORDS=(" + array + "); COMP_CWORD=" +
                                   std::to_string(words.size() - 1) + "; _session_cli; printf '%s\\n' \"${COMPREPLY[@]}\""});
    REQUIRE(r.code == 0);
    std::set<std::string> out;
    std::istringstream in(r.out);
    for (std::string w; std::getline(in, w);)
        if (!w.empty()) out.insert(w.starts_with("--") ? w.substr(2) : w);
    return out;
}

// Which of `options` the parser lets each of `verbs` take. The verb's options are checked before
// its argument count, and the first one it does not take is named: so a run with all the options
// and too many arguments names one refused option (dropped for the next run) until only accepted
// ones are left and the count is what fails. --help and --version end the run with success
// before any check, so they are tried one by one. The verbs run side by side.
std::map<std::string, std::set<std::string>> parser_accepts(const std::set<std::string>& verbs,
                                                            const std::set<std::string>& options) {
    // How each option is spelled with a value, and which the parser does not know at all.
    std::map<std::string, std::vector<std::string>> spelled;
    for (const auto& o : options) {
        auto r = cli({"help", "--" + o});
        if (r.err.find("unknown option") != std::string::npos || r.err.find("is not accepted") != std::string::npos)
            continue;  // refused for every verb (--phrase), or a placeholder in prose (--name=value)
        spelled[o] = {"--" + o};
        if (r.err.find("needs a value") != std::string::npos) spelled[o].push_back(o == "output" ? "json" : "x");
    }
    struct Probe {
        std::set<std::string> left;  // not decided yet
        std::optional<Child> run;
    };
    std::map<std::string, std::set<std::string>> accepted;
    std::map<std::string, Probe> probes;
    for (const auto& v : verbs) {
        for (const auto& [o, words] : spelled) {
            if (o == "help" || o == "version") {
                if (cli({v, "a", "b", "c", "d", "e", "--" + o}).code == 0) accepted[v].insert(o);
            } else {
                probes[v].left.insert(o);
            }
        }
    }
    auto start = [&](const std::string& v, Probe& p) {
        std::vector<std::string> args{v, "a", "b", "c", "d", "e"};
        for (const auto& o : p.left) args.insert(args.end(), spelled[o].begin(), spelled[o].end());
        p.run.emplace(spawn(SESSION_CLI_PATH, args));
    };
    for (auto& [v, p] : probes) start(v, p);
    for (std::size_t round = 0; round <= spelled.size(); ++round) {
        bool running = false;
        for (auto& [v, p] : probes) {
            if (!p.run) continue;
            auto r = p.run->wait();
            p.run.reset();
            const auto named = r.err.find("does not take --");
            if (named != std::string::npos) {
                const auto rest = r.err.substr(named + 16);
                const std::string o = rest.substr(0, rest.find(' '));
                INFO(v << ": " << r.err);
                REQUIRE(p.left.erase(o) == 1);
                start(v, p);
                running = true;
            } else {
                INFO(v << ": " << r.err);
                CHECK(r.err.find("argument") != std::string::npos);  // the count, once every option passed
                accepted[v].insert(p.left.begin(), p.left.end());
            }
        }
        if (!running) break;
    }
    return accepted;
}

}  // namespace

TEST_CASE("cli: help, man page and completions list exactly the verbs and options the parser accepts",
          "[cli][docs]") {
    const auto help = cli({"--help"}).out;
    const auto man = cli({"--print-man"}).out;
    const auto zsh = cli({"--print-completion", "zsh"}).out;
    const auto bash_script = write_file(scratch() / "completion.bash", cli({"--print-completion", "bash"}).out);
    // The installed files are these very texts (generated at build time).
    const fs::path share = fs::path(SESSION_BINARY_DIR) / "share";
    CHECK(slurp(share / "session-cli.1") == man);
    CHECK(slurp(share / "session-cli.bash") == slurp(bash_script));
    CHECK(slurp(share / "_session-cli") == zsh);

    // The verbs: what bash offers first, and every list agrees.
    const auto verbs = bash_completes(bash_script, {"session-cli", ""});
    REQUIRE(verbs.size() >= 9);
    std::set<std::string> help_verbs, man_verbs, zsh_verbs;
    const std::string listing = help.substr(0, help.find("Global options"));
    std::regex verb_line(R"(\n  ([a-z][a-z-]*)[ \n])");
    for (auto it = std::sregex_iterator(listing.begin(), listing.end(), verb_line); it != std::sregex_iterator(); ++it)
        help_verbs.insert((*it)[1]);
    // roff writes a verb's hyphen as "\-" (mark-read).
    const auto roff = [](std::string s) {
        for (std::size_t at = s.find('-'); at != std::string::npos; at = s.find('-', at + 2)) s.insert(at, "\\");
        return s;
    };
    std::regex man_heading(R"(\n\.SS "([a-z](?:[a-z]|\\-)*))");
    for (auto it = std::sregex_iterator(man.begin(), man.end(), man_heading); it != std::sregex_iterator(); ++it)
        man_verbs.insert(std::regex_replace((*it)[1].str(), std::regex(R"(\\-)"), "-"));
    const auto zsh_list = between(zsh, "verbs=(", ")\n");
    std::regex zsh_item(R"(\n\s+'([a-z][a-z-]*):)");
    for (auto it = std::sregex_iterator(zsh_list.begin(), zsh_list.end(), zsh_item); it != std::sregex_iterator(); ++it)
        zsh_verbs.insert((*it)[1]);
    CHECK(help_verbs == verbs);
    CHECK(man_verbs == verbs);
    CHECK(zsh_verbs == verbs);
    for (const auto& v : verbs) {
        auto h = cli({v, "--help"});
        CHECK(h.code == 0);
        CHECK(h.out.starts_with("usage: session-cli " + v));
    }

    // Every option named anywhere, checked against the parser for every verb.
    std::set<std::string> all = long_options_in(help + man + zsh + slurp(bash_script));
    for (const auto& v : verbs) {
        const auto more = long_options_in(cli({"help", v}).out);
        all.insert(more.begin(), more.end());
    }
    CHECK(all.count("print-man") == 0);  // the build's hidden options are never advertised
    CHECK(all.count("print-completion") == 0);
    CHECK(all.count("allow-empty") == 1);
    auto accepts = parser_accepts(verbs, all);
    // The probe tells both answers apart.
    CHECK(accepts["seal"].count("timestamp") == 1);
    CHECK(accepts["send"].count("timestamp") == 0);
    CHECK(accepts["new"].count("network") == 1);
    CHECK(accepts["new"].count("phrase-file") == 0);
    const auto man_globals = long_options_in(between(man, ".SH GLOBAL OPTIONS", ".SH "));
    const auto zsh_globals = long_options_in(between(zsh, "globals=(", "\n    )"));
    for (const auto& v : verbs) {
        const auto verb_help = cli({"help", v}).out;
        const auto in_help = long_options_in(verb_help);
        auto in_man = long_options_in(between(man, "\n.SS \"" + roff(v), "\n.S"));
        in_man.insert(man_globals.begin(), man_globals.end());
        auto in_zsh = long_options_in(between(zsh, "\n                " + v + ")\n", "&& return"));
        in_zsh.insert(zsh_globals.begin(), zsh_globals.end());
        const auto in_bash = bash_completes(bash_script, {"session-cli", v, "--"});
        for (const auto& o : all) {
            const bool accepted = accepts[v].count(o) == 1;
            INFO(v << " --" << o);
            CHECK(in_help.count(o) == accepted);
            CHECK(in_man.count(o) == accepted);
            CHECK(in_zsh.count(o) == accepted);
            CHECK(in_bash.count(o) == accepted);
        }
    }
}

TEST_CASE("cli: per-verb help: VERB --help, VERB -h and help VERB", "[cli]") {
    const auto a = cli({"send", "--help"});
    const auto b = cli({"send", "-h"});
    const auto c = cli({"help", "send"});
    const auto d = cli({"--network", "x.json", "send", kBobId, "-h"});
    CHECK(a.code == 0);
    CHECK(a.out.starts_with("usage: session-cli send SESSION_ID [TEXT]"));
    CHECK(b.out == a.out);
    CHECK(c.out == a.out);
    CHECK(d.out == a.out);
    // Only what send takes: not seal's --timestamp or --legacy-padding, which it refuses.
    CHECK(a.out.find("--timestamp") == std::string::npos);
    CHECK(a.out.find("--legacy-padding") == std::string::npos);
    CHECK(cli({"send", kBobId, "hi", "--timestamp", "5"}, "", {{"SESSION_MNEMONIC", kAlice}}).code == 2);
    CHECK(a.out.find("--allow-empty") != std::string::npos);
    auto unknown = cli({"help", "frobnicate"});
    CHECK(unknown.code == 2);
    CHECK(unknown.err.find("unknown verb") != std::string::npos);
}

TEST_CASE("cli: every verb takes --network, -o, --verbose and --debug, so an alias may always add them", "[cli]") {
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}};
    const std::vector<std::string> globals{"--network", (scratch() / "not-read.json").string(), "-o", "json",
                                           "--verbose", "--debug"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.begin(), globals.begin(), globals.end());
        return args;
    };
    auto id = cli(with({"id"}), "", alice);
    CHECK(id.code == 0);
    CHECK(json::parse(id.out).at("session_id") == kAliceId);
    CHECK(cli(with({"new"})).code == 0);
    auto sealed = cli(with({"seal", "--to", kBobId}), "hi", alice);
    CHECK(sealed.code == 0);
    CHECK(cli(with({"open"}), json::parse(sealed.out).at("data").get<std::string>() + "\n", {{"SESSION_MNEMONIC", kBob}})
              .code == 0);
    CHECK(cli(with({"help"})).code == 0);
    CHECK(cli(with({"version"})).code == 0);
}

TEST_CASE("cli: defaults from SESSION_NETWORK, SESSION_OUTPUT and the config file; flags win", "[cli][config]") {
    const auto home = scratch() / "home";
    const auto xdg = scratch() / "xdg";
    fs::create_directories(xdg / "session-cli");
    fs::create_directories(home / ".config" / "session-cli");
    const auto config = xdg / "session-cli" / "config";
    auto env = [&](std::map<std::string, std::string> more) {
        more.emplace("SESSION_MNEMONIC", kAlice);
        more.emplace("XDG_CONFIG_HOME", xdg.string());
        return more;
    };
    const std::string id_json = "{\"session_id\":\"" + kAliceId + "\"}\n";

    write_file(config, "# my defaults\n\n  output = json  \n");
    CHECK(cli({"id"}, "", env({})).out == id_json);                                   // config
    CHECK(cli({"id"}, "", env({{"SESSION_OUTPUT", "text"}})).out == kAliceId + "\n");  // environment > config
    CHECK(cli({"id", "-o", "json"}, "", env({{"SESSION_OUTPUT", "text"}})).out == id_json);  // flag > environment
    auto bad_env = cli({"id"}, "", env({{"SESSION_OUTPUT", "xml"}}));
    CHECK(bad_env.code == 2);
    CHECK(bad_env.err.find("SESSION_OUTPUT") != std::string::npos);

    SECTION("~/.config/session-cli/config without XDG_CONFIG_HOME") {
        write_file(home / ".config" / "session-cli" / "config", "output = \"json\"\n");
        CHECK(cli({"id"}, "", env({{"XDG_CONFIG_HOME", kUnset}, {"HOME", home.string()}})).out == id_json);
    }
    SECTION("the network: flag > SESSION_NETWORK > config (relative to the config file)") {
        write_file(config, "network = net/missing.json\n");
        auto from_config = cli({"receive"}, "", env({}));
        CHECK(from_config.code == 2);
        CHECK(from_config.err.find((xdg / "session-cli" / "net" / "missing.json").string()) != std::string::npos);
        CHECK(from_config.err.find("config file " + config.string() + " line 1") != std::string::npos);
        auto from_env = cli({"receive"}, "", env({{"SESSION_NETWORK", dead_network()}}));
        CHECK(from_env.code == 4);
        CHECK(from_env.err.find("SESSION_NETWORK") != std::string::npos);
        auto from_flag = cli({"--network", dead_network(), "receive"}, "",
                             env({{"SESSION_NETWORK", (scratch() / "nope.json").string()}}));
        CHECK(from_flag.code == 4);
    }
    SECTION("a bad config file is a usage error naming the file and the line") {
        struct Bad {
            std::string text, says;
        };
        for (const auto& b : std::vector<Bad>{{"output = json\nnetwrok = x\n", "line 2: unknown key \"netwrok\""},
                                              {"output json\n", "line 1: expected key = value"},
                                              {"\n\noutput = xml\n", "line 3: output: expected json or text"},
                                              {"output = json\noutput = text\n", "line 2: output given twice"},
                                              {"network =\n", "line 1: network: expected a file name"}}) {
            write_file(config, b.text);
            auto r = cli({"id"}, "", env({}));
            INFO(b.text << " -> " << r.err);
            CHECK(r.code == 2);
            CHECK(r.out.empty());
            CHECK(r.err.find("config file " + config.string() + " " + b.says) != std::string::npos);
        }
        fs::remove(config);
        fs::create_directory(config);
        auto dir = cli({"id"}, "", env({}));
        CHECK(dir.code == 2);
        CHECK(dir.err.find("is a directory") != std::string::npos);
    }
}

TEST_CASE("cli: an unreachable network says so, with what to check; --debug shows the library's lines", "[cli][network]") {
    const std::map<std::string, std::string> bob{{"SESSION_MNEMONIC", kBob}};
    const auto net = dead_network();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"receive"}, std::vector<std::string>{"send", kAliceId, "hello"}}) {
        auto with_network = args;
        with_network.insert(with_network.begin(), {"--network", net});
        auto r = cli(with_network, "", bob);
        INFO(r.err);
        CHECK(r.code == 4);
        CHECK(r.err.find("the network is unreachable") != std::string::npos);
        CHECK(r.err.find(net) != std::string::npos);
        CHECK(r.err.find("still running") != std::string::npos);
        // Piped stderr: no status line and no log lines.
        CHECK(r.err.find("waiting for the network") == std::string::npos);
        CHECK(r.err.find("[debug]") == std::string::npos);
    }
    auto debug = cli({"--network", net, "receive", "--debug"}, "", bob);
    CHECK(debug.code == 4);
    CHECK(debug.err.find("session-cli: [debug] network: asking seed http://127.0.0.1:") != std::string::npos);
    CHECK(leaks_no_word(debug.err, kBob));
}

TEST_CASE("cli: broadcast refuses a bad recipients file, naming the line, before anything is sent", "[cli]") {
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}};
    // No --network: every case must fail before a Client exists, so nothing leaves the machine.
    auto missing = cli({"broadcast", "hi"}, "", alice);
    CHECK(missing.code == 2);
    CHECK(missing.err.find("--recipients FILE") != std::string::npos);
    const auto bad = write_file(scratch() / "bad-recipients.txt", "# team\n" + kBobId + "\n05" + std::string(63, 'a') + "\n");
    auto r = cli({"broadcast", "--recipients", bad.string(), "hi"}, "", alice);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("--recipients line 3: ") != std::string::npos);
    const auto comments = write_file(scratch() / "no-recipients.txt", "# nobody yet\n\n   \n");
    auto none = cli({"broadcast", "--recipients", comments.string(), "hi"}, "", alice);
    CHECK(none.code == 2);
    CHECK(none.err.find("no Session ID") != std::string::npos);
    auto dir = cli({"broadcast", "--recipients", scratch().string(), "hi"}, "", alice);
    CHECK(dir.code == 2);
    CHECK(dir.err.find("is a directory") != std::string::npos);
    const auto good = write_file(scratch() / "recipients.txt", kBobId + "\n");
    auto empty = cli({"broadcast", "--recipients", good.string(), ""}, "", alice);
    CHECK(empty.code == 2);
    CHECK(empty.err.find("--allow-empty") != std::string::npos);

    SECTION("an unreachable network is said once, not once per recipient") {
        const auto two = write_file(scratch() / "two-recipients.txt", kBobId + "\n" + kAliceId + "\n");
        auto down = cli({"--network", dead_network(), "broadcast", "--recipients", two.string(), "hi"}, "", alice);
        INFO(down.err);
        CHECK(down.code == 4);
        CHECK(down.out.empty());
        const auto first = down.err.find("the network is unreachable");
        REQUIRE(first != std::string::npos);
        CHECK(down.err.find("the network is unreachable", first + 1) == std::string::npos);
        CHECK(down.err.find("sent to 0 of 2 recipients") != std::string::npos);
        auto js = cli({"--network", dead_network(), "broadcast", "--recipients", two.string(), "-o", "json", "hi"}, "",
                      alice);
        CHECK(js.code == 4);
        auto lines = js.json_lines();
        REQUIRE(lines.size() == 2);
        CHECK(lines[0].at("to") == kBobId);
        CHECK(lines[1].at("to") == kAliceId);
        CHECK(lines[1].at("error").get<std::string>().find("unreachable") != std::string::npos);
    }
}

namespace {

// A pseudo-terminal: a child's stderr goes to `slave`, and what it shows is read from the master.
struct Terminal {
    int master = -1;
    std::string slave, screen;
    Terminal() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master >= 0);
        REQUIRE(::grantpt(master) == 0);
        REQUIRE(::unlockpt(master) == 0);
        slave = ::ptsname(master);
        ::fcntl(master, F_SETFL, O_NONBLOCK);
    }
    ~Terminal() { ::close(master); }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    const std::string& read() {
        char buf[4096];
        for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) screen.append(buf, static_cast<std::size_t>(n));
        return screen;
    }
    bool shows(const std::string& text) { return read().find(text) != std::string::npos; }
};

}  // namespace

TEST_CASE("cli: on a terminal a slow network shows what is awaited and the requests so far", "[cli][network]") {
    Terminal terminal;
    FrozenSeed frozen;
    const auto net = network_file_for(frozen.port, "frozen.json");
    Extra to_terminal;
    to_terminal.stderr_path = terminal.slave;
    auto child = spawn(SESSION_CLI_PATH, {"--network", net, "receive"}, "", {{"SESSION_MNEMONIC", kBob}}, to_terminal);
    CHECK(within(60, [&] { return terminal.shows("waiting for the network: polling your swarm"); }));
    auto r = child.wait();
    terminal.read();
    INFO(terminal.screen);
    CHECK(terminal.screen.find(" request") != std::string::npos);
    CHECK(r.code == 4);
    CHECK(terminal.screen.find("the network is unreachable") != std::string::npos);
}

TEST_CASE("cli: Ctrl-C stops watch at once, even during a hung poll, and leaves no lock file", "[cli][network]") {
    FrozenSeed frozen;
    const auto net = network_file_for(frozen.port, "frozen-watch.json");
    const auto state = (scratch() / "watch-hung.state").string();
    auto child = spawn(SESSION_CLI_PATH, {"--network", net, "watch", "--debug", "--state", state}, "",
                       {{"SESSION_MNEMONIC", kBob}});
    // The poll has started once the library asks the (frozen) seed.
    REQUIRE(within(30, [&] { return slurp(child.err_path).find("asking seed") != std::string::npos; }));
    ::kill(child.pid, SIGINT);
    auto r = child.wait();
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.find("watch: stopped after 1 poll(s)") != std::string::npos);
    // The hung poll was left behind, not waited for (its seed would time out only after seconds).
    CHECK(r.err.find("poll 1 failed") == std::string::npos);
    CHECK(r.err.find("nothing received yet; --state " + state + " alone resumes") != std::string::npos);
    CHECK_FALSE(fs::exists(state + ".lock"));

    SECTION("also with the status line drawn on a terminal") {
        Terminal terminal;
        Extra to_terminal;
        to_terminal.stderr_path = terminal.slave;
        auto shown = spawn(SESSION_CLI_PATH, {"--network", net, "watch"}, "", {{"SESSION_MNEMONIC", kBob}}, to_terminal);
        REQUIRE(within(30, [&] { return terminal.shows("waiting for the network: polling your swarm"); }));
        ::kill(shown.pid, SIGINT);
        auto t = shown.wait();
        terminal.read();
        INFO(terminal.screen);
        CHECK(t.code == 0);
        CHECK(terminal.screen.find("watch: stopped after 1 poll(s); nothing received yet") != std::string::npos);
    }
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

// session-localnet as a child process writing its network file to scratch()/name; stopped
// (SIGTERM, reaped) when the test ends, also when a REQUIRE ends it early.
struct LocalnetProcess {
    std::string file;
    Child child;
    explicit LocalnetProcess(const std::string& name) : file((scratch() / name).string()) {
        fs::remove(file);
        child = spawn(SESSION_LOCALNET_PATH, {"--network-file", file, "--quiet"});
    }
    ~LocalnetProcess() { stop(); }
    /// SIGTERM, and the process reaped (it removes its network file on the way out).
    void stop() {
        if (child.pid > 0 && !child.ended()) {
            ::kill(child.pid, SIGTERM);
            child.wait();
        }
        child.pid = -1;
    }
    LocalnetProcess(const LocalnetProcess&) = delete;
    LocalnetProcess& operator=(const LocalnetProcess&) = delete;
    /// Whether the network file was written (the network is serving).
    bool ready() {
        return eventually([&] { return fs::exists(file) && fs::file_size(file) > 0; });
    }
};

}  // namespace

TEST_CASE("cli: send, receive and watch against session-localnet", "[cli][localnet]") {
    // Catch runs this case once per SECTION: each run starts its own network.
    LocalnetProcess net("net.json");
    REQUIRE(net.ready());
    const std::string& net_file = net.file;
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

    SECTION("receive -o text escapes what the sender controls: body and display name") {
        auto spoof = cli({"--network", net_file, "send", kBobId, "--display-name", "Eve\x1b[31m\u202e"}, kSpoofBody, alice);
        INFO(spoof.err);
        REQUIRE(spoof.code == 0);
        auto text = cli({"--network", net_file, "receive", "-o", "text", "--last-hash", s2.at("hash").get<std::string>()},
                        "", bob);
        INFO(text.err);
        REQUIRE(text.code == 0);
        check_escaped_text(text.out, 1);
        CHECK(text.out.find("(Eve\\x1b[31m\\u202e)") != std::string::npos);
        auto js = cli({"--network", net_file, "receive", "-o", "json", "--last-hash", s2.at("hash").get<std::string>()},
                      "", bob);
        REQUIRE(js.code == 0);
        auto lines = js.json_lines();
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].at("body") == kSpoofBody);
        CHECK(lines[0].at("display_name") == "Eve\x1b[31m\u202e");
    }
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
    SECTION("a stopped network removes its file; a stale copy of it is 'unreachable', exit code 4") {
        const auto stale = (scratch() / "stale-net.json").string();
        fs::copy_file(net_file, stale, fs::copy_options::overwrite_existing);
        net.stop();
        CHECK_FALSE(fs::exists(net_file));
        auto gone = cli({"--network", net_file, "receive"}, "", bob);
        CHECK(gone.code == 2);
        CHECK(gone.err.find("cannot open") != std::string::npos);
        auto r = cli({"--network", stale, "receive"}, "", bob);
        INFO(r.err);
        CHECK(r.code == 4);
        CHECK(r.err.find("the network is unreachable") != std::string::npos);
        CHECK(r.err.find(stale) != std::string::npos);
        auto s = cli({"--network", stale, "send", kAliceId, "nobody home"}, "", bob);
        CHECK(s.code == 4);
        CHECK(s.err.find("the network is unreachable") != std::string::npos);
    }
    SECTION("a text seal accepts without a warning is sent too (one size limit)") {
        const std::string text(70'000, 'x');
        auto sealed = cli({"seal", "--to", kBobId}, text, alice);
        REQUIRE(sealed.code == 0);
        CHECK(sealed.err.empty());
        auto sent = cli({"--network", net_file, "send", kBobId}, text, alice);
        INFO(sent.err);
        CHECK(sent.code == 0);
    }
    SECTION("watch ends at once with exit code 5 when its --state can no longer be written") {
        const auto dir = open_dir("watch-state");
        const auto net_copy = (dir / "net.json").string();
        fs::copy_file(net_file, net_copy);
        fs::permissions(net_copy, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
        const auto state = (dir / "bob.state").string();
        Extra as_user;  // root would write anyway
        if (::geteuid() == 0) as_user.uid = 65534;
        Child watch = spawn(SESSION_CLI_PATH, {"--network", net_copy, "watch", "--interval", "1", "-o", "json",
                                               "--state", state},
                            "", bob, as_user);
        REQUIRE(eventually([&] { return watch.lines_so_far() == 2; }));  // both earlier messages, saved
        fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                                 fs::perms::others_exec);
        auto third = cli({"--network", net_file, "send", kBobId, "third"}, "", alice);
        REQUIRE(third.code == 0);
        const bool ended = eventually([&] { return watch.ended(); });
        if (!ended) ::kill(watch.pid, SIGKILL);
        auto w = watch.wait();
        fs::permissions(dir, fs::perms::all);
        INFO(w.err);
        CHECK(ended);
        CHECK(w.code == 5);
        CHECK(w.err.find(state) != std::string::npos);
        CHECK(w.err.find("will retry") == std::string::npos);
        CHECK(w.out.find("\"third\"") == std::string::npos);  // never handed out unrecorded
    }
}

TEST_CASE("cli: conversation verbs against session-localnet", "[cli][localnet]") {
    LocalnetProcess net("net-conv.json");
    REQUIRE(net.ready());
    const std::string& net_file = net.file;
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}}, bob{{"SESSION_MNEMONIC", kBob}};
    auto run = [&](std::vector<std::string> argv, const std::map<std::string, std::string>& who) {
        argv.insert(argv.begin(), {"--network", net_file, "-o", "json"});
        auto r = cli(argv, "", who);
        INFO(r.err);
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    };
    const auto hello = run({"send", kBobId, "hello"}, alice);
    const std::string ts = std::to_string(hello.at("timestamp").get<std::int64_t>());

    run({"mark-read", kAliceId, "--timestamp", ts, "--timestamp", ts}, bob);
    run({"typing", kAliceId, "started"}, bob);
    run({"reply", kAliceId, "--timestamp", ts, "--author", kAliceId, "--quote-text", "hello", "hi"}, bob);
    run({"react", kAliceId, "--timestamp", ts, "--author", kAliceId, "👍"}, bob);
    run({"unreact", kAliceId, "--timestamp", ts, "--author", kAliceId, "👍"}, bob);
    run({"accept", kAliceId}, bob);
    const auto dis = run({"disappearing", kAliceId, "after-send", "600"}, bob);
    CHECK(dis.at("expiry") == "after_send");
    const auto uns = run({"unsend", kAliceId, "--timestamp", std::to_string(dis.at("timestamp").get<std::int64_t>())}, bob);
    CHECK(uns.at("deleted").size() == 1);  // the timer update's sync copy

    auto got = cli({"--network", net_file, "receive", "-o", "json"}, "", alice);
    REQUIRE(got.code == 0);
    auto lines = got.json_lines();
    REQUIRE(lines.size() == 8);
    CHECK(lines[0].at("receipt").at("type") == "read");
    CHECK(lines[0].at("receipt").at("timestamps").size() == 2);
    CHECK(lines[1].at("typing") == "started");
    CHECK(lines[2].at("quote").at("author") == kAliceId);
    CHECK(lines[2].at("quote").at("text") == "hello");
    CHECK(lines[2].at("body") == "hi");
    CHECK(lines[3].at("reaction").at("action") == "react");
    CHECK(lines[3].at("reaction").at("emoji") == "👍");
    CHECK(lines[4].at("reaction").at("action") == "remove");
    CHECK(lines[5].at("kind") == "message_request_response");
    CHECK(lines[5].at("request_response").at("approved") == true);
    CHECK(lines[6].at("timer_update").at("expiry") == "after_send");
    CHECK(lines[6].at("timer_update").at("seconds") == 600);
    CHECK(lines[7].at("unsend").at("author") == kBobId);
    CHECK(lines[7].at("unsend").at("timestamp") == dis.at("timestamp"));

    // Usage errors: a repeated option a verb takes once, a bad typing action, a missing author.
    CHECK(cli({"--network", net_file, "unsend", kAliceId, "--timestamp", "1", "--timestamp", "2"}, "", bob).code == 2);
    CHECK(cli({"--network", net_file, "typing", kAliceId, "maybe"}, "", bob).code == 2);
    CHECK(cli({"--network", net_file, "react", kAliceId, "--timestamp", ts, "x"}, "", bob).code == 2);
}

TEST_CASE("cli: broadcast sends one text to every recipient of a file against session-localnet", "[cli][localnet]") {
    LocalnetProcess net("net-broadcast.json");
    REQUIRE(net.ready());
    const std::string& net_file = net.file;
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}}, bob{{"SESSION_MNEMONIC", kBob}},
        puffin{{"SESSION_MNEMONIC", kPuffin}};
    const std::string puffin_id = trim(cli({"id"}, "", puffin).out);
    REQUIRE(puffin_id.size() == 66);
    // Comments, blank lines, spaces, a CRLF line and a repeat.
    const auto list = write_file(scratch() / "oncall.txt", "# on call\n" + kBobId + "\n\n  " + puffin_id + " \r\n" + kBobId + "\n");

    auto sent = cli({"--network", net_file, "broadcast", "--recipients", list.string(), "disk full on db1"}, "", alice);
    INFO(sent.err);
    REQUIRE(sent.code == 0);
    std::istringstream out(sent.out);
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(out, line)) lines.push_back(line);
    REQUIRE(lines.size() == 2);  // Bob once
    CHECK(lines[0].starts_with(kBobId + " "));
    CHECK(lines[1].starts_with(puffin_id + " "));
    CHECK(sent.err.find("line 5") != std::string::npos);  // the repeat, named
    CHECK(sent.err.find("sent to 2 of 2 recipients") != std::string::npos);
    for (const auto& [who, at] : {std::pair{&bob, 0}, std::pair{&puffin, 1}}) {
        auto got = cli({"--network", net_file, "receive", "-o", "json"}, "", *who);
        REQUIRE(got.code == 0);
        auto msgs = got.json_lines();
        REQUIRE(msgs.size() == 1);
        CHECK(msgs[0].at("body") == "disk full on db1");
        CHECK(msgs[0].at("sender_session_id") == kAliceId);
        CHECK(lines[at].substr(67) == msgs[0].at("hash").get<std::string>());
    }

    SECTION("stdin text and JSON; a recipient that cannot receive fails alone") {
        const auto mixed = write_file(scratch() / "mixed.txt", "05" + std::string(64, '0') + "\n" + kBobId + "\n");
        auto r = cli({"--network", net_file, "broadcast", "--recipients", mixed.string(), "-o", "json",
                      "--expire-after-send", "600"},
                     "from stdin\n", alice);
        INFO(r.err);
        CHECK(r.code == 2);  // a recipient key that cannot receive is bad input
        auto js = r.json_lines();
        REQUIRE(js.size() == 2);
        CHECK(js[0].at("error").get<std::string>().find("low-order") != std::string::npos);
        CHECK(js[1].at("to") == kBobId);
        CHECK(js[1].at("confirmed").get<int>() >= 1);
        auto got = cli({"--network", net_file, "receive", "-o", "json", "--last-hash", lines[0].substr(67)}, "", bob);
        REQUIRE(got.code == 0);
        auto msgs = got.json_lines();
        REQUIRE(msgs.size() == 1);
        CHECK(msgs[0].at("body") == "from stdin");
        CHECK(msgs[0].at("expire_seconds") == 600);
        CHECK(msgs[0].at("hash") == js[1].at("hash"));
    }
}

TEST_CASE("cli: send --attach, receive --download and download against session-localnet", "[cli][localnet][files]") {
    LocalnetProcess net("net-files.json");
    REQUIRE(net.ready());
    const std::string& net_file = net.file;
    const std::map<std::string, std::string> alice{{"SESSION_MNEMONIC", kAlice}}, bob{{"SESSION_MNEMONIC", kBob}};
    const fs::path dir = scratch() / "attach";
    fs::remove_all(dir);
    fs::create_directories(dir / "in");
    fs::create_directories(dir / "out");
    std::string photo(70'000, '\0');
    for (std::size_t i = 0; i < photo.size(); ++i) photo[i] = static_cast<char>(i * 7 + 1);
    { std::ofstream(dir / "in" / "photo.jpg", std::ios::binary) << photo; }
    { std::ofstream(dir / "in" / "notes.txt", std::ios::binary) << "some notes\n"; }

    // Over the limit: refused before anything is read or sent.
    { std::ofstream big(dir / "in" / "big.bin", std::ios::binary); big.seekp(10'000'000); big.put('x'); }
    auto too_big = cli({"--network", net_file, "send", kBobId, "--attach", (dir / "in" / "big.bin").string()}, "", alice);
    CHECK(too_big.code == 2);

    auto sent = cli({"--network", net_file, "send", kBobId, "two files", "--attach", (dir / "in" / "photo.jpg").string(),
                     "--attach", (dir / "in" / "notes.txt").string()},
                    "", alice);
    INFO(sent.err);
    REQUIRE(sent.code == 0);
    CHECK(sent.err.find("uploading") == std::string::npos);  // no progress line when piped

    auto got = cli({"--network", net_file, "receive", "-o", "json", "--download", (dir / "out").string()}, "", bob);
    INFO(got.err);
    REQUIRE(got.code == 0);
    auto lines = got.json_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("body") == "two files");
    const auto& atts = lines[0].at("attachments");
    REQUIRE(atts.size() == 2);
    CHECK(atts[0].at("file_name") == "photo.jpg");
    CHECK(atts[0].at("content_type") == "image/jpeg");
    CHECK(atts[0].at("size") == photo.size());
    CHECK(atts[0].at("key").get<std::string>().size() == 128);
    CHECK(atts[0].at("digest").get<std::string>().size() == 64);
    CHECK(atts[0].at("width").is_null());
    CHECK(atts[0].at("voice_note") == false);
    const std::string saved = atts[0].at("saved_to");
    CHECK(fs::path(saved).filename() == "photo.jpg");
    CHECK(slurp(saved) == photo);
    CHECK(slurp(atts[1].at("saved_to").get<std::string>()) == "some notes\n");

    // The download verb from the same fields: a new name, never over the first file.
    auto again = cli({"--network", net_file, "download", atts[0].dump(), "--download", (dir / "out").string()}, "", bob);
    INFO(again.err);
    REQUIRE(again.code == 0);
    CHECK(fs::path(trim(again.out)).filename() == "photo (1).jpg");
    CHECK(slurp(trim(again.out)) == photo);
    CHECK(slurp(saved) == photo);

    // An unknown file server is a usage error, with nothing written.
    auto other = atts[0];
    other["url"] = "http://files.example.org/file/" + std::string(44, 'A');
    other["file_name"] = "../../escape.jpg";
    auto refused = cli({"--network", net_file, "download", other.dump(), "--download", (dir / "out").string(), "-o", "json"},
                       "", bob);
    CHECK(refused.code == 2);
    const auto r = json::parse(refused.out);
    CHECK(r.at("error").get<std::string>().find("not this network's file server") != std::string::npos);
    CHECK_FALSE(r.contains("saved_to"));
    CHECK_FALSE(fs::exists(dir / "out" / "escape.jpg"));
    CHECK_FALSE(fs::exists(dir / "escape.jpg"));
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
