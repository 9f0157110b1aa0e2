// fuzz_onion_response.cpp: the client decoding what comes back through an onion path, with a fixed
// response key. The first input byte picks the mode, the rest is the data:
//   0  the raw HTTP body of a snode reply (base64 or {"result": …}) -> decode_node_response
//   1  data encrypted (XChaCha20, fixed nonce), base64'd             -> decode_node_response
//   2  as 1 but wrapped as {"result": "<base64>"}
//   3  data encrypted with AES-GCM under the fallback key            -> decode_node_response with
//      an xchacha20 key: must decrypt through libsession's GCM fallback
//   4  the raw HTTP body of a server (v4) reply                      -> decode_server_response
//   5  data encrypted (XChaCha20)                                    -> decode_server_response;
//      when accepted, v4_response(status, headers, body) re-encrypted decodes to the same values
//      (header names compared in lower case: v4_response lower-cases them)
// Modes 1-3 and 5 reach the JSON / bencode parsing behind the AEAD, which random bytes never would.
// Seeds: fuzz/corpus/onion_response/.
// fuzz-requires: onion
#include <array>
#include <cctype>
#include <set>

#include "fuzz_common.hpp"
#include "detail/onion_node.hpp"
#include "session/onion.hpp"

namespace {
namespace onion = session::onion;
using session::Errc;

session::Secret<32> fixed_secret(std::uint8_t salt) {
    std::array<std::uint8_t, 32> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(salt + 7 * i);
    return session::Secret<32>(std::span<const std::uint8_t, 32>(b));
}

const std::array<std::uint8_t, 24> kNonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};

onion::ResponseKey xchacha_key() { return {onion::EncType::xchacha20, fixed_secret(0x11), fixed_secret(0x22)}; }

session::Bytes seal(onion::EncType t, const session::Secret<32>& key, session::ByteView pt) {
    auto ct = onion::encrypt_with_nonce(t, key, session::ByteView(kNonce.data(), onion::nonce_size(t)), pt);
    FUZZ_CHECK(ct.has_value(), "encrypt_with_nonce failed on a valid key and nonce");
    return std::move(*ct);
}

void check_node(const session::Result<onion::NodeResponse>& r) {
    if (r) {
        FUZZ_CHECK(r->status >= 0 && r->status <= 999, "node response status out of range");
        return;
    }
    FUZZ_CHECK(fuzz::error_in(r.error(), {Errc::onion_bad_response, Errc::onion_too_short, Errc::onion_decrypt_failed}),
               "decode_node_response: undocumented error code");
}

void check_server(const onion::ResponseKey& key, const session::Result<onion::ServerResponse>& r) {
    if (!r) {
        FUZZ_CHECK(fuzz::error_in(r.error(), {Errc::onion_bad_response, Errc::onion_too_short,
                                              Errc::onion_decrypt_failed}),
                   "decode_server_response: undocumented error code");
        return;
    }
    FUZZ_CHECK(r->status >= 0 && r->status <= 999, "server response status out of range");
    const session::Bytes plain = onion::v4_response(r->status, r->headers, r->body);
    auto again = onion::decode_server_response(key, seal(key.enc_type(), key.key(), plain));
    FUZZ_CHECK(again.has_value(), "our own v4_response does not decode");
    FUZZ_CHECK(again->status == r->status && again->body == r->body, "v4_response(decode(x)) changes status or body");
    // v4_response writes header names in lower case (as v4 servers do), so compare them that way;
    // names that collide once lower-cased collapse into one JSON key and are not comparable.
    auto lowered = [](const onion::Headers& hs) {
        onion::Headers out;
        for (const auto& [n, v] : hs) {
            std::string l(n);
            for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            out.emplace_back(std::move(l), v);
        }
        return out;
    };
    const auto before = lowered(r->headers);
    std::set<std::string> names;
    for (const auto& h : before) names.insert(h.first);
    if (names.size() == before.size())
        FUZZ_CHECK(lowered(again->headers) == before, "v4_response(decode(x)) changes the headers");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 6;
    const session::ByteView rest(data + 1, size - 1);
    const auto key = xchacha_key();
    switch (mode) {
        case 0:
            check_node(onion::decode_node_response(key, fuzz::as_text(rest.data(), rest.size())));
            break;
        case 1:
            check_node(onion::decode_node_response(key, session::base64_encode(seal(key.enc_type(), key.key(), rest))));
            break;
        case 2: {
            const std::string body =
                "{\"result\":\"" + session::base64_encode(seal(key.enc_type(), key.key(), rest)) + "\"}";
            check_node(onion::decode_node_response(key, body));
            break;
        }
        case 3: {
            const auto wire = seal(onion::EncType::aes_gcm, key.gcm_fallback_key(), rest);
            auto pt = onion::decrypt_response(key, wire);
            FUZZ_CHECK(pt.has_value(), "xchacha20 response key did not fall back to AES-GCM");
            FUZZ_CHECK(*pt == session::Bytes(rest.begin(), rest.end()), "GCM fallback changed the plaintext");
            check_node(onion::decode_node_response(key, session::base64_encode(wire)));
            break;
        }
        case 4:
            check_server(key, onion::decode_server_response(key, rest));
            break;
        case 5:
            check_server(key, onion::decode_server_response(key, seal(key.enc_type(), key.key(), rest)));
            break;
    }
    return 0;
}
