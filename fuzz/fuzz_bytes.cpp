// fuzz_bytes.cpp: the hex and base64 decoders of bytes.hpp and SessionId::parse (keys.hpp), which
// every JSON field of the network layer goes through.
//   from_hex(x) ok       -> to_hex of the bytes equals x lower-cased;
//   base64_decode(x) ok  -> base64_encode of the bytes decodes to the same bytes;
//   SessionId::parse ok  -> hex() equals x lower-cased; parse(hex()) gives the same id.
// fuzz-requires: keys
#include <cctype>
#include <string>

#include "fuzz_common.hpp"
#include "session/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using session::Errc;
    const std::string_view text = fuzz::as_text(data, size);
    std::string lower(text);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

    if (auto h = session::from_hex(text)) {
        FUZZ_CHECK(session::to_hex(*h) == lower, "to_hex(from_hex(x)) != lower(x)");
    } else {
        FUZZ_CHECK(fuzz::error_in(h.error(), {Errc::hex_invalid}), "from_hex: unexpected error code");
    }

    if (auto b = session::base64_decode(text)) {
        auto again = session::base64_decode(session::base64_encode(*b));
        FUZZ_CHECK(again && *again == *b, "base64 round trip changed the bytes");
        auto unpadded = session::base64_decode(session::base64_encode_unpadded(*b));
        FUZZ_CHECK(unpadded && *unpadded == *b, "unpadded base64 round trip changed the bytes");
    } else {
        FUZZ_CHECK(fuzz::error_in(b.error(), {Errc::base64_invalid}), "base64_decode: unexpected error code");
    }

    if (auto id = session::SessionId::parse(text)) {
        FUZZ_CHECK(id->hex() == lower, "SessionId::parse(x).hex() != lower(x)");
        auto again = session::SessionId::parse(id->hex());
        FUZZ_CHECK(again && *again == *id, "SessionId hex round trip");
    } else {
        FUZZ_CHECK(fuzz::error_in(id.error(), {Errc::session_id_invalid, Errc::session_id_wrong_prefix}),
                   "SessionId::parse: unexpected error code");
    }
    return 0;
}
