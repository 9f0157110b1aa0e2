// bench_identity.cpp: recovery phrase -> seed -> keys.
//   mnemonic_decode: mnemonic::decode (13 words) beside zlib crc32 over the 12 three-letter prefixes,
//     the only library primitive decoding needs (the word lookup is a deliberate constant-time scan of
//     all 1626 words per token, see src/mnemonic.cpp find_word, so no ratio target applies).
//   key_derivation: Identity::from_seed beside crypto_sign_ed25519_seed_keypair +
//     crypto_sign_ed25519_pk_to_curve25519 + crypto_sign_ed25519_sk_to_curve25519.
// bench-requires: mnemonic keys
#include <zlib.h>

#include <array>
#include <cstring>

#include "bench_common.hpp"
#include "session/keys.hpp"
#include "session/mnemonic.hpp"

namespace {

// tests/vectors/mnemonic.json "mnemonic_decode".
constexpr std::string_view kPhrase =
    "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

void mnemonic_decode_ours(benchmark::State& state) {
    for (auto _ : state) {
        auto seed = bench::must(session::mnemonic::decode(kPhrase), "mnemonic::decode");
        benchmark::DoNotOptimize(seed);
    }
}

void mnemonic_decode_primitive(benchmark::State& state) {
    const char prefixes[] = "pufluxannrusmemfaxsmipudkiwnylutozin";
    for (auto _ : state) {
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, reinterpret_cast<const Bytef*>(prefixes), sizeof prefixes - 1);
        benchmark::DoNotOptimize(crc);
    }
}

void key_derivation_ours(benchmark::State& state) {
    std::array<std::uint8_t, 16> raw{};
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(0x39 + i);
    const session::mnemonic::Seed seed{std::span<const std::uint8_t, 16>(raw)};
    for (auto _ : state) {
        auto id = session::Identity::from_seed(seed);
        benchmark::DoNotOptimize(id.x25519_public().bytes[0]);
    }
}

void key_derivation_primitive(benchmark::State& state) {
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t i = 0; i < 16; ++i) seed[i] = static_cast<std::uint8_t>(0x39 + i);
    std::array<std::uint8_t, 32> ed_pk{}, x_pk{}, x_sk{};
    std::array<std::uint8_t, 64> ed_sk{};
    for (auto _ : state) {
        crypto_sign_ed25519_seed_keypair(ed_pk.data(), ed_sk.data(), seed.data());
        bench::need(crypto_sign_ed25519_pk_to_curve25519(x_pk.data(), ed_pk.data()) == 0, "pk_to_curve25519");
        crypto_sign_ed25519_sk_to_curve25519(x_sk.data(), ed_sk.data());
        benchmark::DoNotOptimize(x_pk[0]);
        benchmark::DoNotOptimize(x_sk[0]);
    }
    sodium_memzero(ed_sk.data(), ed_sk.size());
    sodium_memzero(x_sk.data(), x_sk.size());
}

void identity_from_phrase_ours(benchmark::State& state) {
    for (auto _ : state) {
        auto id = bench::must(session::Identity::from_phrase(kPhrase), "Identity::from_phrase");
        benchmark::DoNotOptimize(id->x25519_public().bytes[0]);
    }
}

}  // namespace

BENCHMARK(mnemonic_decode_ours)->Name("mnemonic_decode/ours");
BENCHMARK(mnemonic_decode_primitive)->Name("mnemonic_decode/primitive");
BENCHMARK(key_derivation_ours)->Name("key_derivation/ours");
BENCHMARK(key_derivation_primitive)->Name("key_derivation/primitive");
BENCHMARK(identity_from_phrase_ours)->Name("identity_from_phrase/ours");

int main(int argc, char** argv) { return bench::main(argc, argv); }
