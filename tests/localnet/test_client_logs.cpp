// The client's log never holds the account's secrets: a debug-level log of a full send and receive
// (both directions, plus failures on stopped swarm members and a bad cursor) is searched for the
// phrase, its words, the 16-byte seed, the Ed25519 seed and secret key and the X25519 secret, as
// hex and base64. (client.hpp, network.hpp LogFn: "never a secret"; preamble quality bar.)
#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "localnet/test_client_support.hpp"
#include "session/bytes.hpp"
#include "session/keys.hpp"
#include "session/mnemonic.hpp"

using namespace session;
namespace fs = std::filesystem;

namespace {

// One local network with its network file on disk.
using LocalNet = test::LocalNetFile;

// Every line at every level, from every thread.
struct SharedLog {
    std::mutex m;
    std::string text;
    std::size_t lines = 0;
    std::size_t debug_lines = 0;
    network::LogFn fn() {
        return [this](network::LogLevel level, std::string_view line) {
            std::lock_guard lock(m);
            text.append(line);
            text.push_back('\n');
            ++lines;
            if (level == network::LogLevel::debug) ++debug_lines;
        };
    }
};

// The secrets of one account, in the forms a careless log line could take.
struct Secrets {
    std::string phrase;
    std::vector<std::string> words;  // phrase words of >= 5 letters
    std::vector<std::pair<std::string, std::string>> forms;  // (what, text)
};

Secrets secrets_of(const std::string& who, const SecretBuffer& phrase, const Identity& id) {
    Secrets s;
    s.phrase = std::string(phrase.view());
    std::string w;
    for (char c : s.phrase + " ") {
        if (c == ' ') {
            if (w.size() >= 5) s.words.push_back(w);
            w.clear();
        } else {
            w.push_back(c);
        }
    }
    auto seed = mnemonic::decode(phrase.view());
    REQUIRE_OK(seed);
    const auto seed16 = ByteView(seed->reveal().data(), 16);
    const auto ed_sk = ByteView(id.ed25519_secret().reveal().data(), 64);
    const auto ed_seed = ByteView(ed_sk.data(), 32);
    const auto x_sk = ByteView(id.x25519_secret().reveal().data(), 32);
    const std::pair<const char*, ByteView> keys[] = {
        {"16-byte seed", seed16}, {"Ed25519 seed", ed_seed}, {"Ed25519 secret key", ed_sk}, {"X25519 secret", x_sk}};
    for (const auto& [what, bytes] : keys) {
        s.forms.emplace_back(who + " " + what + " (hex)", to_hex(bytes));
        s.forms.emplace_back(who + " " + what + " (base64)", base64_encode_unpadded(bytes));
    }
    return s;
}

// Word-list words (>= 5 letters) that the log's own English uses: library and localnet log and
// error texts, HTTP reasons and libcurl errors ("network", "onion", "request", "nodes", "broken"
// pipe…). A phrase holding one of them would make the standalone-word check fail on an innocent
// line, so the test draws phrases without them (every word of the phrase it uses is still checked).
// Update this when a new log text uses another word-list word.
constexpr std::string_view kLogVocabulary[] = {
    "after",    "agreed",   "already",  "always", "asked",    "batch",    "below",    "bodies",  "broken",
    "delayed",  "digit",    "dotted",   "empty",  "error",    "future",   "height",   "identity", "ignore",
    "input",    "journal",  "language", "large",  "match",    "maximum",  "negative", "network", "nodes",
    "number",   "object",   "onion",    "owner",  "point",    "possible", "public",   "quote",   "request",
    "sequence", "session",  "setup",    "token",  "unknown",  "update",   "upgrade",  "usage",   "using",
    "value",    "verification", "width", "wrong"};

bool uses_log_vocabulary(std::string_view phrase) {
    std::string w;
    for (char c : std::string(phrase) + " ") {
        if (c != ' ') {
            w.push_back(c);
            continue;
        }
        for (auto v : kLogVocabulary)
            if (w == v) return true;
        w.clear();
    }
    return false;
}

// A random account whose phrase avoids kLogVocabulary (about 2 in 3 phrases do).
std::pair<Identity, SecretBuffer> generate_account() {
    for (int i = 0; i < 200; ++i) {
        auto a = Identity::generate(*system_rng());
        if (!uses_log_vocabulary(a.second.view())) return a;
    }
    FAIL("no phrase without log vocabulary in 200 tries");
    return Identity::generate(*system_rng());
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// `word` occurring on its own: not inside a longer run of letters/digits (so a hex or base64 run
// that happens to spell it does not count, but "…: abbey," or "abbey\n" does).
bool has_standalone_word(const std::string& text, const std::string& word) {
    for (auto pos = text.find(word); pos != std::string::npos; pos = text.find(word, pos + 1)) {
        const bool left = pos == 0 || !is_alnum(text[pos - 1]);
        const auto end = pos + word.size();
        const bool right = end == text.size() || !is_alnum(text[end]);
        if (left && right) return true;
    }
    return false;
}

// Where a leaked string sits, for the failure message.
std::string context(const std::string& text, std::size_t pos) {
    const auto b = text.rfind('\n', pos);
    const auto e = text.find('\n', pos);
    const auto start = b == std::string::npos ? 0 : b + 1;
    return text.substr(start, (e == std::string::npos ? text.size() : e) - start);
}

}  // namespace

TEST_CASE("client: a debug-level log of a full send and receive holds no phrase, seed or secret key",
          "[client][localnet][secret]") {
    LocalNet ln;
    SharedLog log;

    auto [alice_id, alice_phrase] = generate_account();
    auto [bob_id, bob_phrase] = generate_account();
    const auto alice_secrets = secrets_of("Alice", alice_phrase, alice_id);
    const auto bob_secrets = secrets_of("Bob", bob_phrase, bob_id);

    auto options = [&] {
        ClientOptions o;
        o.log = log.fn();
        return o;
    };
    // The network logs into the same place: its lines are checked too.
    auto net = [&] {
        return ln.network({.request_timeout = std::chrono::milliseconds(8000),
                           .retrieve_timeout = std::chrono::milliseconds(8000),
                           .log = log.fn()});
    };
    // From the phrases, so the phrase itself passes through the client.
    auto alice = Client::create(alice_phrase.view(), net(), options());
    REQUIRE_OK(alice);
    auto bob = Client::create(bob_phrase.view(), net(), options());
    REQUIRE_OK(bob);
    REQUIRE(alice->session_id() == alice_id.session_id());
    REQUIRE(bob->session_id() == bob_id.session_id());

    // A -> B, B receives.
    auto sent = alice->send(bob->session_id(), "hello Bob");
    REQUIRE_OK(sent);
    auto got = bob->receive();
    REQUIRE_OK(got);
    REQUIRE(got->messages.size() == 1);
    CHECK(got->messages[0].body == "hello Bob");

    // B -> A, A receives.
    auto reply = bob->send(alice->session_id(), "hello Alice");
    REQUIRE_OK(reply);
    auto got_a = alice->receive();
    REQUIRE_OK(got_a);
    // Bob answers Alice, who wrote first: his Client accepts her request first (as desktop does).
    REQUIRE(got_a->messages.size() == 2);
    CHECK(got_a->messages[0].kind == MessageKind::message_request_response);
    CHECK(got_a->messages[1].body == "hello Alice");

    // Failure paths: two of Alice's swarm members are down while Bob sends (their stores fail and
    // are logged), then a receive with a cursor the swarm never issued, and an empty text (warned).
    auto swarm = ln.net->swarm_for(alice->session_id().hex());
    REQUIRE_OK(swarm);
    const auto members = ln.net->swarm_members(*swarm);
    REQUIRE(members.size() >= 2);
    ln.net->stop_node(members[0]);
    ln.net->stop_node(members[1]);
    // The stopped nodes may also be onion relays, so the send itself may fail: either way it logs.
    auto degraded = bob->send(alice->session_id(), "while two are down");
    std::size_t failed_nodes = 0;
    if (degraded) {
        for (const auto& n : degraded->nodes)
            if (!n.ok) ++failed_nodes;
    }
    (void)bob->send(alice->session_id(), "");
    (void)alice->receive(std::string(43, 'A'));
    (void)alice->receive(got_a->last_hash);
    REQUIRE(ln.net->start_node(members[0]));
    REQUIRE(ln.net->start_node(members[1]));

    std::string text;
    std::size_t lines = 0, debug_lines = 0;
    {
        std::lock_guard lock(log.m);
        text = log.text;
        lines = log.lines;
        debug_lines = log.debug_lines;
    }
    INFO("log: " << lines << " lines, " << debug_lines << " at debug level; stores failed on " << failed_nodes
                 << " nodes; degraded send: " << (degraded ? "ok" : degraded.error().message));
    // A silent log would make the checks below pass vacuously.
    REQUIRE(lines >= 10);
    REQUIRE(debug_lines >= 1);

    for (const auto* s : {&alice_secrets, &bob_secrets}) {
        {
            const auto pos = text.find(s->phrase);
            INFO("phrase in log line: " << (pos == std::string::npos ? "" : context(text, pos)));
            CHECK(pos == std::string::npos);
        }
        for (const auto& w : s->words) {
            INFO("phrase word '" << w << "' in the log");
            CHECK_FALSE(has_standalone_word(text, w));
        }
        for (const auto& [what, form] : s->forms) {
            // Case-insensitively for hex (an upper-case dump is still a leak).
            std::string hay = text, needle = form;
            if (what.find("(hex)") != std::string::npos) {
                for (auto& c : hay) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            const auto pos = hay.find(needle);
            INFO(what << " in log line: " << (pos == std::string::npos ? "" : context(text, pos)));
            CHECK(pos == std::string::npos);
        }
    }
}
