// session-cli: Session 1:1 messaging from a shell. See docs/cli.md and `man session-cli`.
// The verbs and options are data (table.cpp); this file only dispatches.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <string>

#include "cli.hpp"

namespace {

using namespace session::cli;

// A closed stdin, stdout or stderr (`<&-`) would be handed out by the next open(): a state file
// could become "stdout". Each is pointed at /dev/null instead. Returns whether stdin was closed.
bool reopen_closed_standard_fds() {
    bool stdin_closed = false;
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        if (fd == 0) stdin_closed = true;
        const int got = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got >= 0 && got != fd) {
            ::dup2(got, fd);
            ::close(got);
        }
    }
    return stdin_closed;
}

int usage_failure(const std::string& message) {
    report(message);
    return kUsage;
}

}  // namespace

namespace session::cli {

int cmd_help(const Args& args) {
    if (args.positional.empty()) {
        std::fputs(global_help().c_str(), stdout);
        return kOk;
    }
    const VerbSpec* verb = find_verb(args.positional[0]);
    if (!verb) return usage_failure("help: unknown verb \"" + args.positional[0].substr(0, 40) + "\"");
    std::fputs(verb_help(*verb).c_str(), stdout);
    return kOk;
}

int cmd_version(const Args&) {
    std::printf("session-cli %.*s\n", static_cast<int>(kVersion.size()), kVersion.data());
    return kOk;
}

}  // namespace session::cli

int main(int argc, char** argv) {
    try {
        const bool stdin_closed = reopen_closed_standard_fds();
        auto args = parse_args(argc, argv);
        if (!args) {
            report(args.error().message);
            return args.error().exit_code;
        }
        args->stdin_closed = stdin_closed;

        // Hidden options, run by the build to generate the man page and the completions.
        if (args->has("print-man")) {
            std::fputs(man_page().c_str(), stdout);
            return kOk;
        }
        if (const std::string* shell = args->get("print-completion")) {
            const std::string script = completion_script(*shell);
            if (script.empty()) return usage_failure("--print-completion: expected bash or zsh, got \"" + shell->substr(0, 40) + "\"");
            std::fputs(script.c_str(), stdout);
            return kOk;
        }

        if (args->verb.empty()) {
            if (args->has("help")) return cmd_help(*args);
            if (args->has("version")) return cmd_version(*args);
            std::fputs(global_help().c_str(), stderr);
            return kUsage;
        }
        const VerbSpec* verb = find_verb(args->verb);
        if (!verb) {
            std::string names;
            for (const auto& v : all_verbs()) names += " " + std::string(v.name);
            return usage_failure("unknown verb \"" + args->verb.substr(0, 40) + "\" (verbs:" + names + "; see --help)");
        }
        if (args->has("help")) {  // `VERB --help`, `VERB -h`: that verb's help, whatever else is given
            std::fputs(verb_help(*verb).c_str(), stdout);
            return kOk;
        }
        if (args->has("version")) return cmd_version(*args);
        if (auto ok = check_usage(*args, *verb); !ok) return usage_failure(ok.error().message);
        if (verb->run != cmd_help && verb->run != cmd_version) {
            if (auto ok = resolve_settings(*args); !ok) return usage_failure(ok.error().message);
        }
        return verb->run(*args);
    } catch (const std::exception& e) {
        report(std::string("internal error: ") + e.what());
        return kInternal;
    }
}
