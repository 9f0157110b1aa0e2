// table.cpp: every verb and option of session-cli, as data (see spec.hpp). The parser, the help,
// the man page and the shell completions are all generated from these two tables.
#include <stdexcept>

#include "cli.hpp"

namespace session::cli {
namespace {

constexpr OptionSpec kOptions[] = {
    // ---- global: every verb accepts them (an alias may always add --network or -o) ----------
    {.name = "output", .short_name = 'o', .metavar = "json|text", .kind = ValueKind::format,
     .help = "json: one JSON object per line; text: for people (default text; open: json)",
     .scope = Scope::global},
    {.name = "network", .metavar = "FILE", .kind = ValueKind::file,
     .help = "the network: a network file written by session-localnet, or mainnet (the default); "
             "offline verbs accept and ignore it",
     .scope = Scope::global},
    {.name = "verbose", .help = "print the library's log lines (info and above) on stderr; never a secret",
     .scope = Scope::global},
    {.name = "debug", .help = "like --verbose, with the debug lines too", .scope = Scope::global},
    {.name = "help", .short_name = 'h', .help = "print help (for the verb, when one is given) and exit",
     .scope = Scope::global},
    {.name = "version", .help = "print the version and exit", .scope = Scope::global},

    // ---- taken by the verbs that list them --------------------------------------------------
    {.name = "phrase-file", .metavar = "PATH", .kind = ValueKind::file,
     .help = "read the recovery phrase from PATH (a regular file or a pipe, at most 4096 bytes)"},
    {.name = "to", .metavar = "SESSION_ID", .kind = ValueKind::session_id, .help = "the recipient (required)"},
    {.name = "recipients", .metavar = "FILE", .kind = ValueKind::file,
     .help = "broadcast: the recipients, one Session ID a line (blank lines and # comments skipped; a regular "
             "file or a pipe, at most 1 MiB; required)"},
    {.name = "timestamp", .metavar = "MS", .kind = ValueKind::number,
     .help = "seal: the message time in Unix milliseconds (default: now); react, unreact, reply, unsend, "
             "mark-read: the target message's sent timestamp (as receive -o json prints it)"},
    {.name = "author", .metavar = "SESSION_ID", .kind = ValueKind::session_id,
     .help = "react, unreact, reply: the target message's author"},
    {.name = "quote-text", .metavar = "TEXT", .kind = ValueKind::text,
     .help = "reply: the quoted message's text, shown with the quote"},
    {.name = "expire-after-send", .metavar = "SECS", .kind = ValueKind::number,
     .help = "a disappearing message, deleted SECS seconds after sending"},
    {.name = "expire-after-read", .metavar = "SECS", .kind = ValueKind::number,
     .help = "a disappearing message, deleted SECS seconds after reading"},
    {.name = "display-name", .metavar = "NAME", .kind = ValueKind::text,
     .help = "the profile name sent with the message"},
    {.name = "legacy-padding", .help = "pad to 160k-1 bytes (old desktop) instead of multiples of 160"},
    {.name = "allow-empty", .help = "allow an empty message (Session apps do not display one)"},
    {.name = "attach", .metavar = "FILE", .kind = ValueKind::file,
     .help = "send: attach FILE (repeatable; TEXT becomes the caption)", .repeatable = true},
    {.name = "download", .metavar = "DIR", .kind = ValueKind::file,
     .help = "save attachments into DIR (new, safe file names; never overwrites)"},
    {.name = "last-hash", .metavar = "HASH", .kind = ValueKind::hash, .help = "only messages after this hash"},
    {.name = "state", .metavar = "FILE", .kind = ValueKind::file,
     .help = "keep what was received in FILE (no message text): a restarted run resumes there and never "
             "prints a message twice"},
    {.name = "interval", .metavar = "SECS", .kind = ValueKind::number,
     .help = "seconds between polls, 1 to 86400 (default 5)"},
    {.name = "count", .metavar = "N", .kind = ValueKind::number, .help = "stop after N polls (default: until stopped)"},
    {.name = "socket", .metavar = "PATH", .kind = ValueKind::file,
     .help = "daemon: the Unix socket to serve JSON-RPC on (created with mode 0600)"},
    {.name = "data-dir", .metavar = "DIR", .kind = ValueKind::file,
     .help = "daemon: the directory of the account's store (created with mode 0700)"},
    {.name = "http", .metavar = "HOST:PORT", .kind = ValueKind::text,
     .help = "daemon: also serve JSON-RPC over HTTP on a loopback address (needs --token-file)"},
    {.name = "token-file", .metavar = "FILE", .kind = ValueKind::file,
     .help = "daemon: the HTTP bearer token, read from FILE (mode 0600, at least 16 characters)"},
    {.name = "http-allow-remote", .help = "daemon: allow --http on an address that is not loopback"},

    // ---- hidden: run by the build to generate the man page and completions -------------------
    {.name = "print-man", .help = "print the man page (roff)", .scope = Scope::hidden},
    {.name = "print-completion", .metavar = "SHELL", .kind = ValueKind::shell,
     .help = "print the completion script for bash or zsh", .scope = Scope::hidden},
};

constexpr VerbSpec kVerbs[] = {
    {.name = "new",
     .group = kGroupIdentity,
     .summary = "create an identity: print its recovery phrase and Session ID",
     .description =
         "Creates a random identity (16 bytes from libsodium's random generator) and prints its 13-word "
         "recovery phrase (line 1) and its Session ID (line 2); with -o json, "
         "{\"phrase\", \"session_id\"}. A reminder goes to stderr.\n\n"
         "Keep the phrase secret: anyone who has it can read and send your messages, and it is the only way "
         "to restore the account. Store it in a file only you can read (chmod 600) or a password manager.",
     .run = cmd_new},
    {.name = "id",
     .group = kGroupIdentity,
     .summary = "print the Session ID of your recovery phrase",
     .description = "Prints the Session ID (05 and 64 hex digits) of your recovery phrase; with -o json, "
                    "{\"session_id\"}. Offline.",
     .options = "phrase-file",
     .run = cmd_id},
    {.name = "seal",
     .group = kGroupMessages,
     .usage = "--to SESSION_ID",
     .summary = "message text on stdin -> one line: the base64 data a swarm stores",
     .description =
         "Reads the message text from stdin and prints, on one line, the base64 data a swarm would store "
         "for the recipient: exactly what send stores. Offline: nothing is sent. The text is at most 1 MiB "
         "of UTF-8; one trailing newline (the shell's) is dropped. An empty text needs --allow-empty.\n\n"
         "A storage server refuses data longer than 102,400 base64 characters (76,800 bytes decoded); a "
         "longer result is printed with a warning. With -o json: {\"to\", \"timestamp\", \"data\"}.",
     .options = "phrase-file to timestamp expire-after-send expire-after-read display-name legacy-padding allow-empty",
     .run = cmd_seal},
    {.name = "open",
     .group = kGroupMessages,
     .summary = "base64 data lines on stdin -> one decoded message per line",
     .description =
         "Reads base64 data values, one per line, opens each as the recipient and prints one line per input "
         "line (JSON by default): the sender, kind, body, timestamps, timer and attachments. A line that "
         "cannot be opened prints {\"line\", \"error\"} and open continues with the next one; the exit code "
         "is then 3.",
     .options = "phrase-file",
     .run = cmd_open},
    {.name = "send",
     .group = kGroupNetwork,
     .usage = "SESSION_ID [TEXT]",
     .min_args = 1,
     .max_args = 2,
     .arg_kinds = {ValueKind::session_id, ValueKind::text},
     .summary = "send TEXT (or stdin, when TEXT is absent) as a 1:1 message",
     .description =
         "Sends TEXT, or stdin when TEXT is absent (the rules of seal), to SESSION_ID through an onion "
         "request to the recipient's swarm. Sending to your own Session ID is Note to Self. An empty "
         "message (an empty TEXT, or no TEXT and an empty or closed stdin) is refused unless --allow-empty, "
         "so a job without input never sends a blank message.\n\n"
         "--attach FILE (repeatable) uploads each FILE, encrypted as session-desktop does, to the network's "
         "file server over onion requests (in parallel, at most 10,000,000 bytes each, checked before any "
         "upload) and sends them in one message with TEXT (which may be absent) as its caption. A progress line "
         "is drawn on a terminal, none when stderr is piped.\n\n"
         "Prints the stored message's hash (and the swarm's confirmation on stderr); with -o json, "
         "{\"to\", \"hash\", \"timestamp\", \"expiry_ms\", \"confirmed\", \"swarm_members\"}. The timestamp "
         "is the network's time.",
     .options = "phrase-file expire-after-send expire-after-read display-name allow-empty attach",
     .run = cmd_send},
    {.name = "broadcast",
     .group = kGroupNetwork,
     .usage = "--recipients FILE [TEXT]",
     .max_args = 1,
     .arg_kinds = {ValueKind::text},
     .summary = "send one TEXT (or stdin) to every Session ID listed in FILE, in batches",
     .description =
         "Sends TEXT, or stdin when TEXT is absent (the rules of send), to every Session ID in the --recipients "
         "file: one per line, blank lines and lines starting with # skipped, a repeated ID sent to once (with a "
         "warning). A line that is not a Session ID is refused (exit 2) before anything is sent. Each "
         "recipient gets its own 1:1 message; recipients in the same swarm share onion requests (up to 20 "
         "stores each), so a list costs far fewer requests than one send per recipient.\n\n"
         "Prints one line per recipient, in the file's order: its Session ID and the stored message's hash; "
         "with -o json, send's object, or {\"to\", \"error\"} for a recipient whose message was not stored "
         "(text: on stderr). Then \"sent to N of M recipients\" on stderr. The exit code is 0 when every "
         "message was stored, else the code of the first failure (4 for the network): the others are still "
         "sent.",
     .options = "phrase-file recipients expire-after-send expire-after-read display-name allow-empty",
     .run = cmd_broadcast},
    {.name = "receive",
     .group = kGroupNetwork,
     .summary = "print the messages waiting in your swarm",
     .description =
         "Polls your swarm once and prints the messages stored after --last-hash (without it, all the swarm "
         "holds, up to 14 days), page by page as they arrive. Items that cannot be opened are reported "
         "(JSON {\"hash\", \"stored_timestamp\", \"error\"}; text: on stderr) and do not change the exit "
         "code.\n\n"
         "--state FILE keeps what was received (hashes, no message text) and, without --last-hash, resumes "
         "where the last run with FILE stopped; a restarted run never prints a message twice. One run at a "
         "time per FILE.\n\n"
         "--download DIR saves every attachment into DIR (a safe name from the sender's file name, never a "
         "path; an existing file is never overwritten) and prints where (-o json: \"saved_to\", or \"error\" "
         "when one failed; the message is printed either way).",
     .options = "phrase-file last-hash state download",
     .run = cmd_receive},
    {.name = "watch",
     .group = kGroupNetwork,
     .summary = "poll for new messages until stopped (Ctrl-C, SIGTERM or --count)",
     .description =
         "Polls like receive every --interval seconds and prints each new message once. A poll that fails "
         "for a network reason is reported and retried; any other failure (such as a --state file that "
         "cannot be written) ends watch at once with its exit code.\n\n"
         "Ctrl-C (SIGINT) or SIGTERM stops it at once, even in the middle of a poll, and prints where to "
         "resume (--last-hash H).",
     .options = "phrase-file last-hash state interval count download",
     .run = cmd_watch},
    {.name = "react",
     .group = kGroupNetwork,
     .usage = "SESSION_ID --timestamp T --author ID EMOJI",
     .min_args = 2,
     .max_args = 2,
     .arg_kinds = {ValueKind::session_id, ValueKind::text},
     .summary = "react with EMOJI to a message of the conversation with SESSION_ID",
     .description =
         "Adds the reaction EMOJI to the message sent at --timestamp by --author (yours or SESSION_ID's) in "
         "the conversation with SESSION_ID. Prints the stored hash like send; with -o json, send's object.",
     .options = "phrase-file timestamp author display-name",
     .run = cmd_react},
    {.name = "unreact",
     .group = kGroupNetwork,
     .usage = "SESSION_ID --timestamp T --author ID EMOJI",
     .min_args = 2,
     .max_args = 2,
     .arg_kinds = {ValueKind::session_id, ValueKind::text},
     .summary = "remove your reaction EMOJI from a message",
     .description = "Removes the reaction EMOJI from the message sent at --timestamp by --author. Output as react.",
     .options = "phrase-file timestamp author display-name",
     .run = cmd_unreact},
    {.name = "mark-read",
     .group = kGroupNetwork,
     .usage = "SESSION_ID --timestamp T [--timestamp T2 ...]",
     .min_args = 1,
     .max_args = 1,
     .arg_kinds = {ValueKind::session_id, ValueKind::none},
     .summary = "send a read receipt for messages from SESSION_ID",
     .description =
         "Sends a read receipt for the messages SESSION_ID sent at each --timestamp. Messages among them that "
         "disappear after reading start their timer: their expiry in your swarm is shortened to now plus the "
         "timer (a signed expire request). With -o json, send's object plus \"shortened\" (their hashes).",
     .options = "phrase-file timestamp",
     .repeatable = "timestamp",
     .run = cmd_mark_read},
    {.name = "typing",
     .group = kGroupNetwork,
     .usage = "SESSION_ID started|stopped",
     .min_args = 2,
     .max_args = 2,
     .arg_kinds = {ValueKind::session_id, ValueKind::text},
     .summary = "show or stop the typing indicator in the conversation with SESSION_ID",
     .description = "Sends a typing indicator (kept 20 s by the swarm). Output as send.",
     .options = "phrase-file",
     .run = cmd_typing},
    {.name = "reply",
     .group = kGroupNetwork,
     .usage = "SESSION_ID --timestamp T --author ID [--quote-text Q] [TEXT]",
     .min_args = 1,
     .max_args = 2,
     .arg_kinds = {ValueKind::session_id, ValueKind::text},
     .summary = "send TEXT (or stdin) quoting the message sent at --timestamp by --author",
     .description =
         "Sends TEXT (the rules of send) with a quote of the message sent at --timestamp by --author; "
         "--quote-text adds that message's text to the quote. A first reply to someone who wrote to you first "
         "also accepts their message request. Output as send.",
     .options = "phrase-file timestamp author quote-text display-name allow-empty",
     .run = cmd_reply},
    {.name = "unsend",
     .group = kGroupNetwork,
     .usage = "SESSION_ID --timestamp T",
     .min_args = 1,
     .max_args = 1,
     .arg_kinds = {ValueKind::session_id, ValueKind::none},
     .summary = "delete your message sent at --timestamp, for SESSION_ID and from your swarm",
     .description =
         "Asks SESSION_ID to delete your message sent at --timestamp (an unsend request) and deletes your own "
         "copies of it from your swarm (the sync copy, or the message itself for Note to Self) with a signed "
         "delete request. With -o json, send's object plus \"deleted\" (the hashes deleted).",
     .options = "phrase-file timestamp",
     .run = cmd_unsend},
    {.name = "accept",
     .group = kGroupNetwork,
     .usage = "SESSION_ID",
     .min_args = 1,
     .max_args = 1,
     .arg_kinds = {ValueKind::session_id, ValueKind::none},
     .summary = "accept the message request of SESSION_ID",
     .description = "Sends the message request response (approved, with your --display-name). Output as send.",
     .options = "phrase-file display-name",
     .run = cmd_accept},
    {.name = "disappearing",
     .group = kGroupNetwork,
     .usage = "SESSION_ID off|after-read|after-send [SECONDS]",
     .min_args = 2,
     .max_args = 3,
     .arg_kinds = {ValueKind::session_id, ValueKind::text},
     .summary = "set the disappearing-messages timer of the conversation with SESSION_ID",
     .description =
         "Sends the timer update: messages disappear SECONDS after they are read (after-read) or sent "
         "(after-send), or not (off). With -o json, send's object plus \"expiry\" and \"seconds\".",
     .options = "phrase-file",
     .run = cmd_disappearing},
    {.name = "download",
     .group = kGroupNetwork,
     .usage = "[ATTACHMENT_JSON]",
     .min_args = 0,
     .max_args = 1,
     .arg_kinds = {ValueKind::text, ValueKind::none},
     .summary = "download one received attachment",
     .description =
         "Downloads and decrypts one attachment described by ATTACHMENT_JSON (or stdin when absent): one "
         "element of a message's \"attachments\" in receive -o json ({\"url\", \"key\", \"digest\", "
         "\"size\", \"file_name\", …}). It is saved into --download DIR (default: the current directory) "
         "under a safe new name, written to a temporary file and renamed only once it verified. Prints the "
         "path; with -o json, the attachment object with \"saved_to\".",
     .options = "phrase-file download",
     .run = cmd_download},
    {.name = "daemon",
     .group = kGroupNetwork,
     .usage = "--socket PATH --data-dir DIR",
     .summary = "serve the account over JSON-RPC 2.0 (Unix socket, optionally HTTP) until SIGTERM",
     .description =
         "Runs until SIGTERM or Ctrl-C: polls the account's swarm every --interval seconds (default 5) and "
         "serves JSON-RPC 2.0 on the Unix socket --socket (mode 0600, one JSON object per line each way), "
         "and with --http HOST:PORT also over HTTP on loopback (POST /api/v1/rpc, events from "
         "GET /api/v1/events, bearer token from --token-file). History, the outbox and a durable event log "
         "live in a store in --data-dir: a send is accepted once it is queued there and is retried until the "
         "swarm stores it, across restarts; events are replayed to a subscriber from any sequence number.\n\n"
         "Logs are JSON lines on stderr. docs/daemon.md describes every method, event and error code.",
     .options = "phrase-file socket data-dir http token-file http-allow-remote interval display-name",
     .run = cmd_daemon},
    {.name = "help",
     .group = kGroupOther,
     .usage = "[VERB]",
     .max_args = 1,
     .arg_kinds = {ValueKind::verb, ValueKind::none},
     .summary = "print help for session-cli, or for VERB",
     .description = "Prints the overview, or the help of VERB (the same as session-cli VERB --help).",
     .run = cmd_help},
    {.name = "version",
     .group = kGroupOther,
     .summary = "print the version",
     .description = "Prints \"session-cli VERSION\".",
     .run = cmd_version},
};

constexpr SettingDoc kEnvironment[] = {
    {"SESSION_MNEMONIC", "the recovery phrase, when --phrase-file is not given"},
    {"SESSION_NETWORK", "the network when --network is not given: a network file, or mainnet"},
    {"SESSION_OUTPUT", "the output format when -o is not given: json or text"},
    {"XDG_CONFIG_HOME", "where the config file is looked for: $XDG_CONFIG_HOME/session-cli/config "
                        "(default ~/.config/session-cli/config)"},
};

constexpr SettingDoc kConfigKeys[] = {
    {"network", "a network file, or mainnet (a relative path is relative to the config file's directory; "
                "~/ is your home directory)"},
    {"output", "json or text"},
};

}  // namespace

std::span<const OptionSpec> all_options() { return kOptions; }
std::span<const VerbSpec> all_verbs() { return kVerbs; }
std::span<const SettingDoc> environment_variables() { return kEnvironment; }
std::span<const SettingDoc> config_keys() { return kConfigKeys; }

const VerbSpec* find_verb(std::string_view name) {
    for (const auto& v : kVerbs)
        if (v.name == name) return &v;
    return nullptr;
}

const OptionSpec* find_option(std::string_view long_name) {
    for (const auto& o : kOptions)
        if (o.name == long_name) return &o;
    return nullptr;
}

const OptionSpec* find_short_option(char c) {
    for (const auto& o : kOptions)
        if (o.short_name != 0 && o.short_name == c) return &o;
    return nullptr;
}

std::vector<const OptionSpec*> verb_options(const VerbSpec& verb) {
    std::vector<const OptionSpec*> out;
    std::string_view rest = verb.options;
    while (!rest.empty()) {
        const auto space = rest.find(' ');
        const std::string_view name = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        if (name.empty()) continue;
        const OptionSpec* o = find_option(name);
        if (!o || o->scope != Scope::verb)
            throw std::logic_error("session-cli table: verb " + std::string(verb.name) + " lists unknown option " +
                                   std::string(name));
        out.push_back(o);
    }
    return out;
}

std::vector<const OptionSpec*> global_options() {
    std::vector<const OptionSpec*> out;
    for (const auto& o : kOptions)
        if (o.scope == Scope::global) out.push_back(&o);
    return out;
}

bool verb_accepts(const VerbSpec& verb, const OptionSpec& option) {
    if (option.scope == Scope::global) return true;
    if (option.scope == Scope::hidden) return false;
    for (const OptionSpec* o : verb_options(verb))
        if (o == &option) return true;
    return false;
}

}  // namespace session::cli
