// common.cpp: phrase input and output helpers shared by the session-cli verbs.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "detail/file_read.hpp"

namespace session::cli {
namespace {

// A 13-word phrase is under 200 bytes; anything much longer is not a phrase file.
constexpr std::size_t kMaxPhraseBytes = 4096;

Failure usage(std::string message) { return Failure{kUsage, std::move(message)}; }

// Reads up to kMaxPhraseBytes from `fd` into `out`, stopping at a newline when `one_line`.
// Returns false with `error` set on a read error or an over-long input.
bool read_secret(int fd, bool one_line, SecretBuffer& out, std::string& error) {
    std::array<char, 256> chunk{};
    bool ok = true;
    for (;;) {
        // One byte at a time for a line (so nothing after the newline is consumed), blocks for a file.
        const std::size_t want = one_line ? 1 : chunk.size();
        ssize_t n = ::read(fd, chunk.data(), want);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = std::strerror(errno);
            ok = false;
            break;
        }
        if (n == 0) break;
        if (one_line && chunk[0] == '\n') break;
        if (out.size() + static_cast<std::size_t>(n) > kMaxPhraseBytes) {
            error = "longer than " + std::to_string(kMaxPhraseBytes) + " bytes; expected a 13-word phrase";
            ok = false;
            break;
        }
        out.append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    }
    detail::wipe(chunk.data(), chunk.size());
    return ok;
}

// Echo off while the phrase is typed; restored by the destructor.
class EchoOff {
public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) == 0) {
            termios quiet = saved_;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
        }
    }
    ~EchoOff() {
        if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

}  // namespace

Expected<SecretBuffer, Failure> read_phrase(const Args& args, StdinUse use, std::string& source) {
    SecretBuffer phrase;
    std::string error;
    if (const std::string* path = args.get("phrase-file")) {
        source = "--phrase-file";
        // A regular file or a pipe (--phrase-file <(pass show …)), at most kMaxPhraseBytes: the
        // rule of every file the tools read (detail/file_read.hpp).
        auto file = detail::InputFile::open(*path, {.max_bytes = kMaxPhraseBytes, .allow_pipe = true}, "--phrase-file");
        if (!file) return Unexpected<Failure>(usage(file.error().message));
        struct stat st {};
        if (::stat(path->c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
            report("warning: --phrase-file " + *path +
                   " can be read by other users; restrict it with: chmod 600 " + *path);
        auto read = file->read_all([&](std::string_view chunk) { phrase.append(chunk); });
        if (!read) return Unexpected<Failure>(usage(read.error().message));
        return phrase;
    }
    if (const char* env = std::getenv("SESSION_MNEMONIC")) {
        source = "SESSION_MNEMONIC";
        if (*env == '\0')
            return Unexpected<Failure>(usage("SESSION_MNEMONIC is set but empty"));
        phrase.append(env);
        return phrase;
    }
    source = "stdin";
    if (use == StdinUse::data)
        return Unexpected<Failure>(usage(
            args.verb + " reads its data from stdin, so the recovery phrase must come from the "
                        "SESSION_MNEMONIC environment variable or --phrase-file PATH"));
    if (::isatty(STDIN_FILENO)) {
        std::fputs("Recovery phrase (13 words, not echoed): ", stderr);
        std::fflush(stderr);
        bool ok;
        {
            EchoOff quiet(STDIN_FILENO);
            ok = read_secret(STDIN_FILENO, true, phrase, error);
        }
        std::fputs("\n", stderr);
        if (!ok) return Unexpected<Failure>(usage("reading the recovery phrase: " + error));
        return phrase;
    }
    if (!read_secret(STDIN_FILENO, true, phrase, error))
        return Unexpected<Failure>(usage("reading the recovery phrase from stdin: " + error));
    if (phrase.empty())
        return Unexpected<Failure>(usage(
            "no recovery phrase: set SESSION_MNEMONIC, pass --phrase-file PATH, or type it at the prompt"));
    return phrase;
}

Expected<Identity, Failure> load_identity(const Args& args, StdinUse use) {
    std::string source;
    auto phrase = read_phrase(args, use, source);
    if (!phrase) return Unexpected<Failure>(std::move(phrase).error());
    auto identity = Identity::from_phrase(phrase->view());
    if (!identity)
        return Unexpected<Failure>(Failure{exit_code_for(identity.error().code),
                                           "recovery phrase from " + source + ": " + identity.error().message});
    return std::move(*identity);
}

std::string json_string(std::string_view s) {
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void emit(std::string_view line) {
    std::lock_guard lk(output_mutex());
    clear_status_line_locked();
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void report(std::string_view message) {
    std::lock_guard lk(output_mutex());
    clear_status_line_locked();
    std::fputs("session-cli: ", stderr);
    std::fwrite(message.data(), 1, message.size(), stderr);
    std::fputc('\n', stderr);
}

int fail(const Failure& f) {
    report(f.message);
    return f.exit_code;
}

}  // namespace session::cli
