#pragma once
// cli.hpp: the pieces of session-cli shared by its verbs (argument model, exit codes, phrase input,
// output). docs/cli.md is the user-facing reference; keep the two in step.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/envelope.hpp"
#include "session/keys.hpp"

namespace session::cli {

/// Process exit codes (documented in docs/cli.md and --help).
enum Exit : int {
    kOk = 0,
    kInternal = 1,  // a bug: an unexpected exception
    kUsage = 2,     // bad command line or bad input (phrase, Session ID, file, number)
    kCrypto = 3,    // a message that does not decrypt, verify or parse
    kNetwork = 4,   // the network (or local network) could not complete the request
};

/// The exit code for a library error kind.
int exit_code_for(Errc code) noexcept;

enum class Format { text, json };

/// The parsed command line. Options are accepted before or after the verb.
struct Args {
    std::string verb;
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // long name without "--" → value ("" for flags)
    std::optional<Format> format;                // -o / --output, when given

    bool has(const std::string& name) const { return options.count(name) != 0; }
    const std::string* get(const std::string& name) const {
        auto it = options.find(name);
        return it == options.end() ? nullptr : &it->second;
    }
};

/// A failure a verb reports: message for stderr, exit code for the process.
struct Failure {
    int exit_code;
    std::string message;
};

/// Parses argv. On failure returns a usage Failure naming the offending argument. Refuses
/// --phrase/--mnemonic/--seed and any argument that looks like a 13-word phrase, without echoing it.
[[nodiscard]] Expected<Args, Failure> parse_args(int argc, char** argv);

/// Where a verb may read the recovery phrase from.
enum class StdinUse {
    free,  // stdin is not used for data: a phrase may be typed at a prompt or piped as one line
    data,  // stdin carries the verb's data: the phrase must come from SESSION_MNEMONIC or --phrase-file
};

/// Reads the phrase: --phrase-file PATH, else $SESSION_MNEMONIC, else stdin (prompt with echo off
/// when stdin is a terminal). `source` receives a description ("SESSION_MNEMONIC", "--phrase-file",
/// "stdin") for error messages. Never includes the phrase in a Failure.
[[nodiscard]] Expected<SecretBuffer, Failure> read_phrase(const Args& args, StdinUse use, std::string& source);

/// read_phrase + Identity::from_phrase; a bad phrase is a usage Failure naming the source and the
/// word position (never a word).
[[nodiscard]] Expected<Identity, Failure> load_identity(const Args& args, StdinUse use);

/// Rejects options the verb does not take and a wrong number of positional arguments.
/// The global options (--output, --help, --version) are always allowed.
[[nodiscard]] Expected<void, Failure> check_usage(const Args& args, std::initializer_list<std::string_view> allowed,
                                                  std::size_t min_positional, std::size_t max_positional);

/// Parses a non-negative decimal integer option; Failure (usage) names the option.
[[nodiscard]] Expected<std::uint64_t, Failure> parse_uint_option(const Args& args, const std::string& name,
                                                                 std::uint64_t max);

/// A JSON string literal (quotes included) of arbitrary bytes: invalid UTF-8 is replaced by U+FFFD.
std::string json_string(std::string_view s);

/// Writes `line` and a newline to stdout and flushes (so pipes see each record at once).
void emit(std::string_view line);

/// Prints "session-cli: <message>" to stderr.
void report(std::string_view message);

// ---- message input shared by seal and send ----------------------------------------------------

/// Largest message text read from stdin or argv (far above what a swarm stores; see seal's warning).
inline constexpr std::size_t kMaxTextBytes = 1024 * 1024;
/// The storage server refuses a `data` longer than this many base64 characters (storage-server.md §5.3).
inline constexpr std::size_t kMaxSwarmDataChars = 76'800;

/// Offset of the first byte that is not valid UTF-8, or nullopt.
std::optional<std::size_t> invalid_utf8_at(std::string_view s);
/// All of `in` (at most kMaxTextBytes), minus one trailing newline; must be valid UTF-8.
[[nodiscard]] Expected<std::string, Failure> read_message_text(std::istream& in);

/// --timestamp, --expire-after-send/--expire-after-read, --display-name, --legacy-padding.
struct MessageSettings {
    std::optional<std::int64_t> timestamp_ms;
    ExpirationType expiration_type = ExpirationType::none;
    std::chrono::seconds expiration_timer{0};
    std::optional<std::string> display_name;
    bool legacy_padding = false;
};
[[nodiscard]] Expected<MessageSettings, Failure> read_message_settings(const Args& args);

/// SessionId::parse with the error prefixed by `what` ("--to", "argument 1"); a usage Failure.
[[nodiscard]] Expected<SessionId, Failure> parse_recipient(std::string_view what, std::string_view text);

/// "2026-11-27T23:59:00.123Z" for a Unix time in milliseconds.
std::string iso_time(std::int64_t ms);
/// The `expiry` value of the JSON output: "none", "after_read" or "after_send" (docs/cli.md).
std::string_view expiry_json_name(ExpirationType type);
/// The attachments array of the JSON output.
std::string attachments_json(const std::vector<proto::AttachmentPointer>& list);

// Verbs. Each returns the process exit code; output goes to stdout, diagnostics to stderr.
int cmd_id(const Args& args);
int cmd_new(const Args& args);
int cmd_seal(const Args& args);
int cmd_open(const Args& args);
int cmd_send(const Args& args);
int cmd_receive(const Args& args);
int cmd_watch(const Args& args);

}  // namespace session::cli
