// session-cli: Session 1:1 messaging from a shell. See docs/cli.md.
#include <cstdio>
#include <exception>
#include <string>

#include "cli.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp = R"(usage: session-cli [options] VERB [arguments]

Identity (offline)
  new                         create an identity: prints its recovery phrase and Session ID
  id                          print the Session ID of your recovery phrase
Messages (offline)
  seal --to SESSION_ID        message text on stdin -> one line: the base64 `data` a swarm stores
  open                        base64 `data` lines on stdin -> one decoded message per line
Network
  send SESSION_ID [TEXT]      send TEXT (or stdin, when TEXT is absent) as a 1:1 message
  receive                     print the messages waiting in your swarm
  watch                       poll for messages until interrupted (SIGINT/SIGTERM)

Options
  -o, --output json|text      json: one JSON object per line (default text; open defaults to json)
  --phrase-file PATH          read the recovery phrase from PATH (first choice)
  --network FILE              use the local network described by FILE (from session-localnet);
                              without it: the Session mainnet
  --to SESSION_ID             seal: the recipient
  --timestamp MS              seal/send: the message timestamp (default: now)
  --expire-after-send SECS    seal/send: disappear SECS seconds after sending
  --expire-after-read SECS    seal/send: disappear SECS seconds after reading
  --display-name NAME         seal/send: the profile name sent with the message
  --legacy-padding            seal/send: pad to 160k-1 bytes (old desktop) instead of 160k
  --last-hash HASH            receive/watch: only messages after this hash
  --state FILE                receive/watch: keep what was received in FILE (no message text), so
                              a restarted run resumes where the last one stopped and never prints
                              a message twice (without --last-hash it resumes from FILE)
  --interval SECS             watch: seconds between polls (default 5)
  --count N                   watch: stop after N polls (default: until interrupted)
  -h, --help                  this text;   --version   the version

The recovery phrase is read from --phrase-file PATH, else the SESSION_MNEMONIC environment
variable, else typed at a prompt (echo off). It is never accepted on the command line: --phrase and
--mnemonic are refused, and so is any argument that looks like a 13-word phrase. seal, open and a
send without TEXT read their data from stdin, so they need SESSION_MNEMONIC or --phrase-file.

Exit codes
  0  success
  1  internal error (a bug; please report it)
  2  usage error or bad input (option, phrase, Session ID, number, file)
  3  crypto or parse failure (a message that does not decrypt, verify or parse)
  4  network failure (no route, timeout, refused by the swarm)
Errors go to stderr and never contain the phrase. Reference: docs/cli.md
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace session::cli;
    try {
        auto args = parse_args(argc, argv);
        if (!args) {
            report(args.error().message);
            return args.error().exit_code;
        }
        if (args->has("help") || args->verb == "help") {
            std::fputs(kHelp, stdout);
            return kOk;
        }
        if (args->has("version") || args->verb == "version") {
            std::printf("session-cli %s\n", kVersion);
            return kOk;
        }
        const std::string& verb = args->verb;
        if (verb.empty()) {
            std::fputs(kHelp, stderr);
            return kUsage;
        }
        if (verb == "id") return cmd_id(*args);
        if (verb == "new") return cmd_new(*args);
        if (verb == "seal") return cmd_seal(*args);
        if (verb == "open") return cmd_open(*args);
        if (verb == "send") return cmd_send(*args);
        if (verb == "receive") return cmd_receive(*args);
        if (verb == "watch") return cmd_watch(*args);
        report("unknown verb \"" + verb.substr(0, 40) + "\" (verbs: new id seal open send receive watch; see --help)");
        return kUsage;
    } catch (const std::exception& e) {
        report(std::string("internal error: ") + e.what());
        return kInternal;
    }
}
