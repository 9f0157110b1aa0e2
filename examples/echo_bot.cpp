// echo_bot: answer every Session direct message with the same text.
//
//   SESSION_MNEMONIC="word1 … word13" echo_bot [--network FILE] [--name NAME] [--interval-ms N]
//                                              [--max-iterations N] [--state FILE] [--backlog]
//
// Polls the bot's swarm every --interval-ms (default 2000), replies "echo: <text>" to every text
// message from someone else (showing it is typing, marking the message read, quoting it in the reply
// and reacting to it with 👍), and prints one line per message on stdout. Stops on SIGINT/SIGTERM or
// after --max-iterations polls (0 = forever; CI uses a bound).
//
// Where it starts: a bot that has never run must not answer the 14 days of messages its swarm may
// already hold, so its first poll only takes note of them ("starting from now") and answers what
// arrives after. --backlog answers them instead. --state FILE is the Client's state file
// (ClientOptions::state_path): a restarted bot resumes where it stopped (resume_hash()), answering
// what came while it was down, and never answers a message twice, even when a swarm member missed
// the message it resumes from.
//
// Exit codes are session-cli's (docs/cli.md, cli/exit_codes.hpp): 0 stopped normally, 2 usage
// error or bad input (phrase, network file, state file), 5 a local problem (the state file cannot
// be written). A network failure is retried at the next poll.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <memory>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "cli/exit_codes.hpp"  // session-cli's exit codes: header-only, public headers only
#include "session/client.hpp"

namespace {

using session::cli::kUsage;

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

void usage() {
    std::cerr << "usage: echo_bot [--network FILE] [--phrase-file FILE] [--name NAME] [--interval-ms N]\n"
                 "                [--max-iterations N] [--state FILE] [--backlog]\n"
                 "  The 13-word recovery phrase is read from $SESSION_MNEMONIC or --phrase-file FILE.\n"
                 "  --backlog  also answer the messages already waiting when the bot first starts\n";
}

// A regular file or a pipe of at most 4096 bytes, into wiping memory. False if unusable.
bool read_phrase_file(const std::string& path, session::SecretBuffer& out) {
    constexpr std::size_t kMaxPhraseFileBytes = 4096;
    std::error_code ec;
    const auto type = std::filesystem::status(path, ec).type();
    if (ec || (type != std::filesystem::file_type::regular && type != std::filesystem::file_type::fifo)) return false;
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    char c;
    while (in.get(c)) {
        if (out.size() == kMaxPhraseFileBytes) return false;
        out.push_back(c);
    }
    return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
    std::string network = "mainnet", phrase_file, name = "Echo bot", state_file;
    long interval_ms = 2000, max_iterations = 0;
    bool backlog = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else if (a == "--network" && (v = value())) {
            network = v;
        } else if (a == "--phrase-file" && (v = value())) {
            phrase_file = v;
        } else if (a == "--name" && (v = value())) {
            name = v;
        } else if (a == "--state" && (v = value())) {
            state_file = v;
        } else if (a == "--interval-ms" && (v = value())) {
            interval_ms = std::strtol(v, nullptr, 10);
        } else if (a == "--max-iterations" && (v = value())) {
            max_iterations = std::strtol(v, nullptr, 10);
        } else if (a == "--backlog") {
            backlog = true;
        } else {
            std::cerr << "echo_bot: bad argument " << a << "\n";
            usage();
            return kUsage;
        }
    }
    if (interval_ms < 0 || max_iterations < 0) {
        std::cerr << "echo_bot: --interval-ms and --max-iterations must not be negative\n";
        return kUsage;
    }

    session::SecretBuffer phrase;
    if (!phrase_file.empty()) {
        if (!read_phrase_file(phrase_file, phrase)) {
            std::cerr << "echo_bot: cannot read the phrase file " << phrase_file << "\n";
            return kUsage;
        }
    } else if (const char* env = std::getenv("SESSION_MNEMONIC"); env && *env) {
        phrase = session::SecretBuffer(std::string_view(env));
    } else {
        std::cerr << "echo_bot: no recovery phrase: set SESSION_MNEMONIC or pass --phrase-file FILE\n";
        return kUsage;
    }

    // The network: mainnet, or the local network a session-localnet network file describes.
    auto config = network.empty() || network == "mainnet"
                      ? session::Result<session::network::NetworkConfig>(session::network::NetworkConfig::mainnet())
                      : session::network::NetworkConfig::from_file(network);
    if (!config) {
        std::cerr << "echo_bot: --network " << network << ": " << config.error().message << "\n";
        return kUsage;
    }
    std::shared_ptr<session::network::Network> net;
    try {
        net = std::make_shared<session::network::Network>(session::network::Options{.config = std::move(*config)});
    } catch (const std::exception& e) {
        std::cerr << "echo_bot: cannot start the network: " << e.what() << "\n";
        return session::cli::exit_code_for(session::Errc::net_init);
    }

    session::ClientOptions options;
    options.display_name = name;
    options.state_path = state_file;
    auto client = session::Client::create(phrase.view(), std::move(net), std::move(options));
    phrase.clear();
    if (!client) {
        std::cerr << "echo_bot: " << client.error().message << "\n";
        return session::cli::exit_code_for_create(client.error());
    }
    const auto self = client->session_id();
    std::cerr << "echo_bot: running as " << self.hex() << "\n";

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::string last_hash = client->resume_hash();  // "" without --state, or on a first run
    // Nothing to resume from: start from now (the first poll only notes what is there) unless
    // --backlog asks for it to be answered.
    bool skipping = last_hash.empty() && !backlog;
    for (long it = 0; !g_stop && (max_iterations == 0 || it < max_iterations); ++it) {
        if (it > 0) {
            // Sleep in small steps so a signal stops the bot promptly.
            for (long slept = 0; slept < interval_ms && !g_stop; slept += 50)
                std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50L, interval_ms - slept)));
            if (g_stop) break;
        }
        if (skipping) {
            // Page by page, so a large backlog is never held in memory at once.
            auto noted = client->receive_pages(last_hash, [](session::ReceivedPage&) { return true; });
            if (!noted) {
                const int code = session::cli::exit_code_for(noted.error().code);
                std::cerr << "echo_bot: receive failed" << (code == session::cli::kNetwork ? " (will retry)" : "")
                          << ": " << noted.error().message << "\n";
                if (code != session::cli::kNetwork) return code;
                continue;
            }
            last_hash = noted->last_hash;
            skipping = false;
            std::cerr << "echo_bot: starting from now: " << noted->messages << " earlier message(s) left unanswered "
                      << "(--backlog answers them)\n";
            continue;
        }
        auto got = client->receive(last_hash);
        if (!got) {
            const int code = session::cli::exit_code_for(got.error().code);
            std::cerr << "echo_bot: receive failed" << (code == session::cli::kNetwork ? " (will retry)" : "") << ": "
                      << got.error().message << "\n";
            if (code != session::cli::kNetwork) return code;  // a local problem does not pass by retrying
            continue;
        }
        for (const auto& skipped : got->skipped)
            std::cerr << "echo_bot: skipped " << skipped.hash << ": " << skipped.reason.message << "\n";
        for (const auto& m : got->messages) {
            if (m.kind != session::MessageKind::text || m.sender == self) continue;
            std::cout << m.sender.hex() << ": " << m.body << std::endl;
            // What a person would see: "typing…" while the bot works, the message marked read, an
            // answer quoting it and a reaction on it. (A first answer to someone who wrote first
            // also accepts their message request: the Client does that by itself.)
            auto warn = [&](const char* what, const session::Error& e) {
                std::cerr << "echo_bot: " << what << " to " << m.sender.hex() << " failed: " << e.message << "\n";
            };
            if (auto t = client->send_typing(m.sender, session::TypingAction::started); !t) warn("typing", t.error());
            if (auto r = client->mark_read(m.sender, {m.sent_timestamp_ms}); !r) warn("read receipt", r.error());
            const session::QuoteInfo quoted{m.sent_timestamp_ms, m.sender.hex(), m.body};
            auto sent = client->reply(m.sender, "echo: " + m.body, quoted);
            if (!sent) warn("reply", sent.error());
            if (auto r = client->react(m.sender, session::MessageRef{m.sent_timestamp_ms, m.sender.hex()}, "👍"); !r)
                warn("reaction", r.error());
        }
        last_hash = got->last_hash;  // with --state, already written to the file by receive()
    }
    std::cerr << "echo_bot: stopped\n";
    return 0;
}
