#pragma once
// text.hpp: small text checks shared by the library and its tools (private; not installed).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace session::detail {

/// Offset of the first byte of `s` that does not start a valid UTF-8 sequence (overlong forms,
/// surrogates and code points past U+10FFFF are invalid), or nullopt if `s` is valid UTF-8.
/// Protobuf `string` fields must be UTF-8 for the official clients to show them.
std::optional<std::size_t> invalid_utf8_at(std::string_view s) noexcept;

/// Text a sender controls (a message body, a display name, an attachment's file name), made safe to
/// print on a terminal: it can neither move the cursor, recolour, retitle or clear the screen,
/// reorder what follows it, nor start a line of its own.
///   * C0 controls, DEL and C1 controls (U+0080-U+009F) are shown as escapes: `\t`, `\r`, `\x1b`,
///     `\x7f`, `\u009b`; a backslash as `\\`, so every backslash in the output starts an escape;
///   * the Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)
///     and the line and paragraph separators (U+2028, U+2029) as `\u202e`, …;
///   * each byte that does not start a valid UTF-8 sequence (invalid_utf8_at's rules) as U+FFFD;
///   * a newline stays a line break, followed by `continuation` (e.g. an indent and a marker, so the
///     next line cannot pass for one the program printed); when `continuation` is empty it is shown
///     as `\n` instead.
/// Everything else, including all other printable UTF-8, passes unchanged.
std::string escape_for_terminal(std::string_view text, std::string_view continuation = {});

/// ASCII case-insensitive equality (HTTP header names).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// `s` with ASCII letters lower-cased.
std::string ascii_lower(std::string_view s);

}  // namespace session::detail
