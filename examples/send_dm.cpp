// send_dm: send one Session direct message from the command line.
//
//   SESSION_MNEMONIC="word1 … word13" send_dm [--network FILE] [--name NAME] SESSION_ID TEXT…
//   send_dm --phrase-file FILE [--network FILE] SESSION_ID TEXT…
//
// The recovery phrase comes from the environment or a file, never from the command line (other users
// can read a process's arguments). --network FILE selects a network file written by session-localnet;
// without it the message goes to mainnet. Prints the stored message hash on success.
// Exit codes: 0 sent, 1 usage error, 2 the phrase or network file is unusable, 3 the send failed.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "session/client.hpp"

namespace {

void usage() {
    std::cerr << "usage: send_dm [--network FILE] [--phrase-file FILE] [--name NAME] SESSION_ID TEXT...\n"
                 "  The 13-word recovery phrase is read from $SESSION_MNEMONIC or --phrase-file FILE.\n"
                 "  --network FILE  a network file from session-localnet (default: mainnet)\n"
                 "  --name NAME     display name sent with the message\n";
}

// Reads a phrase file into wiping memory. Returns false if it cannot be read.
bool read_phrase_file(const std::string& path, session::SecretBuffer& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    char c;
    while (in.get(c)) out.push_back(c);
    return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
    std::string network = "mainnet", phrase_file, name;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](const char* flag) -> const char* {
            if (i + 1 >= argc) {
                std::cerr << "send_dm: " << flag << " needs a value\n";
                return nullptr;
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else if (a == "--network") {
            auto v = value("--network");
            if (!v) return 1;
            network = v;
        } else if (a == "--phrase-file") {
            auto v = value("--phrase-file");
            if (!v) return 1;
            phrase_file = v;
        } else if (a == "--name") {
            auto v = value("--name");
            if (!v) return 1;
            name = v;
        } else if (a.size() > 1 && a[0] == '-' && positional.empty()) {
            std::cerr << "send_dm: unknown option " << a << "\n";
            usage();
            return 1;
        } else {
            positional.emplace_back(a);
        }
    }
    if (positional.size() < 2) {
        usage();
        return 1;
    }
    std::string text = positional[1];
    for (std::size_t i = 2; i < positional.size(); ++i) text += " " + positional[i];

    session::SecretBuffer phrase;
    if (!phrase_file.empty()) {
        if (!read_phrase_file(phrase_file, phrase)) {
            std::cerr << "send_dm: cannot read the phrase file " << phrase_file << "\n";
            return 2;
        }
    } else if (const char* env = std::getenv("SESSION_MNEMONIC"); env && *env) {
        phrase = session::SecretBuffer(std::string_view(env));
    } else {
        std::cerr << "send_dm: no recovery phrase: set SESSION_MNEMONIC or pass --phrase-file FILE\n";
        return 1;
    }

    auto recipient = session::SessionId::parse(positional[0]);
    if (!recipient) {
        std::cerr << "send_dm: recipient: " << recipient.error().message << "\n";
        return 1;
    }

    session::ClientOptions options;
    options.network = network;
    options.display_name = name;
    auto client = session::Client::create(phrase.view(), std::move(options));
    phrase.clear();
    if (!client) {
        std::cerr << "send_dm: " << client.error().message << "\n";
        return 2;
    }

    auto sent = client->send(*recipient, text);
    if (!sent) {
        std::cerr << "send_dm: send failed: " << sent.error().message << "\n";
        return 3;
    }
    std::cout << sent->hash << "\n";
    std::cerr << "send_dm: sent from " << client->session_id().hex() << ", stored by " << sent->confirmed()
              << " swarm member(s)\n";
    return 0;
}
