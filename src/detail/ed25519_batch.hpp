#pragma once
// ed25519_batch.hpp: many Ed25519 signatures checked in one equation.
//
// A store answer carries one signature per swarm member (5 in a swarm of 5), and checking them one
// by one was the largest part of the client's CPU in a batched send (docs/performance.md).
// libsodium has no batch verification, so this module does the one sum itself: with random 128-bit
// odd weights z_i, it checks
//
//     [Σ z_i·s_i] B  =  Σ [z_i] R_i  +  Σ [z_i·h_i] A_i        (h_i = SHA-512(R_i || A_i || M_i) mod ℓ)
//
// in one multi-scalar multiplication: the 253 doublings are shared instead of paid per signature.
// Only public data goes in, so the arithmetic is variable-time.
//
// A "yes" means every signature verifies as libsodium's crypto_sign_verify_detached would verify it;
// a "no" means at least one may not, and the caller checks each with libsodium, which then decides.
// So a "no" costs time, never a wrong answer. Before the sum each signature must pass libsodium's
// own checks, stricter where that is simpler: s below ℓ; A and R canonical encodings of curve points
// not of small order; A in the prime-order subgroup (checked once per key and kept with its table).
//
// The one difference from checking each alone: a signature whose R has a small-order component
// passes alone with libsodium never, and in a batch never when it is the only such one (the weights
// are odd); two or more such signatures, which only the owners of their keys can make, may cancel
// out. They would still be their keys' owners' signatures over the same messages.
#include <cstddef>
#include <span>

#include "session/bytes.hpp"

namespace session::detail {

/// One signature to check: a 32-byte Ed25519 public key, the message, the 64-byte signature.
struct SignatureToCheck {
    ByteView public_key;
    ByteView message;
    ByteView signature;
};

/// True when every signature in `items` verifies (see above); false when any of them may not, or a
/// key or signature has the wrong size. An empty batch is true.
[[nodiscard]] bool verify_batch(std::span<const SignatureToCheck> items);

}  // namespace session::detail
