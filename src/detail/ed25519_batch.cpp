// ed25519_batch.cpp: see ed25519_batch.hpp.
//
// Field elements mod p = 2^255 - 19 in five 51-bit limbs; points on the twisted Edwards curve
// -x^2 + y^2 = 1 + d x^2 y^2 in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, with the
// formulas of Hisil, Wong, Carter and Dawson (2008) for a = -1; RFC 8032 §5.1 for the encoding.
#include "detail/ed25519_batch.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "detail/crypto.hpp"

namespace session::detail {

namespace {

using u64 = std::uint64_t;
using u128 = unsigned __int128;
constexpr u64 kMask = (u64{1} << 51) - 1;

struct Fe {
    u64 v[5];
};

constexpr Fe fe_small(u64 x) { return Fe{{x, 0, 0, 0, 0}}; }

// Limbs back under 2^51 (the top carry folds into the bottom as 19·carry).
void carry(Fe& h) {
    for (int k = 0; k < 4; ++k) {
        h.v[k + 1] += h.v[k] >> 51;
        h.v[k] &= kMask;
    }
    const u64 c = h.v[4] >> 51;
    h.v[4] &= kMask;
    h.v[0] += 19 * c;
}

// Not carried: every sum here is of two values out of mul, sq, sub or from_bytes (limbs under
// 2^51 + 2^15), or of such a sum and one of them, so limbs stay under 2^53: mul and sq take limbs
// up to 2^54, and sub takes them as its subtrahend.
Fe add(const Fe& a, const Fe& b) {
    Fe h;
    for (int k = 0; k < 5; ++k) h.v[k] = a.v[k] + b.v[k];
    return h;
}

// a - b + 4p, so no limb goes below zero for inputs with limbs under 2^53.
Fe sub(const Fe& a, const Fe& b) {
    Fe h;
    h.v[0] = a.v[0] + 0x1FFFFFFFFFFFB4 - b.v[0];
    for (int k = 1; k < 5; ++k) h.v[k] = a.v[k] + 0x1FFFFFFFFFFFFC - b.v[k];
    carry(h);
    return h;
}

Fe neg(const Fe& a) { return sub(fe_small(0), a); }

// The five 128-bit column sums of a product back to limbs under 2^51 (limb 1 under 2^51 + 2^15).
Fe reduce(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    Fe h;
    r1 += static_cast<u64>(r0 >> 51);
    h.v[0] = static_cast<u64>(r0) & kMask;
    r2 += static_cast<u64>(r1 >> 51);
    h.v[1] = static_cast<u64>(r1) & kMask;
    r3 += static_cast<u64>(r2 >> 51);
    h.v[2] = static_cast<u64>(r2) & kMask;
    r4 += static_cast<u64>(r3 >> 51);
    h.v[3] = static_cast<u64>(r3) & kMask;
    const u64 c = static_cast<u64>(r4 >> 51);
    h.v[4] = static_cast<u64>(r4) & kMask;
    const u128 t = u128(h.v[0]) + u128(c) * 19;
    h.v[0] = static_cast<u64>(t) & kMask;
    h.v[1] += static_cast<u64>(t >> 51);
    return h;
}

Fe mul(const Fe& a, const Fe& b) {
    const u64 a0 = a.v[0], a1 = a.v[1], a2 = a.v[2], a3 = a.v[3], a4 = a.v[4];
    const u64 b0 = b.v[0], b1 = b.v[1], b2 = b.v[2], b3 = b.v[3], b4 = b.v[4];
    const u64 b1_19 = 19 * b1, b2_19 = 19 * b2, b3_19 = 19 * b3, b4_19 = 19 * b4;
    u128 r0 = u128(a0) * b0 + u128(a1) * b4_19 + u128(a2) * b3_19 + u128(a3) * b2_19 + u128(a4) * b1_19;
    u128 r1 = u128(a0) * b1 + u128(a1) * b0 + u128(a2) * b4_19 + u128(a3) * b3_19 + u128(a4) * b2_19;
    u128 r2 = u128(a0) * b2 + u128(a1) * b1 + u128(a2) * b0 + u128(a3) * b4_19 + u128(a4) * b3_19;
    u128 r3 = u128(a0) * b3 + u128(a1) * b2 + u128(a2) * b1 + u128(a3) * b0 + u128(a4) * b4_19;
    u128 r4 = u128(a0) * b4 + u128(a1) * b3 + u128(a2) * b2 + u128(a3) * b1 + u128(a4) * b0;
    return reduce(r0, r1, r2, r3, r4);
}

// mul(a, a) with the symmetric products taken once: 15 multiplications instead of 25.
Fe sq(const Fe& a) {
    const u64 a0 = a.v[0], a1 = a.v[1], a2 = a.v[2], a3 = a.v[3], a4 = a.v[4];
    const u64 a0_2 = 2 * a0, a1_2 = 2 * a1, a2_2 = 2 * a2, a3_2 = 2 * a3, a3_19 = 19 * a3, a4_19 = 19 * a4;
    u128 r0 = u128(a0) * a0 + u128(a1_2) * a4_19 + u128(a2_2) * a3_19;
    u128 r1 = u128(a0_2) * a1 + u128(a2_2) * a4_19 + u128(a3) * a3_19;
    u128 r2 = u128(a0_2) * a2 + u128(a1) * a1 + u128(a3_2) * a4_19;
    u128 r3 = u128(a0_2) * a3 + u128(a1_2) * a2 + u128(a4) * a4_19;
    u128 r4 = u128(a0_2) * a4 + u128(a1_2) * a3 + u128(a2) * a2;
    return reduce(r0, r1, r2, r3, r4);
}

Fe sq_n(Fe a, int n) {
    while (n-- > 0) a = sq(a);
    return a;
}

u64 load64(const std::uint8_t* p) {
    u64 x = 0;
    for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
    return x;
}

// The low 255 bits of 32 little-endian bytes (the top bit, x's sign in a point, is left out).
Fe from_bytes(const std::uint8_t* s) {
    Fe h;
    h.v[0] = load64(s) & kMask;
    h.v[1] = (load64(s + 6) >> 3) & kMask;
    h.v[2] = (load64(s + 12) >> 6) & kMask;
    h.v[3] = (load64(s + 19) >> 1) & kMask;
    h.v[4] = (load64(s + 24) >> 12) & kMask;
    return h;
}

// The canonical encoding (the value reduced below p).
std::array<std::uint8_t, 32> to_bytes(Fe h) {
    carry(h);
    carry(h);
    u64 q = (h.v[0] + 19) >> 51;
    for (int k = 1; k < 5; ++k) q = (h.v[k] + q) >> 51;
    h.v[0] += 19 * q;
    for (int k = 0; k < 4; ++k) {
        h.v[k + 1] += h.v[k] >> 51;
        h.v[k] &= kMask;
    }
    h.v[4] &= kMask;
    const u64 w[4] = {h.v[0] | (h.v[1] << 51), (h.v[1] >> 13) | (h.v[2] << 38), (h.v[2] >> 26) | (h.v[3] << 25),
                      (h.v[3] >> 39) | (h.v[4] << 12)};
    std::array<std::uint8_t, 32> out{};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 8; ++j) out[8 * i + j] = static_cast<std::uint8_t>(w[i] >> (8 * j));
    return out;
}

bool is_zero(const Fe& a) {
    const auto b = to_bytes(a);
    std::uint8_t acc = 0;
    for (auto x : b) acc |= x;
    return acc == 0;
}
bool equal(const Fe& a, const Fe& b) { return to_bytes(a) == to_bytes(b); }
bool is_negative(const Fe& a) { return (to_bytes(a)[0] & 1) != 0; }

// z^(2^250 - 1) and z^11, the common part of the inversion and of the square root's power.
void pow_2_250_1(const Fe& z, Fe& z2_250_0, Fe& z11) {
    const Fe z2 = sq(z);
    const Fe z9 = mul(sq_n(z2, 2), z);
    z11 = mul(z9, z2);
    const Fe z2_5_0 = mul(sq(z11), z9);
    const Fe z2_10_0 = mul(sq_n(z2_5_0, 5), z2_5_0);
    const Fe z2_20_0 = mul(sq_n(z2_10_0, 10), z2_10_0);
    const Fe z2_40_0 = mul(sq_n(z2_20_0, 20), z2_20_0);
    const Fe z2_50_0 = mul(sq_n(z2_40_0, 10), z2_10_0);
    const Fe z2_100_0 = mul(sq_n(z2_50_0, 50), z2_50_0);
    const Fe z2_200_0 = mul(sq_n(z2_100_0, 100), z2_100_0);
    z2_250_0 = mul(sq_n(z2_200_0, 50), z2_50_0);
}

Fe invert(const Fe& z) {  // z^(p - 2) = z^(2^255 - 21)
    Fe t, z11;
    pow_2_250_1(z, t, z11);
    return mul(sq_n(t, 5), z11);
}

Fe pow22523(const Fe& z) {  // z^((p - 5) / 8) = z^(2^252 - 3)
    Fe t, z11;
    pow_2_250_1(z, t, z11);
    return mul(sq_n(t, 2), z);
}

struct Constants {
    Fe d, d2, sqrtm1;
};

const Constants& constants() {
    static const Constants c = [] {
        Constants k;
        k.d = mul(neg(fe_small(121665)), invert(fe_small(121666)));  // d = -121665/121666
        k.d2 = add(k.d, k.d);
        // sqrt(-1) = 2^((p - 1) / 4): 2^(2^253 - 5) = (2^(2^252 - 3))^2 · 2
        k.sqrtm1 = mul(sq(pow22523(fe_small(2))), fe_small(2));
        return k;
    }();
    return c;
}

struct Point {  // extended coordinates
    Fe X, Y, Z, T;
};
struct Cached {  // a point ready to be added: Y + X, Y - X, Z, 2d·T
    Fe YpX, YmX, Z, T2d;
};

Point identity() { return Point{fe_small(0), fe_small(1), fe_small(1), fe_small(0)}; }

Point negate(const Point& p) { return Point{neg(p.X), p.Y, p.Z, neg(p.T)}; }

Cached to_cached(const Point& p) { return Cached{add(p.Y, p.X), sub(p.Y, p.X), p.Z, mul(p.T, constants().d2)}; }

Point finish(const Fe& E, const Fe& F, const Fe& G, const Fe& H) {
    return Point{mul(E, F), mul(G, H), mul(F, G), mul(E, H)};
}

// p + q, or p - q when `minus`: -q has Y + X and Y - X swapped and T negated.
Point add(const Point& p, const Cached& q, bool minus = false) {
    const Fe A = mul(sub(p.Y, p.X), minus ? q.YpX : q.YmX);
    const Fe B = mul(add(p.Y, p.X), minus ? q.YmX : q.YpX);
    const Fe C = mul(p.T, q.T2d);
    const Fe ZZ = mul(p.Z, q.Z);
    const Fe D = add(ZZ, ZZ);
    const Fe low = sub(D, C), high = add(D, C);
    return minus ? finish(sub(B, A), high, low, add(B, A)) : finish(sub(B, A), low, high, add(B, A));
}

Point dbl(const Point& p) {  // dbl-2008-hwcd with a = -1
    const Fe A = sq(p.X);
    const Fe B = sq(p.Y);
    const Fe Z2 = sq(p.Z);
    const Fe C = add(Z2, Z2);
    const Fe E = sub(sub(sq(add(p.X, p.Y)), A), B);
    const Fe G = sub(B, A);
    const Fe F = sub(G, C);
    const Fe H = neg(add(A, B));
    return finish(E, F, G, H);
}

bool is_identity(const Point& p) { return is_zero(p.X) && equal(p.Y, p.Z); }

bool small_order(const Point& p) { return is_identity(dbl(dbl(dbl(p)))); }

// RFC 8032 §5.1.3, stricter than needed: y must be canonical (below p), and x = 0 with the sign bit
// set is refused. Either makes libsodium's check fail as well, or is left to it.
bool decompress(const std::uint8_t* s, Point& out) {
    const auto& k = constants();
    const Fe y = from_bytes(s);
    std::array<std::uint8_t, 32> masked{};
    std::memcpy(masked.data(), s, 32);
    masked[31] &= 0x7f;
    if (to_bytes(y) != masked) return false;
    const bool sign = (s[31] >> 7) != 0;
    const Fe y2 = sq(y);
    const Fe u = sub(y2, fe_small(1));
    const Fe v = add(mul(k.d, y2), fe_small(1));
    const Fe v3 = mul(sq(v), v);
    const Fe v7 = mul(sq(v3), v);
    Fe x = mul(mul(u, v3), pow22523(mul(u, v7)));
    const Fe vx2 = mul(v, sq(x));
    if (!equal(vx2, u)) {
        if (!equal(vx2, neg(u))) return false;
        x = mul(x, k.sqrtm1);
    }
    if (is_zero(x) && sign) return false;
    if (is_negative(x) != sign) x = neg(x);
    out = Point{x, y, fe_small(1), mul(x, y)};
    return true;
}

// Signed odd digits in [-limit, limit], at most one non-zero in any window (ref10's "slide").
// The scalar must be below 2^255.
void slide(std::int8_t r[256], const std::uint8_t a[32], int limit, int reach) {
    for (int i = 0; i < 256; ++i) r[i] = static_cast<std::int8_t>(1 & (a[i >> 3] >> (i & 7)));
    for (int i = 0; i < 256; ++i) {
        if (!r[i]) continue;
        for (int b = 1; b <= reach && i + b < 256; ++b) {
            if (!r[i + b]) continue;
            const int up = r[i + b] * (1 << b);
            if (r[i] + up <= limit) {
                r[i] = static_cast<std::int8_t>(r[i] + up);
                r[i + b] = 0;
            } else if (r[i] - up >= -limit) {
                r[i] = static_cast<std::int8_t>(r[i] - up);
                for (int k = i + b; k < 256; ++k) {
                    if (!r[k]) {
                        r[k] = 1;
                        break;
                    }
                    r[k] = 0;
                }
            } else {
                break;
            }
        }
    }
}

// The odd multiples P, 3P, 5P, ... (count of them).
std::vector<Cached> odd_multiples(const Point& p, std::size_t count) {
    std::vector<Cached> t;
    t.reserve(count);
    t.push_back(to_cached(p));
    const Cached twice = to_cached(dbl(p));
    Point cur = p;
    while (t.size() < count) {
        cur = add(cur, twice);
        t.push_back(to_cached(cur));
    }
    return t;
}

// Window widths: 32 odd multiples (digits up to 63) for B and the keys, whose tables are kept; 8
// (up to 15) for each R, whose table serves one 128-bit weight.
constexpr std::size_t kWideEntries = 32;
constexpr int kWideLimit = 63, kWideReach = 8;
constexpr std::size_t kNarrowEntries = 8;
constexpr int kNarrowLimit = 15, kNarrowReach = 6;

struct Term {
    const Cached* table;
    std::int8_t digits[256];
};

Point multi_scalar(const std::vector<Term>& terms) {
    int top = 255;
    auto any = [&](int i) {
        for (const auto& t : terms)
            if (t.digits[i]) return true;
        return false;
    };
    while (top >= 0 && !any(top)) --top;
    Point acc = identity();
    for (int i = top; i >= 0; --i) {
        acc = dbl(acc);
        for (const auto& t : terms) {
            const int d = t.digits[i];
            if (d > 0) acc = add(acc, t.table[d / 2]);
            else if (d < 0) acc = add(acc, t.table[(-d) / 2], true);
        }
    }
    return acc;
}

constexpr std::uint8_t kOrder[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                     0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                     0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

bool below_order(const std::uint8_t* s) {  // s < ℓ, both little-endian
    for (int i = 31; i >= 0; --i) {
        if (s[i] < kOrder[i]) return true;
        if (s[i] > kOrder[i]) return false;
    }
    return false;
}

const std::vector<Cached>& base_table() {
    static const std::vector<Cached> t = [] {
        // B: y = 4/5, x even (RFC 8032 §5.1).
        std::uint8_t b[32];
        b[0] = 0x58;
        std::memset(b + 1, 0x66, 31);
        Point p;
        if (!decompress(b, p)) std::abort();  // a constant: never
        return odd_multiples(p, kWideEntries);
    }();
    return t;
}

// -A's table for a key that is a canonical point of the prime-order subgroup other than the
// identity, or null. Kept for the keys seen (swarm members come back with every store).
class KeyTables {
public:
    std::shared_ptr<const std::vector<Cached>> get(const std::uint8_t* key) {
        ByteArray<32> k;
        std::memcpy(k.data(), key, 32);
        {
            std::lock_guard lock(m_);
            if (auto it = known_.find(k); it != known_.end()) return it->second;
        }
        auto made = make(key);
        std::lock_guard lock(m_);
        if (known_.size() >= kMaxKeys) known_.clear();
        known_.emplace(k, made);
        return made;
    }

private:
    static constexpr std::size_t kMaxKeys = 256;
    static std::shared_ptr<const std::vector<Cached>> make(const std::uint8_t* key) {
        Point a;
        if (!decompress(key, a) || small_order(a)) return nullptr;
        auto table = odd_multiples(negate(a), kWideEntries);
        // In the prime-order subgroup: [ℓ](-A) is the identity.
        std::vector<Term> check(1);
        check[0].table = table.data();
        slide(check[0].digits, kOrder, kWideLimit, kWideReach);
        if (!is_identity(multi_scalar(check))) return nullptr;
        return std::make_shared<const std::vector<Cached>>(std::move(table));
    }
    std::mutex m_;
    std::map<ByteArray<32>, std::shared_ptr<const std::vector<Cached>>> known_;
};

KeyTables& key_tables() {
    static KeyTables k;
    return k;
}

}  // namespace

bool verify_batch(std::span<const SignatureToCheck> items) {
    if (items.empty()) return true;
    sodium_ready();
    for (const auto& it : items)
        if (it.public_key.size() != crypto_sign_PUBLICKEYBYTES || it.signature.size() != crypto_sign_BYTES) return false;

    // One term per key: a store answer's members sign every message of a batch, so Σ z_i·h_i is
    // summed per key and each key's table is used once.
    struct KeyTerm {
        const std::uint8_t* key;
        std::shared_ptr<const std::vector<Cached>> table;
        std::uint8_t scalar[32];
    };
    std::vector<KeyTerm> keys;
    const std::size_t n = items.size();
    std::vector<std::vector<Cached>> r_tables(n);
    std::vector<Term> terms;
    terms.reserve(2 * n + 1);
    std::uint8_t sum[32] = {0};  // Σ z_i·s_i mod ℓ
    // The random 128-bit weights, all in one call (one system call, not one per signature).
    std::vector<std::uint8_t> weights(16 * n);
    randombytes_buf(weights.data(), weights.size());
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* sig = items[i].signature.data();
        const std::uint8_t* key = items[i].public_key.data();
        if (!below_order(sig + 32)) return false;
        auto k = std::find_if(keys.begin(), keys.end(), [&](const KeyTerm& t) { return std::memcmp(t.key, key, 32) == 0; });
        if (k == keys.end()) {
            auto table = key_tables().get(key);
            if (!table) return false;
            keys.push_back(KeyTerm{key, std::move(table), {0}});
            k = keys.end() - 1;
        }
        Point r;
        if (!decompress(sig, r) || small_order(r)) return false;
        r_tables[i] = odd_multiples(negate(r), kNarrowEntries);

        // h_i = SHA-512(R || A || M) mod ℓ
        crypto_hash_sha512_state st;
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, sig, 32);
        crypto_hash_sha512_update(&st, key, 32);
        crypto_hash_sha512_update(&st, items[i].message.data(), items[i].message.size());
        std::uint8_t wide[64], h[32];
        crypto_hash_sha512_final(&st, wide);
        crypto_core_ed25519_scalar_reduce(h, wide);

        // A random odd 128-bit weight: an odd weight keeps one bad R's small-order part visible.
        std::uint8_t z[32] = {0};
        std::memcpy(z, weights.data() + 16 * i, 16);
        z[0] |= 1;
        std::uint8_t zh[32], zs[32];
        crypto_core_ed25519_scalar_mul(zh, z, h);
        crypto_core_ed25519_scalar_add(k->scalar, k->scalar, zh);
        crypto_core_ed25519_scalar_mul(zs, z, sig + 32);
        crypto_core_ed25519_scalar_add(sum, sum, zs);

        terms.emplace_back();
        terms.back().table = r_tables[i].data();
        slide(terms.back().digits, z, kNarrowLimit, kNarrowReach);
    }
    for (const auto& k : keys) {
        terms.emplace_back();
        terms.back().table = k.table->data();
        slide(terms.back().digits, k.scalar, kWideLimit, kWideReach);
    }
    terms.emplace_back();
    terms.back().table = base_table().data();
    slide(terms.back().digits, sum, kWideLimit, kWideReach);
    // [Σ z·s]B + Σ [z](-R) + Σ [z·h](-A) is the identity when every signature holds.
    return is_identity(multi_scalar(terms));
}

}  // namespace session::detail
