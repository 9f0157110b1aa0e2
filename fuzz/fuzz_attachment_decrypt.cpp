// fuzz_attachment_decrypt.cpp: attachment blobs as a downloader meets them. The first input byte
// picks the mode, the rest is the data:
//   0  the data as a blob of the scheme data[1] % 3, with fixed keys (cbc_hmac: the digest is the
//      blob's own SHA-256, so the MAC is what refuses it)
//   1  cbc_hmac: the data as IV || C behind a valid MAC and digest (what a malicious sender can
//      make): PKCS#7 and the size cut run on arbitrary ciphertext; data[1..2] is the pointer's size
//   2  stream: the data after data[1] is Q (padding || file) pushed with a fixed key in 32 KiB pieces,
//      data[1] % 4 placing FINAL (last only / nowhere / first / every piece); with FINAL last only,
//      the result must be exactly what follows the first non-zero byte when that byte is 0x01
//   3  gcm: the data encrypted must decrypt to itself, and one flipped byte must be refused
//   4  cbc_hmac: the data encrypted must decrypt to itself
// In every mode the streaming Decryptor, fed pieces of sizes drawn from the input, must agree with
// the whole-buffer decrypt (the same bytes, or the same error code). Seeds: fuzz/corpus/attachment_decrypt/.
// fuzz-requires: attachment
#include <sodium.h>

#include <algorithm>
#include <array>

#include "detail/crypto.hpp"
#include "fuzz_common.hpp"
#include "session/attachment.hpp"

namespace {
namespace att = session::attachment;
using session::Bytes;
using session::ByteView;
using session::Errc;

template <std::size_t N>
std::array<std::uint8_t, N> fixed(std::uint8_t salt) {
    std::array<std::uint8_t, N> b{};
    for (std::size_t i = 0; i < N; ++i) b[i] = static_cast<std::uint8_t>(salt + 13 * i);
    return b;
}
const auto kCbcKey = fixed<64>(1);
const auto kStreamKey = fixed<32>(2);
const auto kGcmKey = fixed<32>(3);
const auto kHeader = fixed<24>(4);

void check_error(const session::Error& e) {
    FUZZ_CHECK(fuzz::error_in(e, {Errc::attachment_too_large, Errc::attachment_truncated, Errc::attachment_bad_key,
                                  Errc::attachment_bad_mac, Errc::attachment_missing_digest, Errc::attachment_bad_digest,
                                  Errc::attachment_decrypt_failed, Errc::attachment_bad_format,
                                  Errc::attachment_size_mismatch}),
               "decrypt: undocumented error code");
}

// decrypt(), checked against the streaming Decryptor fed pieces whose sizes come from `rng`.
session::Result<Bytes> both_ways(const att::DecryptParams& p, ByteView blob, fuzz::FuzzRng& rng) {
    auto whole = att::decrypt(p, blob);
    if (!whole) check_error(whole.error());
    auto d = att::Decryptor::create(p, blob.size());
    Bytes out;
    session::Result<void> r;
    if (!d) {
        r = session::unexpected(d.error());
    } else {
        ByteView rest = blob;
        while (r && !rest.empty()) {
            std::array<std::uint8_t, 2> b{};
            rng.fill(b);
            const std::size_t n = std::min<std::size_t>(rest.size(), 1 + (b[0] | (b[1] << 8)) % 40000);
            r = d->update(rest.first(n), out);
            rest = rest.subspan(n);
        }
        if (r) r = d->finish(out);
    }
    FUZZ_CHECK(whole.has_value() == r.has_value(), "streaming and whole-buffer decrypt disagree on success");
    if (whole) FUZZ_CHECK(*whole == out, "streaming and whole-buffer decrypt give different bytes");
    else FUZZ_CHECK(whole.error().code == r.error().code, "streaming and whole-buffer decrypt give different errors");
    return whole;
}

Bytes stream_blob(ByteView q, int tag_mode) {
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_secretstream_xchacha20poly1305_init_pull(&st, kHeader.data(), kStreamKey.data());
    Bytes out{att::kStreamPrefix};
    out.insert(out.end(), kHeader.begin(), kHeader.end());
    const std::size_t pieces = (q.size() + att::kStreamChunkBytes - 1) / att::kStreamChunkBytes;
    for (std::size_t i = 0; i < pieces; ++i) {
        const ByteView piece = q.subspan(i * att::kStreamChunkBytes, std::min(att::kStreamChunkBytes, q.size() - i * att::kStreamChunkBytes));
        const bool last = i + 1 == pieces;
        const bool final = tag_mode == 0 ? last : tag_mode == 2 ? i == 0 : tag_mode == 3;
        const std::size_t old = out.size();
        out.resize(old + piece.size() + att::kStreamChunkOverhead);
        crypto_secretstream_xchacha20poly1305_push(&st, out.data() + old, nullptr, piece.data(), piece.size(), nullptr, 0,
                                                   final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    session::detail::sodium_ready();
    const int mode = data[0] % 5;
    const ByteView rest(data + 1, size - 1);
    fuzz::FuzzRng rng(size);
    const ByteView cbc_key(kCbcKey), stream_key(kStreamKey), gcm_key(kGcmKey);
    switch (mode) {
        case 0: {
            if (rest.empty()) return 0;
            const ByteView blob = rest.subspan(1);
            const auto digest = session::detail::sha256(blob);
            switch (rest[0] % 3) {
                case 0: (void)both_ways({att::Scheme::cbc_hmac, cbc_key, ByteView(digest), blob.size() / 2}, blob, rng); break;
                case 1: (void)both_ways({att::Scheme::stream, stream_key, std::nullopt, std::nullopt}, blob, rng); break;
                default: (void)both_ways({att::Scheme::gcm, gcm_key, std::nullopt, std::nullopt}, blob, rng); break;
            }
            break;
        }
        case 1: {
            if (rest.size() < 2) return 0;
            const std::uint64_t want = rest[0] | (rest[1] << 8);
            Bytes blob(rest.begin() + 2, rest.end());
            const auto mac = session::detail::hmac_sha256(ByteView(kCbcKey).subspan(32), blob);
            blob.insert(blob.end(), mac.begin(), mac.end());
            const auto digest = session::detail::sha256(blob);
            auto r = both_ways({att::Scheme::cbc_hmac, cbc_key, ByteView(digest), want}, blob, rng);
            if (r) FUZZ_CHECK(r->size() == want, "cbc_hmac output is not cut to the pointer's size");
            else FUZZ_CHECK(r.error().code != Errc::attachment_bad_mac && r.error().code != Errc::attachment_bad_digest,
                            "a valid MAC or digest was refused");
            break;
        }
        case 2: {
            if (rest.empty()) return 0;
            const int tag_mode = rest[0] % 4;
            const ByteView q = rest.subspan(1);
            const Bytes blob = stream_blob(q, tag_mode);
            auto r = both_ways({att::Scheme::stream, stream_key, std::nullopt, std::nullopt}, blob, rng);
            const std::size_t pieces = (q.size() + att::kStreamChunkBytes - 1) / att::kStreamChunkBytes;
            if (tag_mode == 0 && !q.empty()) {
                auto it = std::find_if(q.begin(), q.end(), [](std::uint8_t b) { return b != 0; });
                const bool good = it != q.end() && *it == 0x01;
                FUZZ_CHECK(r.has_value() == good, "stream: accepted a bad padding or refused a good one");
                if (good) FUZZ_CHECK(*r == Bytes(it + 1, q.end()), "stream: wrong plaintext after the padding");
            } else if (tag_mode == 1 || (tag_mode >= 2 && pieces > 1)) {
                FUZZ_CHECK(!r.has_value(), "stream: accepted a blob with FINAL missing or misplaced");
            }
            break;
        }
        case 3: {
            auto enc = att::Encryptor::gcm(session::Secret<32>(std::span<const std::uint8_t, 32>(kGcmKey)),
                                           fixed<12>(5), rest.size());
            FUZZ_CHECK(enc.has_value(), "gcm encryptor refused a small plaintext");
            Bytes blob;
            FUZZ_CHECK(enc->update(rest, blob).has_value() && enc->finish(blob).has_value(), "gcm encrypt failed");
            auto r = both_ways({att::Scheme::gcm, gcm_key, std::nullopt, std::nullopt}, blob, rng);
            FUZZ_CHECK(r.has_value() && *r == Bytes(rest.begin(), rest.end()), "gcm does not round-trip");
            blob[rest.empty() ? 0 : rest[0] % blob.size()] ^= 0x01;
            auto bad = both_ways({att::Scheme::gcm, gcm_key, std::nullopt, std::nullopt}, blob, rng);
            FUZZ_CHECK(!bad && bad.error().code == Errc::attachment_decrypt_failed, "gcm accepted a changed blob");
            break;
        }
        case 4: {
            auto enc = att::Encryptor::cbc_hmac(session::Secret<64>(std::span<const std::uint8_t, 64>(kCbcKey)),
                                                fixed<16>(6), rest.size());
            FUZZ_CHECK(enc.has_value(), "cbc_hmac encryptor refused a small plaintext");
            Bytes blob;
            FUZZ_CHECK(enc->update(rest, blob).has_value(), "cbc_hmac update failed");
            auto sealed = enc->finish(blob);
            FUZZ_CHECK(sealed.has_value() && blob.size() == enc->blob_size(), "cbc_hmac finish failed");
            auto r = both_ways({att::Scheme::cbc_hmac, cbc_key, ByteView(*sealed->digest), rest.size()}, blob, rng);
            FUZZ_CHECK(r.has_value() && *r == Bytes(rest.begin(), rest.end()), "cbc_hmac does not round-trip");
            break;
        }
    }
    return 0;
}
