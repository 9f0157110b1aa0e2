// docgen.cpp: the help texts, the man page and the shell completions, all generated from the
// tables of table.cpp (and exit_codes.hpp), so that they list exactly what the parser accepts.
#include <algorithm>
#include <string>

#include "cli.hpp"

namespace session::cli {
namespace {

constexpr std::size_t kHelpWidth = 80;
constexpr std::size_t kOptionColumn = 30;  // where option descriptions start in help

constexpr std::string_view kPhraseParagraph =
    "The recovery phrase is read from --phrase-file PATH, else the SESSION_MNEMONIC environment variable, "
    "else typed at a prompt (echo off). It is never accepted on the command line: --phrase and --mnemonic "
    "are refused, and so is any argument that looks like a 13-word phrase. seal, open and a send without "
    "TEXT read their data from stdin, so they need SESSION_MNEMONIC or --phrase-file.";

constexpr std::string_view kSettingsParagraph =
    "Defaults for --network and -o come from, in this order: the flag, the environment (SESSION_NETWORK, "
    "SESSION_OUTPUT), the config file, the built-in default (mainnet; text). The config file is "
    "$XDG_CONFIG_HOME/session-cli/config, else ~/.config/session-cli/config: one key = value per line, "
    "# starts a comment line. A bad config file is a usage error naming the file and line.";

// Words of `text` filled into lines of at most `width` characters; the first line starts with
// `first`, the others with `indent`. A blank line in `text` ("\n\n") starts a new paragraph.
std::string wrap(std::string_view text, std::string_view first, std::string_view indent, std::size_t width = kHelpWidth) {
    std::string out, line(first);
    bool line_has_word = false;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.substr(i, 2) == "\n\n") {
            out += line + "\n\n";
            line = std::string(indent);
            line_has_word = false;
            i += 2;
            continue;
        }
        if (text[i] == ' ' || text[i] == '\n') {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
        const std::string_view word = text.substr(i, end - i);
        if (line_has_word && line.size() + 1 + word.size() > width) {
            out += line + "\n";
            line = std::string(indent);
            line_has_word = false;
        }
        if (line_has_word) line += ' ';
        line += word;
        line_has_word = true;
        i = end;
    }
    return out + line + "\n";
}

std::string option_label(const OptionSpec& o) {
    std::string label;
    if (o.short_name) label += std::string("-") + o.short_name + ", ";
    label += "--" + std::string(o.name);
    if (o.takes_value()) label += " " + std::string(o.metavar);
    return label;
}

std::string option_lines(const std::vector<const OptionSpec*>& options) {
    std::string out;
    for (const OptionSpec* o : options) {
        std::string left = "  " + option_label(*o);
        if (left.size() + 2 > kOptionColumn) {
            out += left + "\n";
            left.clear();
        }
        left.resize(kOptionColumn, ' ');
        out += wrap(o->help, left, std::string(kOptionColumn, ' '));
    }
    return out;
}

std::string verb_synopsis(const VerbSpec& v) {
    return v.usage.empty() ? std::string(v.name) : std::string(v.name) + " " + std::string(v.usage);
}

std::string exit_code_lines() {
    std::string out = "Exit codes\n";
    for (const auto& e : kExitCodes) out += wrap(e.meaning, "  " + std::to_string(e.code) + "  ", "     ");
    return out;
}

// ---- roff -----------------------------------------------------------------------------------

// Text for a man page line: backslashes escaped, no line starting with a control character.
std::string roff_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\e";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

// An option name or usage for roff: also every '-' as \- (an ASCII minus, so it can be copied).
std::string roff_literal(std::string_view s) {
    std::string out;
    for (char c : roff_text(s)) {
        if (c == '-') out += "\\-";
        else out += c;
    }
    return out;
}

std::string roff_paragraphs(std::string_view text) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const auto end = text.find("\n\n", start);
        out += roff_text(text.substr(start, end - start)) + "\n";
        if (end == std::string_view::npos) break;
        out += ".PP\n";
        start = end + 2;
    }
    return out;
}

std::string roff_options(const std::vector<const OptionSpec*>& options) {
    std::string out;
    for (const OptionSpec* o : options) {
        out += ".TP\n";
        std::string label;
        if (o->short_name) label += "\\fB\\-" + std::string(1, o->short_name) + "\\fR, ";
        label += "\\fB\\-\\-" + roff_literal(o->name) + "\\fR";
        if (o->takes_value()) label += " \\fI" + roff_literal(o->metavar) + "\\fR";
        out += label + "\n" + roff_text(o->help) + "\n";
    }
    return out;
}

// ---- completion -------------------------------------------------------------------------------

std::string joined_names(const std::vector<const OptionSpec*>& options) {
    std::string out;
    for (const OptionSpec* o : options) {
        if (o->short_name) out += (out.empty() ? "-" : " -") + std::string(1, o->short_name);
        out += (out.empty() ? "--" : " --") + std::string(o->name);
    }
    return out;
}

std::vector<const OptionSpec*> visible_options() {
    std::vector<const OptionSpec*> out;
    for (const auto& o : all_options())
        if (o.scope != Scope::hidden) out.push_back(&o);
    return out;
}

std::string bash_completion() {
    std::string verbs;
    for (const auto& v : all_verbs()) verbs += (verbs.empty() ? "" : " ") + std::string(v.name);
    std::string valued, files, formats;
    for (const OptionSpec* o : visible_options()) {
        if (!o->takes_value()) continue;
        std::string names = "--" + std::string(o->name);
        if (o->short_name) names = "-" + std::string(1, o->short_name) + "|" + names;
        valued += (valued.empty() ? "" : "|") + names;
        if (o->kind == ValueKind::file) files += (files.empty() ? "" : "|") + names;
        if (o->kind == ValueKind::format) formats += (formats.empty() ? "" : "|") + names;
    }
    std::string out =
        "# bash completion for session-cli. Generated by `session-cli --print-completion bash` from the\n"
        "# same table as its parser and help; do not edit.\n"
        "_session_cli() {\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        "    local verbs=\"" + verbs + "\"\n"
        "    case \"$prev\" in\n";
    if (!formats.empty()) out += "        " + formats + ") COMPREPLY=($(compgen -W \"json text\" -- \"$cur\")); return ;;\n";
    if (!files.empty())
        out += "        " + files + ") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
    out += "        " + valued + ") return ;;\n"
           "    esac\n"
           "    # The verb: the first word that is neither an option nor an option's value.\n"
           "    local verb=\"\" i skip=0\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        if ((skip)); then skip=0; continue; fi\n"
           "        case \"${COMP_WORDS[i]}\" in\n"
           "            " + valued + ") skip=1 ;;\n"
           "            -*) ;;\n"
           "            *) verb=${COMP_WORDS[i]}; break ;;\n"
           "        esac\n"
           "    done\n"
           "    local opts\n"
           "    case \"$verb\" in\n"
           "        \"\") opts=\"" + joined_names(global_options()) + "\" ;;\n";
    for (const auto& v : all_verbs()) {
        auto list = verb_options(v);
        const auto globals = global_options();
        list.insert(list.end(), globals.begin(), globals.end());
        out += "        " + std::string(v.name) + ") opts=\"" + joined_names(list) + "\" ;;\n";
    }
    out += "        *) opts=\"\" ;;\n"
           "    esac\n"
           "    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return; fi\n"
           "    if [[ -z $verb || $verb == help ]]; then COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\")); return; fi\n"
           "}\n"
           "complete -F _session_cli session-cli\n";
    return out;
}

// Text inside '…' in the zsh script: single quotes escaped; no brackets, which end an _arguments
// description (colons are fine there, and after the first colon of a _describe item).
std::string zsh_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '[') out += '(';
        else if (c == ']') out += ')';
        else if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out;
}

std::string zsh_action(ValueKind kind) {
    switch (kind) {
        case ValueKind::file: return "_files";
        case ValueKind::format: return "(json text)";
        case ValueKind::shell: return "(bash zsh)";
        default: return " ";
    }
}

std::string zsh_specs(const std::vector<const OptionSpec*>& options, std::string_view indent) {
    std::string out;
    for (const OptionSpec* o : options) {
        const std::string help = zsh_text(o->help);
        const std::string value = o->takes_value() ? ":" + zsh_text(o->metavar) + ":" + zsh_action(o->kind) : "";
        const std::string eq = o->takes_value() ? "=" : "";
        if (o->short_name)
            out += std::string(indent) + "'(-" + o->short_name + " --" + std::string(o->name) + ")'{-" + o->short_name +
                   (o->takes_value() ? "+" : "") + ",--" + std::string(o->name) + eq + "}'[" + help + "]" + value +
                   "'\n";
        else
            out += std::string(indent) + "'--" + std::string(o->name) + eq + "[" + help + "]" + value + "'\n";
    }
    return out;
}

std::string zsh_completion() {
    std::string out =
        "#compdef session-cli\n"
        "# zsh completion for session-cli. Generated by `session-cli --print-completion zsh` from the same\n"
        "# table as its parser and help; do not edit.\n"
        "_session-cli() {\n"
        "    local curcontext=\"$curcontext\" state line\n"
        "    local -a globals verbs\n"
        "    globals=(\n" +
        zsh_specs(global_options(), "        ") +
        "    )\n"
        "    verbs=(\n";
    for (const auto& v : all_verbs())
        out += "        '" + std::string(v.name) + ":" + zsh_text(v.summary) + "'\n";
    out += "    )\n"
           "    _arguments -C $globals '1:verb:->verb' '*::argument:->argument' && return\n"
           "    case $state in\n"
           "        verb) _describe -t verbs 'session-cli verb' verbs ;;\n"
           "        argument)\n"
           "            case $line[1] in\n";
    for (const auto& v : all_verbs()) {
        out += "                " + std::string(v.name) + ")\n"
               "                    _arguments $globals \\\n";
        for (const OptionSpec* o : verb_options(v)) {
            std::string spec = zsh_specs({o}, "");
            spec.pop_back();  // its newline
            out += "                        " + spec + " \\\n";
        }
        for (std::size_t i = 0; i < v.max_args && i < v.arg_kinds.size(); ++i) {
            const bool optional = i >= v.min_args;
            const auto kind = v.arg_kinds[i];
            const std::string action = kind == ValueKind::verb ? "(" + [] {
                std::string names;
                for (const auto& w : all_verbs()) names += (names.empty() ? "" : " ") + std::string(w.name);
                return names;
            }() + ")"
                                                             : zsh_action(kind);
            out += "                        '" + std::string(optional ? ":" : "") + std::to_string(i + 1) + ":argument " +
                   std::to_string(i + 1) + ":" + action + "' \\\n";
        }
        out += "                        && return ;;\n";
    }
    out += "            esac ;;\n"
           "    esac\n"
           "}\n"
           "_session-cli \"$@\"\n";
    return out;
}

}  // namespace

std::string global_help() {
    std::string out = "usage: session-cli [options] VERB [arguments]\n"
                      "       session-cli VERB --help        (or: session-cli help VERB)\n";
    std::string_view group;
    for (const auto& v : all_verbs()) {
        if (v.group != group) {
            group = v.group;
            out += "\n" + std::string(group) + "\n";
        }
        std::string left = "  " + verb_synopsis(v);
        if (left.size() + 2 > kOptionColumn) {
            out += left + "\n";
            left.clear();
        }
        left.resize(kOptionColumn, ' ');
        out += wrap(v.summary, left, std::string(kOptionColumn, ' '));
    }
    out += "\nGlobal options (every verb takes them)\n" + option_lines(global_options());
    out += "\n" + wrap(kPhraseParagraph, "", "") + "\n" + wrap(kSettingsParagraph, "", "");
    out += "\nEnvironment\n";
    for (const auto& e : environment_variables()) {
        std::string left = "  " + std::string(e.name);
        left.resize(std::max(left.size() + 2, kOptionColumn - 10), ' ');
        out += wrap(e.meaning, left, std::string(left.size(), ' '));
    }
    out += "\n" + exit_code_lines();
    out += wrap("Errors go to stderr and never contain the phrase. Reference: man session-cli, docs/cli.md", "", "");
    return out;
}

std::string verb_help(const VerbSpec& v) {
    std::string out = "usage: session-cli " + verb_synopsis(v) + " [options]\n\n";
    out += wrap(v.description, "", "") + "\n";
    if (const auto mine = verb_options(v); !mine.empty()) out += "Options\n" + option_lines(mine) + "\n";
    out += "Global options\n" + option_lines(global_options());
    return out;
}

std::string man_page() {
    std::string out = ".\\\" Generated by `session-cli --print-man` from the tables of tools/cli/table.cpp; do not edit.\n";
    out += ".TH SESSION\\-CLI 1 \"\" \"session-cli " + std::string(kVersion) + "\" \"User Commands\"\n";
    out += ".SH NAME\nsession\\-cli \\- send and receive Session 1:1 messages from a shell\n";
    out += ".SH SYNOPSIS\n.B session\\-cli\n[\\fIoptions\\fR] \\fIVERB\\fR [\\fIarguments\\fR]\n.br\n"
           ".B session\\-cli\n\\fIVERB\\fR \\fB\\-\\-help\\fR\n";
    out += ".SH DESCRIPTION\n"
           "session\\-cli sends and receives end\\-to\\-end encrypted Session 1:1 messages, and seals and opens the "
           "exact bytes a swarm stores without any network. Options may come before or after the verb; "
           "\\fB\\-\\-name=value\\fR and \\fB\\-\\-name value\\fR are the same; \\fB\\-\\-\\fR ends the options. "
           "Results go to stdout; diagnostics, warnings and errors go to stderr as \"session\\-cli: ...\".\n";
    out += ".SH VERBS\n";
    for (const auto& v : all_verbs()) {
        out += ".SS \"" + roff_literal(verb_synopsis(v)) + "\"\n";
        out += roff_paragraphs(v.description);
        if (const auto mine = verb_options(v); !mine.empty()) out += ".PP\nOptions:\n.RS\n" + roff_options(mine) + ".RE\n";
    }
    out += ".SH GLOBAL OPTIONS\nEvery verb takes these.\n" + roff_options(global_options());
    out += ".SH THE RECOVERY PHRASE\n" + roff_text(kPhraseParagraph) + "\n";
    out += ".SH ENVIRONMENT\n";
    for (const auto& e : environment_variables()) out += ".TP\n.B " + std::string(e.name) + "\n" + roff_text(e.meaning) + "\n";
    out += ".SH FILES\n.TP\n.I $XDG_CONFIG_HOME/session\\-cli/config\n" + roff_text(kSettingsParagraph) +
           " Keys:\n.RS\n";
    for (const auto& k : config_keys()) out += ".TP\n.B " + std::string(k.name) + "\n" + roff_text(k.meaning) + "\n";
    out += ".RE\n";
    out += ".SH EXIT STATUS\n";
    for (const auto& e : kExitCodes) out += ".TP\n.B " + std::to_string(e.code) + "\n" + roff_text(e.meaning) + "\n";
    out += ".SH SEE ALSO\n\\fBsession\\-localnet \\-\\-help\\fR, docs/cli.md in the session\\-client sources\n";
    return out;
}

std::string completion_script(std::string_view shell) {
    if (shell == "bash") return bash_completion();
    if (shell == "zsh") return zsh_completion();
    return {};
}

}  // namespace session::cli
