// fuzz_bencode.cpp: detail::bencode::decode (the onion v4 request/response framing and the local
// network's inter-node serialization). The codec is strict (canonical integers and lengths, sorted
// unique dict keys, no trailing bytes), so every accepted input is the one canonical encoding of its
// value: encode(decode(x)) == x. Rejections must be bencode_invalid.
// Seeds: fuzz/corpus/bencode/ (v4 requests and responses, nested dicts, edge integers).
// fuzz-requires: bencode
#include "detail/bencode.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace bencode = session::detail::bencode;
    const std::string_view in = fuzz::as_text(data, size);
    auto v = bencode::decode(in);
    if (!v) {
        FUZZ_CHECK(fuzz::error_in(v.error(), {session::Errc::bencode_invalid}), "bencode: undocumented error code");
        return 0;
    }
    const std::string out = bencode::encode(*v);
    FUZZ_CHECK(out == in, "bencode: encode(decode(x)) != x for an accepted x");
    // A depth limit of 1 admits only scalars; it must fail cleanly, never crash.
    auto shallow = bencode::decode(in, 1);
    if (!shallow) FUZZ_CHECK(fuzz::error_in(shallow.error(), {session::Errc::bencode_invalid}), "bencode depth error");
    return 0;
}
