#pragma once
// spec.hpp: session-cli's command line as data. One table of options and one table of verbs
// (table.cpp) drive the parser (args.cpp), `--help` and `help VERB`, the man page and the bash and
// zsh completions (docgen.cpp), so none of them can list a flag the parser refuses or miss one it
// accepts (tests/test_cli.cpp checks the binary against all four).
//
// Adding a verb is one VerbSpec entry in kVerbs (plus its cmd_ function); adding an option is one
// OptionSpec in kOptions and its name in the `options` of the verbs that take it. For example:
//
//   // kOptions:
//   {.name = "emoji", .metavar = "EMOJI", .kind = ValueKind::text, .help = "react: the emoji to react with"},
//   // kVerbs:
//   {.name = "react", .group = kGroupNetwork, .usage = "SESSION_ID HASH", .min_args = 2, .max_args = 2,
//    .arg_kinds = {ValueKind::session_id, ValueKind::hash},
//    .summary = "react to a message",
//    .description = "Sends an emoji reaction to the message HASH from SESSION_ID.",
//    .options = "phrase-file emoji", .run = cmd_react},
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace session::cli {

struct Args;

/// What a value (of an option or a positional argument) is; completion offers accordingly.
enum class ValueKind {
    none,        // a flag, or nothing to complete
    text,        // free text
    number,      // a non-negative integer
    file,        // a path (completed as a file name)
    session_id,  // "05" + 64 hex digits
    hash,        // a 43-character message hash
    format,      // json | text
    shell,       // bash | zsh
    verb,        // a session-cli verb
};

enum class Scope {
    verb,    // accepted by the verbs that list it
    global,  // accepted by every verb (listed once, under global options)
    hidden,  // accepted before any verb, for the build (man page, completions); never listed
};

struct OptionSpec {
    std::string_view name;        // long name without "--"
    char short_name = 0;          // a one-letter alias ('o', 'h'), or 0
    std::string_view metavar{};   // the value's placeholder ("FILE"); empty for a flag
    ValueKind kind = ValueKind::none;
    std::string_view help{};      // one line (help, man page, completion descriptions)
    Scope scope = Scope::verb;
    bool repeatable = false;      // may be given more than once (Args::values keeps every value)
    bool takes_value() const { return !metavar.empty(); }
};

struct VerbSpec {
    std::string_view name;
    std::string_view group;          // heading it is listed under in --help
    std::string_view usage{};        // its arguments, as shown after the verb ("SESSION_ID [TEXT]")
    std::size_t min_args = 0, max_args = 0;
    std::array<ValueKind, 2> arg_kinds{};  // completion of the first two positional arguments
    std::string_view summary{};      // one line
    std::string_view description{};  // paragraphs separated by a blank line (help VERB, man page)
    std::string_view options{};      // names of the Scope::verb options it takes, space-separated
    std::string_view repeatable{};   // of those, the ones it takes more than once, space-separated
    int (*run)(const Args&) = nullptr;
};

inline constexpr std::string_view kGroupIdentity = "Identity (offline)";
inline constexpr std::string_view kGroupMessages = "Messages (offline)";
inline constexpr std::string_view kGroupNetwork = "Network";
inline constexpr std::string_view kGroupOther = "Help";

std::span<const OptionSpec> all_options();
std::span<const VerbSpec> all_verbs();
const VerbSpec* find_verb(std::string_view name);
const OptionSpec* find_option(std::string_view long_name);
const OptionSpec* find_short_option(char c);
/// The Scope::verb options `verb` takes, in its `options` order (throws std::logic_error for a
/// name that is not in the option table: a broken table is a bug caught by every test run).
std::vector<const OptionSpec*> verb_options(const VerbSpec& verb);
/// The Scope::global options.
std::vector<const OptionSpec*> global_options();
/// Whether `verb` accepts `option` (a global one, or one it lists).
bool verb_accepts(const VerbSpec& verb, const OptionSpec& option);

/// Environment variables and config-file keys, for help, the man page and docs/cli.md.
struct SettingDoc {
    std::string_view name;
    std::string_view meaning;
};
std::span<const SettingDoc> environment_variables();
std::span<const SettingDoc> config_keys();

// ---- generated text (docgen.cpp) -------------------------------------------------------------

std::string global_help();
std::string verb_help(const VerbSpec& verb);
/// The man page, session-cli.1 (roff, man(7) macros).
std::string man_page();
/// A completion script for `shell` ("bash" or "zsh"); empty for another shell.
std::string completion_script(std::string_view shell);

inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace session::cli
