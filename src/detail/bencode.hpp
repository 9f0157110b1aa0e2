#pragma once
// detail/bencode.hpp: a minimal, strict bencode codec (byte strings, integers, lists, dicts), used by
// onion v4 requests/responses and by the local network's inter-node serialization.
//   string  <len>:<bytes>     len is decimal, no leading zeros (except "0")
//   integer i<dec>e            no leading zeros, no "-0"
//   list    l<items>e
//   dict    d<key string><value>...e   keys strictly ascending (byte order), no duplicates
// Decoding is bounds-checked and depth-limited and rejects trailing bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"

namespace session::detail::bencode {

struct Value;
using List = std::vector<Value>;
/// Kept sorted by key on decode; encode sorts a copy of the order, so any order may be built.
using Dict = std::vector<std::pair<std::string, Value>>;

struct Value {
    std::variant<std::string, std::int64_t, List, Dict> v;

    Value() : v(std::string()) {}
    Value(std::string s) : v(std::move(s)) {}
    Value(std::string_view s) : v(std::string(s)) {}
    Value(const char* s) : v(std::string(s)) {}
    Value(ByteView b) : v(std::string(b.begin(), b.end())) {}
    Value(std::int64_t i) : v(i) {}
    Value(int i) : v(static_cast<std::int64_t>(i)) {}
    Value(List l) : v(std::move(l)) {}
    Value(Dict d) : v(std::move(d)) {}

    const std::string* string() const { return std::get_if<std::string>(&v); }
    const std::int64_t* integer() const { return std::get_if<std::int64_t>(&v); }
    const List* list() const { return std::get_if<List>(&v); }
    const Dict* dict() const { return std::get_if<Dict>(&v); }
    /// The value under `key` of a dict, or nullptr (also when this is not a dict).
    const Value* find(std::string_view key) const;
};

inline constexpr std::size_t kDefaultMaxDepth = 64;

/// Appends the encoding of `v` to `out`.
void encode_to(std::string& out, const Value& v);
std::string encode(const Value& v);
Bytes encode_bytes(const Value& v);

/// Decodes exactly one value spanning all of `in`. Errors: bencode_invalid (with byte position).
[[nodiscard]] Result<Value> decode(std::string_view in, std::size_t max_depth = kDefaultMaxDepth);
[[nodiscard]] Result<Value> decode(ByteView in, std::size_t max_depth = kDefaultMaxDepth);

}  // namespace session::detail::bencode
