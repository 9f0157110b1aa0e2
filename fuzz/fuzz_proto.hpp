#pragma once
// fuzz_proto.hpp: the property shared by the three top-level protobuf decoders.
//   decode(x) fails -> the error is a proto_* code whose "at byte K" lies inside x;
//   decode(x) = m   -> decode(encode(m)) == m and encode is stable (encode(decode(encode(m))) ==
//                      encode(m)), i.e. nothing we accept is lost or changed by re-encoding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "session/proto_wire.hpp"

namespace fuzz {

/// The number after "at byte " in a message, or -1 if there is none.
inline long long reported_offset(const std::string& message) {
    const auto at = message.rfind("at byte ");
    if (at == std::string::npos) return -1;
    long long v = 0;
    std::size_t i = at + 8;
    if (i >= message.size() || message[i] < '0' || message[i] > '9') return -1;
    for (; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
        v = v * 10 + (message[i] - '0');
        if (v > (1LL << 40)) break;
    }
    return v;
}

template <class M>
void proto_round_trip(const std::uint8_t* data, std::size_t size) {
    using session::Errc;
    const session::ByteView in(data, size);
    auto m = M::decode(in);
    if (!m) {
        const auto& e = m.error();
        FUZZ_CHECK(error_in(e, {Errc::proto_truncated, Errc::proto_varint_overflow, Errc::proto_wire_type,
                                Errc::proto_length, Errc::proto_nesting, Errc::proto_missing_required,
                                Errc::proto_invalid_value}),
                   "decode failed with an error code outside proto_*");
        const long long off = reported_offset(e.message);
        FUZZ_CHECK(off <= static_cast<long long>(size), "error names a byte offset past the input");
        return;
    }
    const session::Bytes once = m->encode();
    auto again = M::decode(once);
    FUZZ_CHECK(again.has_value(), "our own encoding of an accepted message does not decode");
    FUZZ_CHECK(*again == *m, "decode(encode(m)) != m");
    FUZZ_CHECK(again->encode() == once, "encode(decode(encode(m))) != encode(m)");
}

}  // namespace fuzz
