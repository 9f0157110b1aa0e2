// fuzz_envelope_open.cpp: envelope::open and decrypt_incoming for a fixed recipient identity — the
// first code every byte fetched from a swarm reaches. The first input byte picks the mode:
//   0  the bytes as a swarm message (WebSocketMessage)             -> open
//   1  the bytes as the padded Content M: sealed for us by a fixed sender
//      (encrypt_for_recipient_deterministic), wrapped              -> open; on success the sender
//      must be that fixed sender and the Content must re-encode to what open parsed
//   2  the bytes as the sealed box's plaintext (M || A || SIG), boxed for us with a fixed ephemeral
//      key by libsodium directly                                   -> decrypt_incoming (A and SIG
//      are attacker-chosen: exercises the split and the verify)
//   3  the bytes as an Envelope, put in a WebSocketMessage request  -> open (the Envelope checks)
// Every failure must carry one of open()'s documented codes.
// Seeds: fuzz/corpus/envelope_open/ (a real sealed message, Contents, envelopes).
// fuzz-requires: envelope keys proto_wire
#include <sodium.h>

#include <array>

#include "fuzz_common.hpp"
#include "session/envelope.hpp"

namespace {
namespace envelope = session::envelope;
using session::Errc;

constexpr std::int64_t kTimestamp = 1764286000000;  // 2025-11-27 23:26:40 UTC

session::Identity identity(std::uint8_t salt) {
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(salt ^ (i * 13));
    return session::Identity::from_seed(session::mnemonic::Seed(std::span<const std::uint8_t, 16>(b)));
}

const session::Identity& self() {
    static const session::Identity id = identity(0x51);
    return id;
}
const session::Identity& sender() {
    static const session::Identity id = identity(0xa7);
    return id;
}

void check_open_error(const session::Error& e) {
    FUZZ_CHECK(fuzz::error_in(e, {Errc::envelope_too_large, Errc::envelope_malformed, Errc::envelope_not_request,
                                  Errc::envelope_no_body, Errc::envelope_bad_type, Errc::envelope_bad_source,
                                  Errc::envelope_no_content, Errc::envelope_bad_pro_sig, Errc::envelope_too_short,
                                  Errc::envelope_decrypt_failed, Errc::envelope_bad_signature,
                                  Errc::envelope_bad_sender_key, Errc::envelope_bad_content,
                                  Errc::envelope_timestamp_mismatch}),
               "envelope::open: undocumented error code");
}

// A sealed box of `plain` for `to` with a fixed ephemeral key (crypto_box_seal's format:
// eph_pk || crypto_box_easy(plain, nonce = BLAKE2b-24(eph_pk || to), to, eph_sk)).
session::Bytes box_for(const session::X25519PublicKey& to, session::ByteView plain) {
    std::array<std::uint8_t, crypto_box_SEEDBYTES> seed{};
    seed.fill(0x42);
    std::array<std::uint8_t, crypto_box_PUBLICKEYBYTES> eph_pk{};
    std::array<std::uint8_t, crypto_box_SECRETKEYBYTES> eph_sk{};
    crypto_box_seed_keypair(eph_pk.data(), eph_sk.data(), seed.data());
    std::array<std::uint8_t, crypto_box_NONCEBYTES> nonce{};
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, nonce.size());
    crypto_generichash_update(&st, eph_pk.data(), eph_pk.size());
    crypto_generichash_update(&st, to.bytes.data(), to.bytes.size());
    crypto_generichash_final(&st, nonce.data(), nonce.size());
    session::Bytes out(eph_pk.size() + crypto_box_MACBYTES + plain.size());
    std::copy(eph_pk.begin(), eph_pk.end(), out.begin());
    FUZZ_CHECK(crypto_box_easy(out.data() + eph_pk.size(), plain.data(), plain.size(), nonce.data(), to.bytes.data(),
                               eph_sk.data()) == 0,
               "crypto_box_easy failed");
    return out;
}

session::Bytes decoy_sig() {
    session::Bytes s(envelope::kProSigBytes);
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (sodium_init() < 0) std::abort();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 4;
    const session::ByteView rest(data + 1, size - 1);
    switch (mode) {
        case 0: {
            auto m = envelope::open(self(), rest);
            if (!m) check_open_error(m.error());
            break;
        }
        case 1: {
            auto ct = envelope::encrypt_for_recipient_deterministic(sender(), self().x25519_public(), rest);
            FUZZ_CHECK(ct.has_value(), "encrypt_for_recipient_deterministic failed for a valid recipient");
            const session::Bytes wire = envelope::wrap(*ct, kTimestamp, decoy_sig());
            auto m = envelope::open(self(), wire);
            if (!m) {
                check_open_error(m.error());
                // The wrapper and the box are ours, so only the Content checks may fail.
                FUZZ_CHECK(m.error().code == Errc::envelope_bad_content ||
                               m.error().code == Errc::envelope_timestamp_mismatch,
                           "open rejected a correctly sealed message before parsing its Content");
                break;
            }
            FUZZ_CHECK(m->sender == sender().session_id(), "open reports a sender other than the signer");
            FUZZ_CHECK(m->sender_ed25519 == sender().ed25519_public(), "open reports another Ed25519 key");
            FUZZ_CHECK(m->envelope_timestamp_ms == kTimestamp, "open changed the envelope timestamp");
            auto re = session::proto::Content::decode(m->content.encode());
            FUZZ_CHECK(re.has_value() && *re == m->content, "opened Content does not round-trip");
            break;
        }
        case 2: {
            auto d = envelope::decrypt_incoming(self(), box_for(self().x25519_public(), rest));
            if (!d) {
                FUZZ_CHECK(fuzz::error_in(d.error(), {Errc::envelope_too_short, Errc::envelope_bad_signature,
                                                      Errc::envelope_bad_sender_key}),
                           "decrypt_incoming: unexpected error for a box that does open");
            } else {
                FUZZ_CHECK(rest.size() >= 96 && d->plaintext.size() == rest.size() - 96,
                           "decrypt_incoming returned a plaintext of the wrong length");
            }
            break;
        }
        case 3: {
            session::proto::WebSocketMessage ws;
            ws.type = session::proto::WebSocketMessage::Type::request;
            ws.request.emplace();
            ws.request->body = session::Bytes(rest.begin(), rest.end());
            auto m = envelope::open(self(), ws.encode());
            if (!m) check_open_error(m.error());
            break;
        }
    }
    return 0;
}
