// detail/bencode.cpp: see bencode.hpp.
#include "detail/bencode.hpp"

#include <algorithm>
#include <limits>

namespace session::detail::bencode {

const Value* Value::find(std::string_view key) const {
    const Dict* d = dict();
    if (!d) return nullptr;
    for (const auto& [k, val] : *d)
        if (k == key) return &val;
    return nullptr;
}

void encode_to(std::string& out, const Value& v) {
    if (const auto* s = v.string()) {
        out += std::to_string(s->size());
        out += ':';
        out += *s;
    } else if (const auto* i = v.integer()) {
        out += 'i';
        out += std::to_string(*i);
        out += 'e';
    } else if (const auto* l = v.list()) {
        out += 'l';
        for (const auto& item : *l) encode_to(out, item);
        out += 'e';
    } else if (const auto* d = v.dict()) {
        // Bencode requires keys in ascending byte order; sort pointers so the caller's order is free.
        std::vector<const std::pair<std::string, Value>*> entries;
        entries.reserve(d->size());
        for (const auto& e : *d) entries.push_back(&e);
        std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
        out += 'd';
        for (const auto* e : entries) {
            encode_to(out, Value(e->first));
            encode_to(out, e->second);
        }
        out += 'e';
    }
}

std::string encode(const Value& v) {
    std::string out;
    encode_to(out, v);
    return out;
}

Bytes encode_bytes(const Value& v) {
    std::string s = encode(v);
    return Bytes(s.begin(), s.end());
}

namespace {

class Parser {
public:
    Parser(std::string_view in, std::size_t max_depth) : in_(in), max_depth_(max_depth) {}

    Result<Value> parse_all() {
        Value v;
        if (auto r = parse_into(v, 0); !r) return unexpected(r.error());
        if (pos_ != in_.size()) return fail("trailing bytes after the value");
        return v;
    }

private:
    Unexpected<Error> fail(std::string_view what) const {
        return unexpected(Errc::bencode_invalid,
                          "bencode: " + std::string(what) + " at byte " + std::to_string(pos_));
    }

    // Reads decimal digits up to `end_char`; canonical form only (no leading zeros, "-0").
    Result<std::int64_t> parse_decimal(char end_char, bool allow_negative) {
        bool negative = false;
        if (allow_negative && pos_ < in_.size() && in_[pos_] == '-') {
            negative = true;
            ++pos_;
        }
        const std::size_t start = pos_;
        std::uint64_t magnitude = 0;
        const std::uint64_t limit =
            negative ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1
                     : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
            const unsigned digit = static_cast<unsigned>(in_[pos_] - '0');
            if (magnitude > (limit - digit) / 10) return fail("integer overflow");
            magnitude = magnitude * 10 + digit;
            ++pos_;
        }
        const std::size_t digits = pos_ - start;
        if (digits == 0) return fail("expected a digit");
        if (digits > 1 && in_[start] == '0') return fail("leading zero");
        if (negative && magnitude == 0) return fail("negative zero");
        if (pos_ >= in_.size()) return fail("unexpected end of input");
        if (in_[pos_] != end_char) return fail(std::string("expected '") + end_char + "'");
        ++pos_;
        if (negative) return static_cast<std::int64_t>(0 - magnitude);
        return static_cast<std::int64_t>(magnitude);
    }

    Result<std::string> parse_string() {
        auto len = parse_decimal(':', false);
        if (!len) return unexpected(std::move(len).error());
        const auto n = static_cast<std::uint64_t>(*len);
        if (n > in_.size() - pos_) return fail("string length " + std::to_string(n) + " past the end");
        std::string s(in_.substr(pos_, static_cast<std::size_t>(n)));
        pos_ += static_cast<std::size_t>(n);
        return s;
    }

    // Parses one value into `out` (filled in place: no Value temporaries are moved around, which
    // also keeps GCC 12's -Wmaybe-uninitialized quiet under the sanitizers).
    Result<void> parse_into(Value& out, std::size_t depth) {
        if (pos_ >= in_.size()) return fail("unexpected end of input");
        const char c = in_[pos_];
        if (c >= '0' && c <= '9') {
            auto s = parse_string();
            if (!s) return unexpected(s.error());
            out.v.emplace<std::string>(std::move(*s));
            return {};
        }
        if (c == 'i') {
            ++pos_;
            auto i = parse_decimal('e', true);
            if (!i) return unexpected(i.error());
            out.v.emplace<std::int64_t>(*i);
            return {};
        }
        if (c != 'l' && c != 'd') return fail("unexpected character");
        if (depth >= max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_));
        ++pos_;
        if (c == 'l') {
            List& list = out.v.emplace<List>();
            while (true) {
                if (pos_ >= in_.size()) return fail("unexpected end of input");
                if (in_[pos_] == 'e') break;
                if (auto r = parse_into(list.emplace_back(), depth + 1); !r) return r;
            }
        } else {
            Dict& dict = out.v.emplace<Dict>();
            while (true) {
                if (pos_ >= in_.size()) return fail("unexpected end of input");
                if (in_[pos_] == 'e') break;
                if (in_[pos_] < '0' || in_[pos_] > '9') return fail("dict key is not a string");
                auto key = parse_string();
                if (!key) return unexpected(key.error());
                if (!dict.empty() && !(dict.back().first < *key)) return fail("dict keys not strictly ascending");
                auto& entry = dict.emplace_back(std::move(*key), Value());
                if (auto r = parse_into(entry.second, depth + 1); !r) return r;
            }
        }
        ++pos_;  // the 'e'
        return {};
    }

    std::string_view in_;
    std::size_t max_depth_;
    std::size_t pos_ = 0;
};

}  // namespace

Result<Value> decode(std::string_view in, std::size_t max_depth) { return Parser(in, max_depth).parse_all(); }

Result<Value> decode(ByteView in, std::size_t max_depth) {
    return decode(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()), max_depth);
}

}  // namespace session::detail::bencode
