// send_dm: send one Session direct message from the command line.
//
//   SESSION_MNEMONIC="word1 … word13" send_dm [--network FILE] [--name NAME] SESSION_ID TEXT…
//   send_dm --phrase-file FILE [--network FILE] SESSION_ID TEXT…
//   send_dm … [--attach FILE]… SESSION_ID [CAPTION…]   (files uploaded to the file server, TEXT = caption)
//
// The recovery phrase comes from the environment or a file, never from the command line (other users
// can read a process's arguments). --network FILE selects a network file written by session-localnet;
// without it the message goes to mainnet. Prints the stored message hash on success.
// Exit codes are session-cli's (docs/cli.md, cli/exit_codes.hpp): 0 sent, 2 usage error or bad
// input (phrase, recipient, network file, a message too large), 4 the network could not store it,
// 5 a local problem.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/exit_codes.hpp"  // session-cli's exit codes: header-only, public headers only
#include "session/client.hpp"

namespace {

void usage() {
    std::cerr << "usage: send_dm [--network FILE] [--phrase-file FILE] [--name NAME] [--attach FILE]... SESSION_ID TEXT...\n"
                 "  The 13-word recovery phrase is read from $SESSION_MNEMONIC or --phrase-file FILE.\n"
                 "  --network FILE  a network file from session-localnet (default: mainnet)\n"
                 "  --name NAME     display name sent with the message\n"
                 "  --attach FILE   attach FILE (repeatable); TEXT becomes the caption and may be absent\n";
}

// Reads a phrase file into wiping memory: a regular file or a pipe of at most 4096 bytes (a phrase
// is under 200), so a wrong path such as /dev/zero or a directory is refused. False if unusable.
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
    using session::cli::kUsage;
    std::string network = "mainnet", phrase_file, name;
    std::vector<std::string> positional, attach;
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
            if (!v) return kUsage;
            network = v;
        } else if (a == "--phrase-file") {
            auto v = value("--phrase-file");
            if (!v) return kUsage;
            phrase_file = v;
        } else if (a == "--attach") {
            auto v = value("--attach");
            if (!v) return kUsage;
            attach.emplace_back(v);
        } else if (a == "--name") {
            auto v = value("--name");
            if (!v) return kUsage;
            name = v;
        } else if (a.size() > 1 && a[0] == '-' && positional.empty()) {
            std::cerr << "send_dm: unknown option " << a << "\n";
            usage();
            return kUsage;
        } else {
            positional.emplace_back(a);
        }
    }
    if (positional.size() < (attach.empty() ? 2u : 1u)) {
        usage();
        return kUsage;
    }
    std::string text = positional.size() > 1 ? positional[1] : std::string();
    for (std::size_t i = 2; i < positional.size(); ++i) text += " " + positional[i];

    session::SecretBuffer phrase;
    if (!phrase_file.empty()) {
        if (!read_phrase_file(phrase_file, phrase)) {
            std::cerr << "send_dm: cannot read the phrase file " << phrase_file << "\n";
            return kUsage;
        }
    } else if (const char* env = std::getenv("SESSION_MNEMONIC"); env && *env) {
        phrase = session::SecretBuffer(std::string_view(env));
    } else {
        std::cerr << "send_dm: no recovery phrase: set SESSION_MNEMONIC or pass --phrase-file FILE\n";
        return kUsage;
    }

    auto recipient = session::SessionId::parse(positional[0]);
    if (!recipient) {
        std::cerr << "send_dm: recipient: " << recipient.error().message << "\n";
        return kUsage;
    }

    // The network: mainnet, or the local network a session-localnet network file describes.
    auto config = network.empty() || network == "mainnet"
                      ? session::Result<session::network::NetworkConfig>(session::network::NetworkConfig::mainnet())
                      : session::network::NetworkConfig::from_file(network);
    if (!config) {
        std::cerr << "send_dm: --network " << network << ": " << config.error().message << "\n";
        return kUsage;
    }
    std::shared_ptr<session::network::Network> net;
    try {
        net = std::make_shared<session::network::Network>(session::network::Options{.config = std::move(*config)});
    } catch (const std::exception& e) {
        std::cerr << "send_dm: cannot start the network: " << e.what() << "\n";
        return session::cli::exit_code_for(session::Errc::net_init);
    }

    session::ClientOptions options;
    options.display_name = name;
    auto client = session::Client::create(phrase.view(), std::move(net), std::move(options));
    phrase.clear();
    if (!client) {
        std::cerr << "send_dm: " << client.error().message << "\n";
        return session::cli::exit_code_for_create(client.error());
    }

    // With --attach: every file is encrypted as session-desktop does, uploaded (in parallel) to the
    // network's file server over onion requests, and sent in one message with TEXT as its caption.
    std::vector<session::AttachmentSource> files;
    for (const auto& path : attach) files.push_back(session::AttachmentSource::from_path(path));
    auto sent = files.empty() ? client->send(*recipient, text) : client->send_files(*recipient, files, text);
    if (!sent) {
        std::cerr << "send_dm: send failed: " << sent.error().message << "\n";
        return session::cli::exit_code_for(sent.error().code);
    }
    std::cout << sent->hash << "\n";
    std::cerr << "send_dm: sent from " << client->session_id().hex() << ", stored by " << sent->confirmed()
              << " swarm member(s)\n";
    return 0;
}
