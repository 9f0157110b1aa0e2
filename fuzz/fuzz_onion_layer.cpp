// fuzz_onion_layer.cpp: what a node (or a server behind the last hop) parses from a peer it has never
// authenticated (storage-server.md §3): the combined payload [u32 N][N bytes][JSON], its trailer,
// the classification of a decrypted layer ("headers" > "host" > "destination") and a v4 request.
//   parse_combined ok -> encode_combined(blob, trailer) gives the input back byte for byte;
//   parse_entry       == parse_combined + parse_trailer (same success, same error code);
//   every failure     -> one of the documented onion_* / bencode codes.
// Seeds: fuzz/corpus/onion_layer/ (entry bodies, a relay layer, final-hop layers, v4 requests).
// fuzz-requires: onion
#include "fuzz_common.hpp"
#include "detail/onion_node.hpp"
#include "session/onion.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using session::Errc;
    namespace onion = session::onion;
    const session::ByteView in(data, size);

    auto combined = onion::parse_combined(in);
    auto entry = onion::parse_entry(in);
    if (combined) {
        auto again = onion::encode_combined(combined->blob, combined->trailer);
        FUZZ_CHECK(again.has_value(), "encode_combined refused what parse_combined accepted");
        FUZZ_CHECK(*again == session::Bytes(in.begin(), in.end()), "encode_combined(parse_combined(x)) != x");
        auto info = onion::parse_trailer(combined->trailer);
        FUZZ_CHECK(info.has_value() == entry.has_value(), "parse_entry disagrees with parse_combined + parse_trailer");
        if (info) {
            FUZZ_CHECK(info->hop_no >= 0, "hop_no not clamped to >= 0");
            FUZZ_CHECK(entry->info.ephemeral_key == info->ephemeral_key, "parse_entry key differs");
            FUZZ_CHECK(entry->ciphertext.size() == combined->blob.size(), "parse_entry blob differs");
        } else {
            FUZZ_CHECK(fuzz::error_in(info.error(), {Errc::onion_bad_json, Errc::onion_missing_field,
                                                     Errc::onion_bad_key, Errc::onion_bad_enc_type}),
                       "parse_trailer: undocumented error code");
            FUZZ_CHECK(entry.error().code == info.error().code, "parse_entry error differs from parse_trailer");
        }
    } else {
        FUZZ_CHECK(fuzz::error_in(combined.error(), {Errc::onion_truncated, Errc::onion_bad_payload,
                                                     Errc::onion_too_large}),
                   "parse_combined: undocumented error code");
        FUZZ_CHECK(!entry.has_value() && entry.error().code == combined.error().code,
                   "parse_entry disagrees with parse_combined");
    }

    auto layer = onion::classify_layer(in);
    if (!layer) {
        FUZZ_CHECK(fuzz::error_in(layer.error(), {Errc::onion_truncated, Errc::onion_bad_payload, Errc::onion_bad_json,
                                                  Errc::onion_missing_field, Errc::onion_bad_key,
                                                  Errc::onion_bad_enc_type, Errc::onion_too_large}),
                   "classify_layer: undocumented error code");
    } else {
        FUZZ_CHECK(combined.has_value(), "classify_layer accepted what parse_combined rejects");
    }

    auto v4 = onion::parse_v4_request(in);
    if (v4) {
        FUZZ_CHECK(!v4->endpoint.empty() && v4->endpoint[0] == '/', "v4 endpoint must start with '/'");
    } else {
        FUZZ_CHECK(fuzz::error_in(v4.error(), {Errc::bencode_invalid, Errc::onion_bad_payload}),
                   "parse_v4_request: undocumented error code");
    }
    return 0;
}
