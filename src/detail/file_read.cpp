// file_read.cpp: open, check and read a file under the one rule of file_read.hpp.
#include "detail/file_read.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "session/bytes.hpp"

namespace session::detail {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;

std::string label_of(std::string_view what, const std::string& path) { return std::string(what) + " " + path; }

bool acceptable(const struct stat& st, const ReadRules& rules) {
    return S_ISREG(st.st_mode) || (rules.allow_pipe && S_ISFIFO(st.st_mode));
}

Error wrong_type(const std::string& label, const struct stat& st, const ReadRules& rules) {
    return Error{Errc::invalid_argument, label + ": is " + std::string(file_type_name(st.st_mode)) + "; expected " +
                                             (rules.allow_pipe ? "a regular file or a pipe" : "a regular file")};
}

Error too_large(const std::string& label, std::uint64_t max, std::optional<std::uint64_t> size) {
    return Error{Errc::invalid_argument, label + ": is larger than the limit of " + std::to_string(max) + " bytes" +
                                             (size ? " (" + std::to_string(*size) + " bytes)" : std::string())};
}

}  // namespace

std::string_view file_type_name(unsigned mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

Result<InputFile> InputFile::open(const std::string& path, const ReadRules& rules, std::string_view what) {
    int open_errno = 0;
    return open_checked(path, rules, what, open_errno);
}

Result<std::optional<InputFile>> InputFile::open_if_exists(const std::string& path, const ReadRules& rules,
                                                         std::string_view what) {
    int open_errno = 0;
    auto file = open_checked(path, rules, what, open_errno);
    if (!file) {
        if (open_errno == ENOENT) return std::optional<InputFile>{};
        return unexpected(std::move(file).error());
    }
    return std::optional<InputFile>(std::move(*file));
}

Result<InputFile> InputFile::open_checked(const std::string& path, const ReadRules& rules, std::string_view what,
                                          int& open_errno) {
    std::string label = label_of(what, path);
    if (path.empty()) return unexpected(Errc::invalid_argument, std::string(what) + ": expected a file name, got none");
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused, or read below with
    // blocking turned back on). O_NOCTTY: a terminal device never becomes our controlling terminal.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        open_errno = errno;
        return unexpected(Errc::io_error, label + ": cannot open: " + std::strerror(open_errno));
    }
    InputFile file(fd, rules, label);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return unexpected(Errc::io_error, label + ": cannot stat: " + std::strerror(errno));
    if (!acceptable(st, rules)) return unexpected(wrong_type(label, st, rules));
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > rules.max_bytes)
        return unexpected(too_large(label, rules.max_bytes, static_cast<std::uint64_t>(st.st_size)));
    file.pipe_ = S_ISFIFO(st.st_mode);
    return file;
}

Result<void> InputFile::read_all(const std::function<void(std::string_view chunk)>& sink) {
    if (fd_ < 0) throw std::logic_error("InputFile::read_all: file already read or moved from");
    std::array<char, kChunkBytes> buf{};
    std::uint64_t total = 0;
    Result<void> out;
    for (;;) {
        // One byte past the cap is enough to know the file is too large.
        const std::uint64_t room = rules_.max_bytes - total + 1;
        if (pipe_) {
            // The descriptor stays non-blocking, where read() of a FIFO no writer has opened yet
            // returns end-of-file at once; poll() waits until a writer has written or gone.
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, -1) < 0) {
                if (errno == EINTR) continue;
                out = unexpected(Errc::io_error, label_ + ": cannot read: " + std::strerror(errno));
                break;
            }
        }
        const ssize_t n = ::read(fd_, buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), room)));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            out = unexpected(Errc::io_error, label_ + ": cannot read: " + std::strerror(errno));
            break;
        }
        if (n == 0) break;
        total += static_cast<std::uint64_t>(n);
        if (total > rules_.max_bytes) {
            out = unexpected(too_large(label_, rules_.max_bytes, std::nullopt));
            break;
        }
        sink(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    wipe(buf.data(), buf.size());
    ::close(std::exchange(fd_, -1));
    return out;
}

InputFile::~InputFile() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::string> read_file(const std::string& path, const ReadRules& rules, std::string_view what) {
    auto file = InputFile::open(path, rules, what);
    if (!file) return unexpected(std::move(file).error());
    std::string text;
    auto read = file->read_all([&](std::string_view chunk) { text.append(chunk); });
    if (!read) return unexpected(read.error());
    return text;
}

Result<std::optional<std::string>> read_file_if_exists(const std::string& path, const ReadRules& rules,
                                                       std::string_view what) {
    auto file = InputFile::open_if_exists(path, rules, what);
    if (!file) return unexpected(std::move(file).error());
    if (!*file) return std::optional<std::string>{};
    std::string text;
    auto read = (*file)->read_all([&](std::string_view chunk) { text.append(chunk); });
    if (!read) return unexpected(read.error());
    return std::optional<std::string>(std::move(text));
}

Result<void> check_input_file(const std::string& path, const ReadRules& rules, std::string_view what) {
    auto file = InputFile::open(path, rules, what);
    if (!file) return unexpected(std::move(file).error());
    return {};
}

}  // namespace session::detail
