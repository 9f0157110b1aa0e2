// crypto_cpu_shim.cpp: how much CPU the client's own libsodium calls take inside a benchmark run.
//
// An LD_PRELOAD module, not a benchmark: it stands in front of the libsodium calls that seal a
// message and build an onion request, times each with the calling thread's CPU clock, and at exit
// prints what the client's threads spent in them to standard error:
//
//   LD_PRELOAD=$PWD/build-bench/bench/libbench_crypto_cpu_shim.so build-bench/bench/bench_e2e
//       --benchmark_filter='^e2e_broadcast_unchecked/'
//
// Counted: the process's main thread and the threads named "session-pool" or "session-io" (the
// client's executor and I/O threads); the in-process local network's threads are not counted.
// Calls that libsodium makes to itself are not seen (only calls through the PLT are): each wrapped
// call is timed whole, what it calls inside included. docs/performance.md compares the sum per
// message with the same calls timed in bench_envelope's seal, to tell the crypto's share of the
// client's CPU in a run from the rest of the client's work.
#include <dlfcn.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace {

enum Fn : unsigned {
    box_seal,
    sign_detached,
    decoy_point,
    x25519,
    x25519_base,
    aead_encrypt,
    aead_encrypt_detached,
    aead_decrypt,
    aead_decrypt_detached,
    fn_count
};
constexpr const char* kNames[fn_count] = {
    "crypto_box_seal",
    "crypto_sign_ed25519_detached",
    "crypto_scalarmult_ed25519_base_noclamp",
    "crypto_scalarmult",
    "crypto_scalarmult_base",
    "crypto_aead_xchacha20poly1305_ietf_encrypt",
    "crypto_aead_xchacha20poly1305_ietf_encrypt_detached",
    "crypto_aead_xchacha20poly1305_ietf_decrypt",
    "crypto_aead_xchacha20poly1305_ietf_decrypt_detached",
};

struct Tally {
    std::atomic<long long> calls{0};
    std::atomic<long long> cpu_ns{0};
};
Tally g_tally[fn_count];

long long thread_cpu_ns() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec;
}

// Whether the calling thread is one of the client's (looked up once per thread).
bool client_thread() {
    thread_local const bool mine = [] {
        if (syscall(SYS_gettid) == getpid()) return true;
        char name[16] = {};
        if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return false;
        return std::strcmp(name, "session-pool") == 0 || std::strcmp(name, "session-io") == 0;
    }();
    return mine;
}

template <class F>
F next_symbol(Fn fn) {
    return reinterpret_cast<F>(dlsym(RTLD_NEXT, kNames[fn]));
}

// Calls libsodium's `fn` with `args`, timed when the calling thread is the client's and the call
// is not made from inside another timed one (one libsodium function calling another through the
// PLT: the outer call's time holds the inner's).
template <class F, class... A>
int timed(Fn fn, A... args) {
    static const auto real = next_symbol<F>(fn);
    thread_local int depth = 0;
    if (depth > 0 || !client_thread()) return real(args...);
    ++depth;
    const long long t0 = thread_cpu_ns();
    const int r = real(args...);
    g_tally[fn].cpu_ns += thread_cpu_ns() - t0;
    --depth;
    ++g_tally[fn].calls;
    return r;
}

using uc = unsigned char;
using ull = unsigned long long;

__attribute__((destructor)) void report() {
    long long total = 0;
    for (unsigned i = 0; i < fn_count; ++i) {
        const long long n = g_tally[i].calls, ns = g_tally[i].cpu_ns;
        if (n == 0) continue;
        total += ns;
        std::fprintf(stderr, "crypto_cpu_shim: %-52s %9lld calls %9.1f us each %8.3f s\n", kNames[i], n,
                     static_cast<double>(ns) / 1e3 / static_cast<double>(n), static_cast<double>(ns) / 1e9);
    }
    std::fprintf(stderr, "crypto_cpu_shim: client threads' CPU in these calls: %.3f s\n", static_cast<double>(total) / 1e9);
}

}  // namespace

extern "C" {

int crypto_box_seal(uc* c, const uc* m, ull mlen, const uc* pk) {
    return timed<decltype(&crypto_box_seal)>(box_seal, c, m, mlen, pk);
}
int crypto_sign_ed25519_detached(uc* sig, ull* siglen, const uc* m, ull mlen, const uc* sk) {
    return timed<decltype(&crypto_sign_ed25519_detached)>(sign_detached, sig, siglen, m, mlen, sk);
}
int crypto_scalarmult_ed25519_base_noclamp(uc* q, const uc* n) {
    return timed<decltype(&crypto_scalarmult_ed25519_base_noclamp)>(decoy_point, q, n);
}
int crypto_scalarmult(uc* q, const uc* n, const uc* p) { return timed<decltype(&crypto_scalarmult)>(x25519, q, n, p); }
int crypto_scalarmult_base(uc* q, const uc* n) { return timed<decltype(&crypto_scalarmult_base)>(x25519_base, q, n); }
int crypto_aead_xchacha20poly1305_ietf_encrypt(uc* c, ull* clen, const uc* m, ull mlen, const uc* ad, ull adlen,
                                               const uc* nsec, const uc* npub, const uc* k) {
    return timed<decltype(&crypto_aead_xchacha20poly1305_ietf_encrypt)>(aead_encrypt, c, clen, m, mlen, ad, adlen, nsec,
                                                                          npub, k);
}
int crypto_aead_xchacha20poly1305_ietf_encrypt_detached(uc* c, uc* mac, ull* maclen, const uc* m, ull mlen, const uc* ad,
                                                        ull adlen, const uc* nsec, const uc* npub, const uc* k) {
    return timed<decltype(&crypto_aead_xchacha20poly1305_ietf_encrypt_detached)>(aead_encrypt_detached, c, mac, maclen, m,
                                                                                   mlen, ad, adlen, nsec, npub, k);
}
int crypto_aead_xchacha20poly1305_ietf_decrypt(uc* m, ull* mlen, uc* nsec, const uc* c, ull clen, const uc* ad, ull adlen,
                                               const uc* npub, const uc* k) {
    return timed<decltype(&crypto_aead_xchacha20poly1305_ietf_decrypt)>(aead_decrypt, m, mlen, nsec, c, clen, ad, adlen,
                                                                          npub, k);
}
int crypto_aead_xchacha20poly1305_ietf_decrypt_detached(uc* m, uc* nsec, const uc* c, ull clen, const uc* mac,
                                                        const uc* ad, ull adlen, const uc* npub, const uc* k) {
    return timed<decltype(&crypto_aead_xchacha20poly1305_ietf_decrypt_detached)>(aead_decrypt_detached, m, nsec, c, clen,
                                                                                   mac, ad, adlen, npub, k);
}

}  // extern "C"
