// bench_verify.cpp: the store answers' member signatures.
//   store_signatures/ours/N: detail::verify_batch over N signatures of 5 keys (N / 5 messages, each
//     signed by the same 5 swarm members, as in a store answer: N = 5; a batch reply of 20: N = 100).
//   store_signatures/primitive/N: the same N signatures with crypto_sign_verify_detached, one by one
//     (how they were checked before). items_per_second counts signatures.
// bench-requires: ed25519_batch
#include <array>
#include <map>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "detail/ed25519_batch.hpp"

namespace {

struct Signatures {
    std::vector<std::array<std::uint8_t, 32>> keys;
    std::vector<std::string> hashes;
    std::vector<std::array<std::uint8_t, 64>> sigs;  // message m, member k: sigs[5 m + k]
    std::vector<session::detail::SignatureToCheck> items;
};

const Signatures& signatures(std::size_t n) {
    static std::map<std::size_t, Signatures> made;
    auto& s = made[n];
    if (!s.items.empty()) return s;
    bench::need(sodium_init() >= 0, "sodium_init");
    std::vector<std::array<std::uint8_t, 64>> secret(5);
    s.keys.resize(5);
    for (std::size_t k = 0; k < 5; ++k) crypto_sign_keypair(s.keys[k].data(), secret[k].data());
    for (std::size_t m = 0; m < n / 5; ++m) s.hashes.push_back("message hash " + std::to_string(m) + std::string(28, 'x'));
    s.sigs.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& h = s.hashes[i / 5];
        crypto_sign_detached(s.sigs[i].data(), nullptr, reinterpret_cast<const std::uint8_t*>(h.data()), h.size(),
                             secret[i % 5].data());
    }
    for (std::size_t i = 0; i < n; ++i)
        s.items.push_back({s.keys[i % 5], session::as_bytes(s.hashes[i / 5]), s.sigs[i]});
    return s;
}

void store_signatures_ours(benchmark::State& state) {
    const auto& s = signatures(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) bench::need(session::detail::verify_batch(s.items), "verify_batch");
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void store_signatures_primitive(benchmark::State& state) {
    const auto& s = signatures(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state)
        for (const auto& it : s.items)
            bench::need(crypto_sign_verify_detached(it.signature.data(), it.message.data(), it.message.size(),
                                                    it.public_key.data()) == 0,
                        "crypto_sign_verify_detached");
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(store_signatures_ours)->Name("store_signatures/ours")->Arg(5)->Arg(100);
BENCHMARK(store_signatures_primitive)->Name("store_signatures/primitive")->Arg(5)->Arg(100);

int main(int argc, char** argv) { return bench::main(argc, argv); }
