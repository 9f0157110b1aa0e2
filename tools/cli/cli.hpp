#pragma once
// cli.hpp: the pieces of session-cli shared by its verbs (argument model, phrase input, output,
// network feedback). The command line itself is data (spec.hpp, table.cpp); exit codes are in
// exit_codes.hpp. docs/cli.md is the user-facing reference; keep them in step.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "exit_codes.hpp"
#include "detail/text.hpp"
#include "session/bytes.hpp"
#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/retrieve.hpp"
#include "spec.hpp"

namespace session::cli {

enum class Format { text, json };
enum class Verbosity { normal, verbose, debug };

/// The parsed command line, with the defaults from the environment and the config file applied
/// (resolve_settings). Options are accepted before or after the verb.
struct Args {
    std::string verb;
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // as given: long name without "--" → value ("" for flags)
    /// Every value of each option, in order (more than one only for a repeatable option: OptionSpec::
    /// repeatable, or VerbSpec::repeatable for that verb); `options` has the first.
    std::map<std::string, std::vector<std::string>> values;
    /// -o/--output, else SESSION_OUTPUT, else the config file's `output`; nullopt = the verb's default.
    std::optional<Format> format;
    /// --network, else SESSION_NETWORK, else the config file's `network`; "" = mainnet.
    std::string network;
    /// Where `network` came from, for errors: "--network", "SESSION_NETWORK", "config file F line N".
    std::string network_source;
    Verbosity verbosity = Verbosity::normal;
    /// stdin was closed when session-cli started (`<&-`); it now reads /dev/null.
    bool stdin_closed = false;

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

/// Parses argv against the option table. On failure returns a usage Failure naming the offending
/// argument. Refuses --phrase/--mnemonic/--seed and any argument that looks like a 13-word phrase,
/// without echoing it. Does not check which verb takes which option (check_usage does).
[[nodiscard]] Expected<Args, Failure> parse_args(int argc, char** argv);

/// "json" or "text"; nullopt for anything else.
std::optional<Format> parse_format(std::string_view value);

/// Rejects options `verb` does not take and a wrong number of positional arguments.
[[nodiscard]] Expected<void, Failure> check_usage(const Args& args, const VerbSpec& verb);

/// Applies SESSION_NETWORK / SESSION_OUTPUT and the config file ($XDG_CONFIG_HOME/session-cli/config,
/// else ~/.config/session-cli/config) below the flags: flag > environment > config file > default.
/// A bad config file or value is a usage Failure naming the file and line (or the variable).
[[nodiscard]] Expected<void, Failure> resolve_settings(Args& args);
/// The config file that resolve_settings reads (it need not exist); "" when neither
/// XDG_CONFIG_HOME (absolute) nor HOME is set.
std::string config_file_path();

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

/// Parses a non-negative decimal integer option; Failure (usage) names the option.
[[nodiscard]] Expected<std::uint64_t, Failure> parse_uint_option(const Args& args, const std::string& name,
                                                                 std::uint64_t max);

/// A JSON string literal (quotes included) of arbitrary bytes: invalid UTF-8 is replaced by U+FFFD.
std::string json_string(std::string_view s);

/// Writes `line` and a newline to stdout and flushes (so pipes see each record at once).
void emit(std::string_view line);

/// Prints "session-cli: <message>" to stderr.
void report(std::string_view message);
/// Reports f.message (as report does) and returns f.exit_code: how a verb ends on a Failure.
int fail(const Failure& f);

// ---- message input shared by seal and send ----------------------------------------------------

/// Largest message text read from stdin or argv (far above what a swarm stores; see seal's warning).
inline constexpr std::size_t kMaxTextBytes = 1024 * 1024;
/// The storage server's limit on a stored message: 102,400 base64 characters of `data`
/// (76,800 bytes decoded; storage-server.md §5.3). Client::send refuses more (envelope_too_large);
/// seal warns. The library's constant.
inline constexpr std::size_t kMaxSwarmDataChars = network::kMaxStoreDataChars;
static_assert(kMaxSwarmDataChars == 102'400);

/// Offset of the first byte that is not valid UTF-8, or nullopt (the library's check).
using session::detail::invalid_utf8_at;
/// All of `in` (at most kMaxTextBytes), minus one trailing newline; must be valid UTF-8.
[[nodiscard]] Expected<std::string, Failure> read_message_text(std::istream& in);
/// The message text of seal and send: TEXT (positional[text_index]) when given, else stdin. An
/// empty message (an empty TEXT, or no TEXT and stdin empty or closed) is a usage Failure unless
/// --allow-empty.
[[nodiscard]] Expected<std::string, Failure> message_text(const Args& args, std::size_t text_index);

/// What a sending verb (send, broadcast) sends as whom.
struct MessageInput {
    Identity self;
    std::string text;
};
/// The identity and message text of a sending verb: TEXT (positional[text_index]) when given,
/// checked before the phrase is read; else the text comes from stdin (message_text), so the phrase
/// must come from SESSION_MNEMONIC or --phrase-file.
[[nodiscard]] Expected<MessageInput, Failure> identity_and_text(const Args& args, std::size_t text_index);
/// A stored message as send prints it with -o json: {"to", "hash", "timestamp", "expiry_ms",
/// "confirmed", "swarm_members"}.
nlohmann::ordered_json sent_json(const SessionId& to, const SendResult& sent);

/// --timestamp, --expire-after-send/--expire-after-read, --display-name, --legacy-padding.
struct MessageSettings {
    std::optional<std::int64_t> timestamp_ms;
    ExpirationType expiration_type = ExpirationType::none;
    std::chrono::seconds expiration_timer{0};
    std::optional<std::string> display_name;
    bool legacy_padding = false;
    /// The Client's SendOptions for these settings (the timer).
    SendOptions send_options() const {
        SendOptions o;
        o.expiration_type = expiration_type;
        o.expiration_timer = expiration_timer;
        return o;
    }
};
[[nodiscard]] Expected<MessageSettings, Failure> read_message_settings(const Args& args);

/// The Network of `file` (a session-localnet network file; empty: mainnet), as every verb and the
/// daemon start it. The file is checked as every file the tools read (detail/file_read.hpp); errors
/// name it as `label FILE: …` (usage for an unreadable file, the create exit code for a bad one,
/// net_init's when the network cannot start).
[[nodiscard]] Expected<std::shared_ptr<network::Network>, Failure> start_network(const std::string& file,
                                                                               const std::string& label,
                                                                               network::LogFn log);

/// SessionId::parse with the error prefixed by `what` ("--to", "argument 1"); a usage Failure.
[[nodiscard]] Expected<SessionId, Failure> parse_recipient(std::string_view what, std::string_view text);

/// "2026-11-27T23:59:00.123Z" for a Unix time in milliseconds.
std::string iso_time(std::int64_t ms);
/// The `expiry` value of the JSON output: "none", "after_read" or "after_send" (docs/cli.md).
std::string_view expiry_json_name(ExpirationType type);
/// The attachments array of the JSON output.
std::string attachments_json(const std::vector<proto::AttachmentPointer>& list);
/// What --download did with one attachment of a message: where it was saved, or why not.
struct AttachmentOutcome {
    std::optional<std::string> saved_to;
    std::optional<std::string> error;
    std::optional<Errc> error_code;
};
/// As above, with each attachment's "saved_to" or "error" (outcomes[i] for list[i]).
std::string attachments_json(const std::vector<proto::AttachmentPointer>& list,
                             const std::vector<AttachmentOutcome>& outcomes);

/// Text output (-o text) of what a sender controls — body, display name, attachment names, types and
/// URLs — goes through detail::escape_for_terminal: no control sequence reaches the terminal raw, and
/// a body's further lines start with kContinuation, so no line of one message can pass for another.
/// JSON output carries the same values unescaped (JSON escapes them itself).
inline constexpr std::string_view kContinuation = "    | ";
/// The "    attachment: NAME TYPE SIZE bytes URL" lines of a message in text output, escaped.
std::string attachments_text(const std::vector<proto::AttachmentPointer>& list,
                             const std::vector<AttachmentOutcome>& outcomes = {});

// ---- network feedback (feedback.cpp) ----------------------------------------------------------

/// What the network verbs tell a person while they wait, and the log lines --verbose asks for.
///   --verbose / --debug: the library's log lines (info / debug and above) on stderr, as they come.
///   otherwise, stderr a terminal: after a couple of seconds of waiting, one status line
///     ("waiting for the network: sending to 05ab…: 6 s, 4 requests (2 failed); last: …"),
///     redrawn each second and erased when the wait ends.
///   otherwise (piped, redirected): nothing.
class Feedback {
    struct Impl;

public:
    explicit Feedback(const Args& args);
    ~Feedback();
    Feedback(const Feedback&) = delete;
    Feedback& operator=(const Feedback&) = delete;

    /// For ClientOptions::log. Thread-safe; never calls back into the network.
    network::LogFn log_fn();

    /// Marks a wait for the network, until the returned object is destroyed. `net` (may be null)
    /// is asked for its request counters.
    class Wait {
    public:
        Wait(Wait&&) noexcept;
        ~Wait();

    private:
        friend class Feedback;
        struct State;
        Wait(std::shared_ptr<State> s, Impl* owner);
        std::shared_ptr<State> state_;
        Impl* owner_ = nullptr;  // set when a status line may be drawn
    };
    [[nodiscard]] Wait wait(std::string what, const network::Network* net);
    /// Something arrived (a page was printed): the current wait starts counting again.
    void progress();

    /// The message for a failed network call, after "VERB: " (none when `verb` is empty): for an
    /// "unreachable" error kind, a sentence that says so and what to check (the network file, the
    /// connection), then the library's detail.
    std::string describe_failure(std::string_view verb, const Error& error) const;

private:
    std::unique_ptr<Impl> impl_;
};

/// Serialises writes to stdout and stderr with the status line: emit and report hold it, erase a
/// status line Feedback may have drawn, then write.
std::mutex& output_mutex();
/// Erases the status line, if one is drawn. Call with output_mutex() held.
void clear_status_line_locked();

// Verbs. Each returns the process exit code; output goes to stdout, diagnostics to stderr. They
// are called with options and argument counts already checked against their VerbSpec.
int cmd_id(const Args& args);
int cmd_new(const Args& args);
int cmd_seal(const Args& args);
int cmd_open(const Args& args);
int cmd_send(const Args& args);
int cmd_broadcast(const Args& args);
int cmd_receive(const Args& args);
int cmd_watch(const Args& args);
int cmd_download(const Args& args);  // attachment_verbs.cpp
/// receive/watch --download DIR: saves each attachment of `m` into DIR under a safe, new name.
std::vector<AttachmentOutcome> save_attachments(Client& client, const ReceivedMessage& m, const std::string& dir);
/// send --attach FILE…: uploads the files (progress on a terminal) and sends them with TEXT as caption.
int send_with_attachments(const Args& args, const SessionId& to, const MessageSettings& settings);
int cmd_daemon(const Args& args);
int cmd_help(const Args& args);
/// The Client of a network verb: the network from --network (or the defaults), --state, the log
/// going to `feedback` (network_verbs.cpp).
[[nodiscard]] Expected<Client, Failure> make_client(const Args& args, Feedback& feedback, Identity identity,
                                                    std::string display_name = {});
// The conversation verbs (conversation_verbs.cpp).
int cmd_react(const Args& args);
int cmd_unreact(const Args& args);
int cmd_mark_read(const Args& args);
int cmd_typing(const Args& args);
int cmd_reply(const Args& args);
int cmd_unsend(const Args& args);
int cmd_accept(const Args& args);
int cmd_disappearing(const Args& args);
/// The conversation kinds' typed fields of a received message, as JSON members added to `o`
/// (docs/cli.md "Conversation fields"); an ordered_json object.
void add_conversation_json(nlohmann::ordered_json& o, const ReceivedMessage& m);
/// The same for people: "" for a plain text, else e.g. "(reacts 👍 to 1764943200123 by 05ab…)".
std::string conversation_text(const ReceivedMessage& m);
int cmd_version(const Args& args);

}  // namespace session::cli
