// bench_envelope.cpp: sealing and opening a 1:1 message, each beside every libsodium call it makes.
//   seal/<body bytes>:  envelope::seal (Content encode, pad, sign, sealed box, decoy proSig, Envelope
//                       and WebSocketMessage encode) beside crypto_sign_ed25519_detached over
//                       M || A || Y, crypto_box_seal of M || A || SIG (M = the padded Content) and the
//                       decoy proSig's calls (scalar_random x2 + scalarmult_ed25519_base_noclamp),
//                       which the wire format libsession/desktop send requires.
//   open/<body bytes>:  envelope::open (both protobuf layers, sealed-box open, verify, unpad, Content
//                       decode) of a message from a sender seen before (a conversation: the sender
//                       key's X25519 form is remembered) beside crypto_box_seal_open +
//                       crypto_sign_ed25519_verify_detached.
//   open_new_sender/100: the same for a sender never seen (8,192 senders in turn, more than the
//                       remembered 4,096), so open also converts the sender key: beside
//                       crypto_box_seal_open + verify + crypto_sign_ed25519_pk_to_curve25519.
// Breakdown rows (no target) show where any difference goes:
//   encrypt_for_recipient: the seal crypto core alone, beside sign + box_seal only;
//   decrypt_incoming: the open crypto core alone (known sender), beside box_seal_open + verify;
//   decoy_pro_sig: seal's third primitive (a random scalar times the Ed25519 base point, then a
//     second random scalar) beside the same calls;
//   to_x25519: a new sender's key conversion (crypto_sign_ed25519_pk_to_curve25519).
// Body sizes: 100 bytes (a chat line, one 160-byte padding block) and 2000 bytes.
// bench-requires: envelope keys proto_wire
#include <array>
#include <vector>

#include "bench_common.hpp"
#include "session/envelope.hpp"
#include "session/keys.hpp"

namespace {
namespace envelope = session::envelope;
using session::Bytes;

constexpr std::int64_t kTimestamp = 1764286000000;

session::Identity identity(std::uint8_t salt) {
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(salt + i);
    return session::Identity::from_seed(session::mnemonic::Seed(std::span<const std::uint8_t, 16>(b)));
}

struct Fixture {
    session::Identity alice = identity(0x10);
    session::Identity bob = identity(0x80);
    session::proto::Content content;
    Bytes padded;  // M as seal builds it
    Bytes sealed;  // what open reads
    Bytes box;     // the sealed box inside `sealed`
    explicit Fixture(std::size_t body_bytes) {
        envelope::OutgoingMessage m;
        m.body.assign(body_bytes, 'x');
        m.timestamp_ms = kTimestamp;
        m.display_name = "Alice";
        content = envelope::build_content(m);
        padded = envelope::pad(content.encode());
        sealed = *bench::must(envelope::seal(alice, bob.session_id(), content, kTimestamp), "seal");
        box = *bench::must(envelope::encrypt_for_recipient(alice, bob.x25519_public(), padded), "encrypt");
    }
};

Fixture& fixture(std::size_t body) {
    static Fixture small(100), large(2000);
    return body <= 100 ? small : large;
}

// ---- seal ----

void seal_ours(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    const auto to = f.bob.session_id();
    for (auto _ : state) {
        auto out = bench::must(envelope::seal(f.alice, to, f.content, kTimestamp), "seal");
        benchmark::DoNotOptimize(out->data());
    }
}

// The primitive calls of encrypt_for_recipient on the same M: sign(M || A || Y), seal(M || A || SIG).
void sign_and_box(const Fixture& f, Bytes& signed_msg, Bytes& inner, Bytes& out) {
    const std::size_t m = f.padded.size();
    std::copy(f.padded.begin(), f.padded.end(), signed_msg.begin());
    std::copy(f.alice.ed25519_public().bytes.begin(), f.alice.ed25519_public().bytes.end(), signed_msg.begin() + m);
    std::copy(f.bob.x25519_public().bytes.begin(), f.bob.x25519_public().bytes.end(), signed_msg.begin() + m + 32);
    std::copy(signed_msg.begin(), signed_msg.begin() + m + 32, inner.begin());
    crypto_sign_ed25519_detached(inner.data() + m + 32, nullptr, signed_msg.data(), signed_msg.size(),
                                 f.alice.ed25519_secret().reveal().data());
    bench::need(crypto_box_seal(out.data(), inner.data(), inner.size(), f.bob.x25519_public().bytes.data()) == 0,
                "crypto_box_seal");
}

void sign_and_box_primitive(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    Bytes signed_msg(f.padded.size() + 64), inner(f.padded.size() + 96), out(f.padded.size() + 96 + 48);
    for (auto _ : state) {
        sign_and_box(f, signed_msg, inner, out);
        benchmark::DoNotOptimize(out.data());
    }
}

// The decoy proSig's calls: R = r·B for a random scalar r, then a random scalar.
void decoy_calls(std::array<std::uint8_t, 32>& r, std::array<std::uint8_t, 64>& sig) {
    crypto_core_ed25519_scalar_random(r.data());
    bench::need(crypto_scalarmult_ed25519_base_noclamp(sig.data(), r.data()) == 0, "scalarmult");
    crypto_core_ed25519_scalar_random(sig.data() + 32);
}

void seal_primitive(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    Bytes signed_msg(f.padded.size() + 64), inner(f.padded.size() + 96), out(f.padded.size() + 96 + 48);
    std::array<std::uint8_t, 32> r{};
    std::array<std::uint8_t, 64> decoy{};
    for (auto _ : state) {
        sign_and_box(f, signed_msg, inner, out);
        decoy_calls(r, decoy);
        benchmark::DoNotOptimize(out.data());
        benchmark::DoNotOptimize(decoy.data());
    }
}

void encrypt_for_recipient_ours(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto out = bench::must(envelope::encrypt_for_recipient(f.alice, f.bob.x25519_public(), f.padded), "encrypt");
        benchmark::DoNotOptimize(out->data());
    }
}

void decoy_pro_sig_ours(benchmark::State& state) {
    for (auto _ : state) {
        auto sig = envelope::decoy_pro_sig();
        benchmark::DoNotOptimize(sig.data());
    }
}

void decoy_pro_sig_primitive(benchmark::State& state) {
    std::array<std::uint8_t, 32> r{};
    std::array<std::uint8_t, 64> sig{};
    for (auto _ : state) {
        decoy_calls(r, sig);
        benchmark::DoNotOptimize(sig.data());
    }
}

// ---- open ----

void open_ours(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto m = bench::must(envelope::open(f.bob, f.sealed), "open");
        benchmark::DoNotOptimize(m->body.data());
    }
}

// crypto_box_seal_open of `box` for `bob`, then verify of M || A || Y; `inner` keeps M || A || SIG.
void open_box_and_verify(const session::Identity& bob, const Bytes& box, Bytes& inner, Bytes& signed_msg) {
    bench::need(crypto_box_seal_open(inner.data(), box.data(), box.size(), bob.x25519_public().bytes.data(),
                                     bob.x25519_secret().reveal().data()) == 0,
                "crypto_box_seal_open");
    const std::size_t m = inner.size() - 96;
    std::copy(inner.begin(), inner.begin() + static_cast<std::ptrdiff_t>(m + 32), signed_msg.begin());
    std::copy(bob.x25519_public().bytes.begin(), bob.x25519_public().bytes.end(), signed_msg.begin() + m + 32);
    bench::need(crypto_sign_ed25519_verify_detached(inner.data() + m + 32, signed_msg.data(), signed_msg.size(),
                                                    inner.data() + m) == 0,
                "verify");
}

void open_primitive(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    Bytes inner(f.box.size() - 48), signed_msg(f.box.size() - 48 - 64 + 32);
    for (auto _ : state) {
        open_box_and_verify(f.bob, f.box, inner, signed_msg);
        benchmark::DoNotOptimize(inner.data());
    }
}

// 8,192 messages, each from its own sender: twice what open remembers, so cycling through them
// every open meets a sender it does not know.
struct NewSenders {
    static constexpr std::size_t kSenders = 8192;
    session::Identity bob = identity(0x80);
    std::vector<Bytes> sealed;  // for open
    std::vector<Bytes> boxes;   // the same messages' sealed boxes, for the primitive row
    NewSenders() {
        envelope::OutgoingMessage m;
        m.body.assign(100, 'x');
        m.timestamp_ms = kTimestamp;
        const auto content = envelope::build_content(m);
        const auto padded = envelope::pad(content.encode());
        for (std::size_t i = 0; i < kSenders; ++i) {
            std::array<std::uint8_t, 16> b{};
            for (std::size_t k = 0; k < 8; ++k) b[k] = static_cast<std::uint8_t>(i >> (8 * k));
            b[15] = 0x5e;
            auto from = session::Identity::from_seed(session::mnemonic::Seed(std::span<const std::uint8_t, 16>(b)));
            sealed.push_back(*bench::must(envelope::seal(from, bob.session_id(), content, kTimestamp), "seal"));
            boxes.push_back(*bench::must(envelope::encrypt_for_recipient(from, bob.x25519_public(), padded), "encrypt"));
        }
    }
};

NewSenders& new_senders() {
    static NewSenders s;
    return s;
}

void open_new_sender_ours(benchmark::State& state) {
    auto& f = new_senders();
    // Kept across runs (Google Benchmark calls this several times): restarting at sender 0 would
    // meet senders the previous run just made open remember.
    static std::size_t i = 0;
    for (auto _ : state) {
        auto m = bench::must(envelope::open(f.bob, f.sealed[i++ % f.sealed.size()]), "open");
        benchmark::DoNotOptimize(m->body.data());
    }
}

void open_new_sender_primitive(benchmark::State& state) {
    auto& f = new_senders();
    const std::size_t box = f.boxes.front().size();
    Bytes inner(box - 48), signed_msg(box - 48 - 64 + 32);
    std::array<std::uint8_t, 32> x{};
    static std::size_t i = 0;
    for (auto _ : state) {
        open_box_and_verify(f.bob, f.boxes[i++ % f.boxes.size()], inner, signed_msg);
        bench::need(crypto_sign_ed25519_pk_to_curve25519(x.data(), inner.data() + inner.size() - 96) == 0, "pk2c");
        benchmark::DoNotOptimize(x.data());
    }
}

void decrypt_incoming_ours(benchmark::State& state) {
    auto& f = fixture(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto d = bench::must(envelope::decrypt_incoming(f.bob, f.box), "decrypt_incoming");
        benchmark::DoNotOptimize(d->plaintext.data());
    }
}

void to_x25519_ours(benchmark::State& state) {
    auto& f = fixture(100);
    for (auto _ : state) {
        auto x = bench::must(session::to_x25519(f.alice.ed25519_public()), "to_x25519");
        benchmark::DoNotOptimize(x->bytes.data());
    }
}

void to_x25519_primitive(benchmark::State& state) {
    auto& f = fixture(100);
    std::array<std::uint8_t, 32> x{};
    for (auto _ : state) {
        bench::need(crypto_sign_ed25519_pk_to_curve25519(x.data(), f.alice.ed25519_public().bytes.data()) == 0, "pk2c");
        benchmark::DoNotOptimize(x.data());
    }
}

}  // namespace

BENCHMARK(seal_ours)->Name("seal/ours")->Arg(100)->Arg(2000);
BENCHMARK(seal_primitive)->Name("seal/primitive")->Arg(100)->Arg(2000);
BENCHMARK(open_ours)->Name("open/ours")->Arg(100)->Arg(2000);
BENCHMARK(open_primitive)->Name("open/primitive")->Arg(100)->Arg(2000);
BENCHMARK(open_new_sender_ours)->Name("open_new_sender/ours")->Arg(100);
BENCHMARK(open_new_sender_primitive)->Name("open_new_sender/primitive")->Arg(100);
BENCHMARK(encrypt_for_recipient_ours)->Name("encrypt_for_recipient/ours")->Arg(100)->Arg(2000);
BENCHMARK(sign_and_box_primitive)->Name("encrypt_for_recipient/primitive")->Arg(100)->Arg(2000);
BENCHMARK(decrypt_incoming_ours)->Name("decrypt_incoming/ours")->Arg(100)->Arg(2000);
BENCHMARK(open_primitive)->Name("decrypt_incoming/primitive")->Arg(100)->Arg(2000);
BENCHMARK(decoy_pro_sig_ours)->Name("decoy_pro_sig/ours");
BENCHMARK(decoy_pro_sig_primitive)->Name("decoy_pro_sig/primitive");
BENCHMARK(to_x25519_ours)->Name("to_x25519/ours");
BENCHMARK(to_x25519_primitive)->Name("to_x25519/primitive");

int main(int argc, char** argv) { return bench::main(argc, argv); }
