// fuzz_ed25519_batch.cpp: detail::verify_batch, the store signatures checked together.
// The input chooses up to 8 signatures: for each, a signer (one of 4 fixed keys), a message, and how
// it is damaged: not at all, a byte of R, s, the key or the message flipped, or R, s or the key
// replaced by input bytes (attacker data).
//   every signature untouched  -> verify_batch says yes;
//   verify_batch says yes      -> libsodium accepts every signature alone.
// fuzz-requires: ed25519_batch
#include <sodium.h>

#include <array>
#include <cstring>
#include <vector>

#include "detail/ed25519_batch.hpp"
#include "fuzz_common.hpp"

namespace {

struct Input {
    const std::uint8_t* p;
    std::size_t left;
    std::uint8_t byte() {
        if (left == 0) return 0;
        --left;
        return *p++;
    }
    void bytes(std::uint8_t* out, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) out[i] = byte();
    }
};

struct Signer {
    std::array<std::uint8_t, 32> pk;
    std::array<std::uint8_t, 64> sk;
};

const std::array<Signer, 4>& signers() {
    static const std::array<Signer, 4> s = [] {
        std::array<Signer, 4> out{};
        if (sodium_init() < 0) std::abort();
        for (std::size_t i = 0; i < out.size(); ++i) {
            std::array<std::uint8_t, 32> seed{};
            seed[0] = static_cast<std::uint8_t>(i + 1);
            crypto_sign_seed_keypair(out[i].pk.data(), out[i].sk.data(), seed.data());
        }
        return out;
    }();
    return s;
}

struct Item {
    std::array<std::uint8_t, 32> pk;
    std::vector<std::uint8_t> message;
    std::array<std::uint8_t, 64> sig;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in{data, size};
    const std::size_t n = 1 + in.byte() % 8;
    std::vector<Item> items(n);
    bool untouched = true;
    for (auto& it : items) {
        const auto& who = signers()[in.byte() % signers().size()];
        it.pk = who.pk;
        it.message.resize(in.byte() % 48);
        in.bytes(it.message.data(), it.message.size());
        crypto_sign_detached(it.sig.data(), nullptr, it.message.data(), it.message.size(), who.sk.data());
        const std::uint8_t how = in.byte() % 9;
        const std::uint8_t at = in.byte(), flip = static_cast<std::uint8_t>(in.byte() | 1);
        switch (how) {
            case 0: case 1: case 2: break;                                     // untouched
            case 3: it.sig[at % 32] ^= flip; break;                            // R
            case 4: it.sig[32 + at % 32] ^= flip; break;                       // s
            case 5: it.pk[at % 32] ^= flip; break;                             // key
            case 6: if (!it.message.empty()) it.message[at % it.message.size()] ^= flip; else it.message.push_back(flip); break;
            case 7: in.bytes(it.sig.data() + (at % 2 ? 0 : 32), 32); break;    // R or s from the input
            case 8: in.bytes(it.pk.data(), 32); break;                         // the key from the input
        }
        untouched &= how <= 2;
    }
    std::vector<session::detail::SignatureToCheck> checks;
    for (const auto& it : items) checks.push_back({it.pk, it.message, it.sig});
    const bool together = session::detail::verify_batch(checks);
    if (untouched) FUZZ_CHECK(together, "valid signatures refused together");
    if (together)
        for (const auto& it : items)
            FUZZ_CHECK(crypto_sign_verify_detached(it.sig.data(), it.message.data(), it.message.size(), it.pk.data()) == 0,
                       "a signature libsodium refuses passed together");
    return 0;
}
