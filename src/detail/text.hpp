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

/// ASCII case-insensitive equality (HTTP header names).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// `s` with ASCII letters lower-cased.
std::string ascii_lower(std::string_view s);

}  // namespace session::detail
