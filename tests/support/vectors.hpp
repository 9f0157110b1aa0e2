#pragma once
// Test helpers: load a vector file from tests/vectors/ and decode hex fields.
#include <nlohmann/json.hpp>
#include <string>

#include "session/bytes.hpp"

namespace session::test {

/// The "vectors" array of tests/vectors/<file>.
nlohmann::json vectors(const std::string& file);
/// The vector named `name` in tests/vectors/<file>; throws if absent.
nlohmann::json vector(const std::string& file, const std::string& name);
/// Hex field `key` of `v`, decoded; throws if absent or not hex.
Bytes hex(const nlohmann::json& v, const char* key);
/// Hex literal to bytes; throws on bad hex (test code only).
Bytes unhex(std::string_view hex);

}  // namespace session::test
