// args.cpp: command-line parsing for session-cli, driven by the option table (table.cpp): every
// option is long ("--name VALUE" or "--name=VALUE"), a few have a one-letter alias (-o json,
// -ojson, -h), "--" ends the options. Options may come before or after the verb.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "cli.hpp"
#include "session/mnemonic.hpp"

namespace session::cli {
namespace {

// Spellings that would put the phrase on the command line, where every local user can read it
// (/proc/PID/cmdline, ps) and the shell keeps it in its history.
constexpr std::array<std::string_view, 6> kRefused{"phrase", "mnemonic", "seed", "recovery-phrase", "words",
                                                    "secret"};

constexpr std::string_view kPhraseAlternatives =
    "give the recovery phrase in the SESSION_MNEMONIC environment variable, with --phrase-file PATH, "
    "or type it at the prompt (a phrase on the command line is visible to every user of this machine "
    "and stays in shell history)";

Failure usage(std::string message) { return Failure{kUsage, std::move(message)}; }

bool is_word_char(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// True when `arg` consists of 12 or more whitespace-separated words that all match the phrase word
// list on their first three letters: almost certainly a pasted recovery phrase. (Ordinary text
// nearly always has a short or non-list word: "a", "to", "I'm"…)
bool looks_like_phrase(std::string_view arg) {
    static const auto prefixes = [] {
        std::vector<std::string> out;
        for (auto w : mnemonic::english_words()) out.emplace_back(w.substr(0, mnemonic::kPrefixLength));
        std::sort(out.begin(), out.end());
        return out;
    }();
    std::size_t words = 0;
    std::size_t i = 0;
    while (i < arg.size()) {
        while (i < arg.size() && std::isspace(static_cast<unsigned char>(arg[i]))) ++i;
        if (i == arg.size()) break;
        std::size_t start = i;
        while (i < arg.size() && !std::isspace(static_cast<unsigned char>(arg[i]))) ++i;
        std::string_view word = arg.substr(start, i - start);
        if (word.size() < mnemonic::kPrefixLength || !std::all_of(word.begin(), word.end(), is_word_char))
            return false;
        std::string prefix(word.substr(0, mnemonic::kPrefixLength));
        for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!std::binary_search(prefixes.begin(), prefixes.end(), prefix)) return false;
        ++words;
    }
    return words >= mnemonic::kPhraseWords - 1;
}

}  // namespace

Expected<Args, Failure> parse_args(int argc, char** argv) {
    Args args;
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        const std::string where = "argument " + std::to_string(i);
        if (looks_like_phrase(a))
            return Unexpected<Failure>(usage(where + " looks like a recovery phrase; refusing to use it: " +
                                             std::string(kPhraseAlternatives) +
                                             ". (If it is message text, pass it on stdin instead.)"));
        if (options_done || a.size() < 2 || a[0] != '-') {
            if (args.verb.empty()) args.verb = std::string(a);
            else args.positional.emplace_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        std::string name;
        std::optional<std::string> inline_value;
        const OptionSpec* spec = nullptr;
        if (a.starts_with("--")) {
            std::string_view body = a.substr(2);
            auto eq = body.find('=');
            name = std::string(body.substr(0, eq));
            if (eq != std::string_view::npos) inline_value = std::string(body.substr(eq + 1));
            if (std::find(kRefused.begin(), kRefused.end(), name) != kRefused.end())
                return Unexpected<Failure>(usage("--" + name + " is not accepted: " + std::string(kPhraseAlternatives)));
            spec = find_option(name);
            if (!spec)
                return Unexpected<Failure>(usage(where + ": unknown option --" + name.substr(0, 40) + " (see --help)"));
        } else {
            spec = find_short_option(a[1]);
            if (!spec || (a.size() > 2 && !spec->takes_value()))
                // Only the part before any '=' is echoed: the value could be anything.
                return Unexpected<Failure>(usage(where + ": unknown option " +
                                                 std::string(a.substr(0, std::min<std::size_t>(a.find('='), 40))) +
                                                 " (see --help)"));
            name = std::string(spec->name);
            if (a.size() > 2) inline_value = std::string(a.substr(2));  // -ojson
        }
        std::string value;
        if (spec->takes_value()) {
            if (inline_value) {
                value = std::move(*inline_value);
            } else {
                if (i + 1 >= argc) return Unexpected<Failure>(usage("--" + name + " needs a value"));
                value = argv[++i];
                if (looks_like_phrase(value))
                    return Unexpected<Failure>(usage("argument " + std::to_string(i) +
                                                     " looks like a recovery phrase; refusing to use it: " +
                                                     std::string(kPhraseAlternatives)));
            }
        } else if (inline_value) {
            return Unexpected<Failure>(usage("--" + name + " takes no value"));
        }
        // A repeated option is refused by check_usage unless the verb takes it more than once
        // (VerbSpec::repeatable, e.g. mark-read --timestamp T1 --timestamp T2); the first value is
        // options[name], every value is in values[name].
        args.values[name].push_back(value);
        if (args.options.count(name)) continue;
        if (name == "output") {
            auto f = parse_format(value);
            if (!f) return Unexpected<Failure>(usage("-o/--output: expected json or text, got \"" + value + "\""));
            args.format = *f;
        }
        if (name == "verbose" && args.verbosity == Verbosity::normal) args.verbosity = Verbosity::verbose;
        if (name == "debug") args.verbosity = Verbosity::debug;
        args.options.emplace(std::move(name), std::move(value));
    }
    return args;
}

Expected<void, Failure> check_usage(const Args& args, const VerbSpec& verb) {
    for (const auto& [name, values] : args.values) {
        if (values.size() < 2) continue;
        const OptionSpec* spec = find_option(name);
        bool repeatable = spec && spec->repeatable;
        for (std::string_view rest = verb.repeatable; !rest.empty();) {
            const auto space = rest.find(' ');
            if (rest.substr(0, space) == name) repeatable = true;
            rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        }
        if (!repeatable) return Unexpected<Failure>(usage("--" + name + " given twice"));
    }
    for (const auto& [name, value] : args.options) {
        const OptionSpec* o = find_option(name);
        if (!o || !verb_accepts(verb, *o))
            return Unexpected<Failure>(usage(args.verb + " does not take --" + name + " (see session-cli " +
                                             std::string(verb.name) + " --help)"));
    }
    const std::size_t n = args.positional.size();
    if (n < verb.min_args || n > verb.max_args) {
        std::string expect = verb.min_args == verb.max_args
                                 ? std::to_string(verb.min_args)
                                 : std::to_string(verb.min_args) + " to " + std::to_string(verb.max_args);
        return Unexpected<Failure>(usage(args.verb + ": expected " + expect + " argument" +
                                         (verb.max_args == 1 ? "" : "s") + ", got " + std::to_string(n) +
                                         (verb.usage.empty() ? std::string() : " (" + std::string(verb.usage) + ")") +
                                         " (see session-cli " + std::string(verb.name) + " --help)"));
    }
    return {};
}

std::optional<Format> parse_format(std::string_view value) {
    if (value == "json") return Format::json;
    if (value == "text") return Format::text;
    return std::nullopt;
}

Expected<std::uint64_t, Failure> parse_uint_option(const Args& args, const std::string& name, std::uint64_t max) {
    const std::string* v = args.get(name);
    if (!v) return Unexpected<Failure>(usage("--" + name + " is required"));
    std::uint64_t out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (v->empty() || ec != std::errc{} || end != v->data() + v->size())
        return Unexpected<Failure>(usage("--" + name + ": expected a non-negative integer, got \"" + *v + "\""));
    if (out > max)
        return Unexpected<Failure>(usage("--" + name + ": " + *v + " is larger than the maximum " + std::to_string(max)));
    return out;
}

}  // namespace session::cli
