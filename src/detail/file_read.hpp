#pragma once
// file_read.hpp (private): the one rule for every file the library and the tools read (state file,
// network file, phrase file, config file, later attachments):
//
//   * a regular file only (a pipe too where a rule says so, e.g. --phrase-file <(pass show …));
//     a directory, a device (/dev/zero, /dev/full), a socket or a FIFO is refused at once, without
//     reading a byte and without blocking (the open is O_NONBLOCK, so a FIFO nobody writes to
//     cannot hang the caller; where pipes are allowed, reading one waits for its writer);
//   * a size cap, checked against the file's size before reading and enforced again while reading
//     (the file may grow, and a pipe has no size);
//   * a clear error naming what the file is for and its path: "state file /x: is a directory;
//     expected a regular file", never advice to delete anything (only the owner of a format knows
//     whether a file is its own).
//
// Errors: io_error when the file cannot be opened or read (the system's reason is quoted; a missing
// file is io_error unless the caller asked for read_file_if_exists), invalid_argument when the file
// is of the wrong type or too large.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "session/error.hpp"

namespace session::detail {

struct ReadRules {
    /// Largest accepted content in bytes.
    std::uint64_t max_bytes;
    /// Also accept a FIFO or pipe (read until end of input, still capped at max_bytes).
    bool allow_pipe = false;
};

/// An open file that passed the type and size checks. Owns the descriptor.
class InputFile {
public:
    /// Opens `path` for reading under `rules`. `what` names the file in errors ("state file",
    /// "--phrase-file", "config file"). Errors: io_error (cannot open: no such file, permission…),
    /// invalid_argument (not a regular file / pipe, or larger than rules.max_bytes).
    [[nodiscard]] static Result<InputFile> open(const std::string& path, const ReadRules& rules, std::string_view what);
    /// As open(), but a file that does not exist is nullopt rather than an error.
    [[nodiscard]] static Result<std::optional<InputFile>> open_if_exists(const std::string& path, const ReadRules& rules,
                                                                         std::string_view what);

    /// Reads to the end, handing each chunk to `sink` (the chunk buffer is wiped afterwards, so a
    /// secret can be read into wiping memory). Errors: io_error (read failure), invalid_argument
    /// (more than max_bytes). Call once.
    [[nodiscard]] Result<void> read_all(const std::function<void(std::string_view chunk)>& sink);

    InputFile(InputFile&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), pipe_(other.pipe_), rules_(other.rules_), label_(std::move(other.label_)) {}
    InputFile& operator=(InputFile&&) = delete;
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;
    ~InputFile();

private:
    // open(), also reporting the errno of a failed open(2) (ENOENT: the file does not exist).
    static Result<InputFile> open_checked(const std::string& path, const ReadRules& rules, std::string_view what,
                                          int& open_errno);
    InputFile(int fd, ReadRules rules, std::string label) : fd_(fd), rules_(rules), label_(std::move(label)) {}
    int fd_ = -1;
    bool pipe_ = false;  // a FIFO or pipe: wait with poll() before each read
    ReadRules rules_;
    std::string label_;  // "what path", for errors
};

/// The whole file as text, under `rules`. Errors as InputFile::open and read_all.
[[nodiscard]] Result<std::string> read_file(const std::string& path, const ReadRules& rules, std::string_view what);

/// As read_file, but a file that does not exist is nullopt rather than an error.
[[nodiscard]] Result<std::optional<std::string>> read_file_if_exists(const std::string& path, const ReadRules& rules,
                                                                     std::string_view what);

/// The type and size checks of InputFile::open without reading (for a file another component
/// reads later). Errors as InputFile::open.
[[nodiscard]] Result<void> check_input_file(const std::string& path, const ReadRules& rules, std::string_view what);

/// "a directory", "a character device", "a FIFO", … for an st_mode (for error messages).
std::string_view file_type_name(unsigned mode);

}  // namespace session::detail
