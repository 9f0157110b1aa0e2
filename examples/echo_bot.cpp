// echo_bot: answer every Session direct message with the same text.
//
//   SESSION_MNEMONIC="word1 … word13" echo_bot [--network FILE] [--name NAME] [--interval-ms N]
//                                              [--max-iterations N] [--state FILE]
//
// Polls the bot's swarm every --interval-ms (default 2000), replies "echo: <text>" to every text
// message from someone else, and prints one line per message on stdout. Stops on SIGINT/SIGTERM or
// after --max-iterations polls (0 = forever; CI uses a bound). --state FILE is the Client's state
// file (ClientOptions::state_path): a restarted bot resumes where it stopped (resume_hash()) and
// never answers a message twice, even when a swarm member missed the message it resumes from.
// Exit codes: 0 stopped normally, 1 usage error, 2 the phrase or network file is unusable.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "session/client.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

void usage() {
    std::cerr << "usage: echo_bot [--network FILE] [--phrase-file FILE] [--name NAME] [--interval-ms N]\n"
                 "                [--max-iterations N] [--state FILE]\n"
                 "  The 13-word recovery phrase is read from $SESSION_MNEMONIC or --phrase-file FILE.\n";
}

bool read_file(const std::string& path, session::SecretBuffer& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    char c;
    while (in.get(c)) out.push_back(c);
    return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
    std::string network = "mainnet", phrase_file, name = "Echo bot", state_file;
    long interval_ms = 2000, max_iterations = 0;
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
        } else {
            std::cerr << "echo_bot: bad argument " << a << "\n";
            usage();
            return 1;
        }
    }
    if (interval_ms < 0 || max_iterations < 0) {
        std::cerr << "echo_bot: --interval-ms and --max-iterations must not be negative\n";
        return 1;
    }

    session::SecretBuffer phrase;
    if (!phrase_file.empty()) {
        if (!read_file(phrase_file, phrase)) {
            std::cerr << "echo_bot: cannot read the phrase file " << phrase_file << "\n";
            return 2;
        }
    } else if (const char* env = std::getenv("SESSION_MNEMONIC"); env && *env) {
        phrase = session::SecretBuffer(std::string_view(env));
    } else {
        std::cerr << "echo_bot: no recovery phrase: set SESSION_MNEMONIC or pass --phrase-file FILE\n";
        return 1;
    }

    session::ClientOptions options;
    options.network = network;
    options.display_name = name;
    options.state_path = state_file;
    auto client = session::Client::create(phrase.view(), std::move(options));
    phrase.clear();
    if (!client) {
        std::cerr << "echo_bot: " << client.error().message << "\n";
        return 2;
    }
    const auto self = client->session_id();
    std::cerr << "echo_bot: running as " << self.hex() << "\n";

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::string last_hash = client->resume_hash();  // "" without --state, or on a first run
    for (long it = 0; !g_stop && (max_iterations == 0 || it < max_iterations); ++it) {
        if (it > 0) {
            // Sleep in small steps so a signal stops the bot promptly.
            for (long slept = 0; slept < interval_ms && !g_stop; slept += 50)
                std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50L, interval_ms - slept)));
            if (g_stop) break;
        }
        auto got = client->receive(last_hash);
        if (!got) {
            std::cerr << "echo_bot: receive failed (will retry): " << got.error().message << "\n";
            continue;
        }
        for (const auto& skipped : got->skipped)
            std::cerr << "echo_bot: skipped " << skipped.hash << ": " << skipped.reason.message << "\n";
        for (const auto& m : got->messages) {
            if (m.kind != session::MessageKind::text || m.sender == self) continue;
            std::cout << m.sender.hex() << ": " << m.body << std::endl;
            auto sent = client->send(m.sender, "echo: " + m.body);
            if (!sent) std::cerr << "echo_bot: reply to " << m.sender.hex() << " failed: " << sent.error().message << "\n";
        }
        last_hash = got->last_hash;  // with --state, already written to the file by receive()
    }
    std::cerr << "echo_bot: stopped\n";
    return 0;
}
