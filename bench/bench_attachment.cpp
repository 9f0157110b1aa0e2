// bench_attachment.cpp: encrypting and decrypting an attachment, each scheme beside the bare
// OpenSSL / libsodium calls it makes on the same bytes (issue 12: ratio target <= 1.1x).
//   encrypt_cbc_hmac/<n>: Encryptor::cbc_hmac (fixed key and IV) fed the file in 64 KiB pieces
//                         (how a file is read from disk), beside AES-256-CBC over P and desktop's zero
//                         padding, HMAC-SHA256 over IV || C and SHA-256 over the blob;
//   decrypt_cbc_hmac/<n>: attachment::decrypt (MAC and digest first, then AES-256-CBC, cut to size)
//                         beside the same three calls;
//   encrypt_stream/<n>:   attachment::encrypt_stream (BLAKE2b-56 over P, then secretstream push of the
//                         padded plaintext in 32 KiB pieces) beside the same two passes;
//   decrypt_stream/<n>:   attachment::decrypt beside secretstream pull of every piece;
//   encrypt_gcm/<n>, decrypt_gcm/<n>: the profile-picture scheme beside AES-256-GCM.
// Both sides allocate their output each iteration. n = 10,000,000 bytes (the upload limit) and
// 100,000 bytes (a photo thumbnail, where per-call overhead would show).
//
//   upload_peak_memory, download_peak_memory: a 10,000,000-byte file uploaded from disk with
//   Client::upload_attachment, and downloaded to disk with Client::download_attachment_to, through an
//   in-process local network (3-node onion path to its file server). The counters are the client's
//   heap: every operator new made while the call runs on the calling thread and on the transport's
//   I/O threads (named "session-io": they receive the replies); the local network's own threads,
//   which hold the server's copies, are not counted. peak_mb is the highest live total above the
//   start, x_file_size that peak over the file size (issue 12 target: <= 2).
// bench-requires: attachment client localnet
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <vector>

#include "bench_common.hpp"
#include "localnet/localnet.hpp"
#include "session/attachment.hpp"
#include "session/client.hpp"

// ---- heap accounting for the peak-memory benchmarks ---------------------------------------------
// Every operator new carries a 16-byte header (its size, and whether the allocating thread was being
// measured), so a delete on any thread subtracts exactly what a measured new added.
namespace heap {
thread_local bool measuring = false;
// A measurement is running: the transport's I/O threads' allocations count too.
std::atomic<bool> active{false};
// Whether this thread is one of the transport's I/O threads (they name themselves first thing).
bool io_thread() {
    thread_local int known = -1;
    if (known < 0) {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        known = std::strcmp(name, "session-io") == 0 ? 1 : 0;
    }
    return known == 1;
}
std::atomic<std::int64_t> live{0};
std::atomic<std::int64_t> peak{0};
constexpr std::uint64_t kMeasured = 0x6d656173757265ULL;
constexpr std::size_t kHeader = 16;

void* allocate(std::size_t n) {
    auto* p = static_cast<unsigned char*>(std::malloc(n + kHeader));
    if (!p) throw std::bad_alloc();
    auto* h = reinterpret_cast<std::uint64_t*>(p);
    h[0] = n;
    const bool counted = measuring || (active.load(std::memory_order_relaxed) && io_thread());
    h[1] = counted ? kMeasured : 0;
    if (counted) {
        const auto now = live.fetch_add(static_cast<std::int64_t>(n)) + static_cast<std::int64_t>(n);
        auto old = peak.load();
        while (now > old && !peak.compare_exchange_weak(old, now)) {
        }
    }
    return p + kHeader;
}
void release(void* q) noexcept {
    if (!q) return;
    auto* p = static_cast<unsigned char*>(q) - kHeader;
    auto* h = reinterpret_cast<std::uint64_t*>(p);
    if (h[1] == kMeasured) live.fetch_sub(static_cast<std::int64_t>(h[0]));
    std::free(p);
}
}  // namespace heap

void* operator new(std::size_t n) { return heap::allocate(n); }
void* operator new[](std::size_t n) { return heap::allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return heap::allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return heap::allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { heap::release(p); }
void operator delete[](void* p) noexcept { heap::release(p); }
void operator delete(void* p, std::size_t) noexcept { heap::release(p); }
void operator delete[](void* p, std::size_t) noexcept { heap::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { heap::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { heap::release(p); }

namespace {
namespace att = session::attachment;
using session::Bytes;
using session::ByteView;

constexpr std::size_t kPiece = 64 * 1024;
constexpr std::size_t kChunk = att::kStreamChunkBytes;
constexpr std::size_t kOverhead = att::kStreamChunkOverhead;

template <std::size_t N>
session::Secret<N> secret(std::uint8_t salt) {
    const Bytes b = bench::pattern(N, salt);
    return session::Secret<N>(std::span<const std::uint8_t, N>(b.data(), N));
}

struct Fixture {
    Bytes plain;
    session::Secret<64> cbc_key = secret<64>(1);
    std::array<std::uint8_t, 16> iv{};
    session::Secret<32> seed = secret<32>(2);
    session::Secret<32> gcm_key = secret<32>(3);
    std::array<std::uint8_t, 12> gcm_iv{};
    Bytes cbc_blob, stream_blob, gcm_blob;
    Bytes cbc_key_bytes, stream_key, gcm_key_bytes;
    session::ByteArray<32> digest{};
    explicit Fixture(std::size_t n) : plain(bench::pattern(n, 7)) {
        iv.fill(0x11);
        gcm_iv.fill(0x22);
        auto enc = bench::must(att::Encryptor::cbc_hmac(cbc_key, iv, n), "cbc_hmac");
        bench::need(static_cast<bool>(enc->update(plain, cbc_blob)), "update");
        auto sealed = bench::must(enc->finish(cbc_blob), "finish");
        digest = *sealed->digest;
        cbc_key_bytes.assign(sealed->key.bytes().begin(), sealed->key.bytes().end());
        auto st = bench::must(att::encrypt_stream(seed, att::Domain::attachment, plain), "stream");
        stream_blob = st->blob;
        stream_key.assign(st->sealed.key.bytes().begin(), st->sealed.key.bytes().end());
        auto g = bench::must(att::Encryptor::gcm(gcm_key, gcm_iv, n), "gcm");
        bench::need(static_cast<bool>(g->update(plain, gcm_blob)), "update");
        bench::must(g->finish(gcm_blob), "finish");
        gcm_key_bytes.assign(gcm_key.reveal().begin(), gcm_key.reveal().end());
    }
};

Fixture& fixture(std::int64_t n) {
    static Fixture small(100'000), large(10'000'000);
    return n <= 100'000 ? small : large;
}

// ---- the bare primitives ---------------------------------------------------------------------

struct Evp {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* m = EVP_MAC_CTX_new(mac);
    EVP_MD_CTX* d = EVP_MD_CTX_new();
    ~Evp() {
        EVP_CIPHER_CTX_free(c);
        EVP_MAC_CTX_free(m);
        EVP_MAC_free(mac);
        EVP_MD_CTX_free(d);
    }
};

void hmac_init(Evp& e, const std::uint8_t* key) {
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    bench::need(EVP_MAC_init(e.m, key, 32, params) == 1, "EVP_MAC_init");
}

// blob = IV || AES-256-CBC(P || zeros) || HMAC(IV || C); digest = SHA-256(blob).
Bytes cbc_encrypt_primitive(const Fixture& f) {
    Evp e;
    const std::size_t padded = att::padded_size(f.plain.size());
    Bytes out(16 + (padded / 16 + 1) * 16 + 32);
    const auto k = f.cbc_key.reveal();
    std::copy(f.iv.begin(), f.iv.end(), out.begin());
    bench::need(EVP_EncryptInit_ex(e.c, EVP_aes_256_cbc(), nullptr, k.data(), f.iv.data()) == 1, "init");
    int len = 0, total = 16;
    bench::need(EVP_EncryptUpdate(e.c, out.data() + total, &len, f.plain.data(), static_cast<int>(f.plain.size())) == 1, "update");
    total += len;
    static const Bytes zeros(1 << 20, 0);
    if (padded > f.plain.size()) {
        bench::need(EVP_EncryptUpdate(e.c, out.data() + total, &len, zeros.data(), static_cast<int>(padded - f.plain.size())) == 1, "pad");
        total += len;
    }
    bench::need(EVP_EncryptFinal_ex(e.c, out.data() + total, &len) == 1, "final");
    total += len;
    hmac_init(e, k.data() + 32);
    std::size_t maclen = 0;
    bench::need(EVP_MAC_update(e.m, out.data(), static_cast<std::size_t>(total)) == 1 &&
                    EVP_MAC_final(e.m, out.data() + total, &maclen, 32) == 1, "hmac");
    std::array<std::uint8_t, 32> digest{};
    unsigned int dl = 0;
    bench::need(EVP_DigestInit_ex(e.d, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(e.d, out.data(), out.size()) == 1 &&
                    EVP_DigestFinal_ex(e.d, digest.data(), &dl) == 1, "sha256");
    benchmark::DoNotOptimize(digest.data());
    return out;
}

Bytes cbc_decrypt_primitive(const Fixture& f) {
    Evp e;
    const Bytes& blob = f.cbc_blob;
    const std::size_t ct_len = blob.size() - 48;
    std::array<std::uint8_t, 32> mac{}, digest{};
    std::size_t maclen = 0;
    hmac_init(e, f.cbc_key_bytes.data() + 32);
    bench::need(EVP_MAC_update(e.m, blob.data(), blob.size() - 32) == 1 && EVP_MAC_final(e.m, mac.data(), &maclen, 32) == 1, "hmac");
    bench::need(CRYPTO_memcmp(mac.data(), blob.data() + blob.size() - 32, 32) == 0, "mac");
    unsigned int dl = 0;
    bench::need(EVP_DigestInit_ex(e.d, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(e.d, blob.data(), blob.size()) == 1 &&
                    EVP_DigestFinal_ex(e.d, digest.data(), &dl) == 1, "sha256");
    bench::need(CRYPTO_memcmp(digest.data(), f.digest.data(), 32) == 0, "digest");
    Bytes out(ct_len + 16);
    int len = 0, total = 0;
    bench::need(EVP_DecryptInit_ex(e.c, EVP_aes_256_cbc(), nullptr, f.cbc_key_bytes.data(), blob.data()) == 1, "init");
    bench::need(EVP_DecryptUpdate(e.c, out.data(), &len, blob.data() + 16, static_cast<int>(ct_len)) == 1, "update");
    total = len;
    bench::need(EVP_DecryptFinal_ex(e.c, out.data() + total, &len) == 1, "final");
    out.resize(f.plain.size());
    return out;
}

// BLAKE2b-56 over P, then Q = padding || P pushed in 32 KiB pieces (only the first is assembled).
Bytes stream_encrypt_primitive(const Fixture& f) {
    const std::size_t n = f.plain.size();
    crypto_generichash_blake2b_state h;
    std::array<std::uint8_t, 56> nk{};
    static const char personal[] = "SessionAttachmnt";
    crypto_generichash_blake2b_init_salt_personal(&h, f.seed.reveal().data(), 32, nk.size(), nullptr,
                                                  reinterpret_cast<const std::uint8_t*>(personal));
    crypto_generichash_blake2b_update(&h, f.plain.data(), n);
    crypto_generichash_blake2b_final(&h, nk.data(), nk.size());
    const std::size_t pad = att::stream_padding(n);
    Bytes out(att::encrypted_size(att::Scheme::stream, n));
    out[0] = 'S';
    std::copy(nk.begin(), nk.begin() + 24, out.begin() + 1);
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_secretstream_xchacha20poly1305_init_pull(&st, nk.data(), nk.data() + 24);
    std::size_t q_total = pad + n, q_pos = 0, in = 0, o = 25;
    Bytes first(kChunk);
    while (q_pos < q_total) {
        const std::size_t len = std::min(kChunk, q_total - q_pos);
        const std::uint8_t* src;
        if (q_pos < pad) {  // a piece holding padding: build it
            const std::size_t zeros = std::min(len, pad - q_pos);
            std::fill_n(first.begin(), zeros, 0);
            if (q_pos + zeros == pad) first[zeros - 1] = 1;
            std::copy_n(f.plain.begin() + static_cast<std::ptrdiff_t>(in), len - zeros, first.begin() + static_cast<std::ptrdiff_t>(zeros));
            in += len - zeros;
            src = first.data();
        } else {
            src = f.plain.data() + in;
            in += len;
        }
        q_pos += len;
        crypto_secretstream_xchacha20poly1305_push(&st, out.data() + o, nullptr, src, len, nullptr, 0,
                                                   q_pos == q_total ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
        o += len + kOverhead;
    }
    return out;
}

// Pieces still holding padding are pulled aside; from the piece with the marker on, straight into out.
Bytes stream_decrypt_primitive(const Fixture& f) {
    const Bytes& blob = f.stream_blob;
    const std::size_t pad = att::stream_padding(f.plain.size());
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_secretstream_xchacha20poly1305_init_pull(&st, blob.data() + 1, f.stream_key.data());
    Bytes out(f.plain.size()), tmp(kChunk);
    std::size_t pos = 25, q_pos = 0, o = 0;
    unsigned char tag = 0;
    while (pos < blob.size()) {
        const std::size_t clen = std::min(kChunk + kOverhead, blob.size() - pos), plen = clen - kOverhead;
        const bool padding = q_pos < pad;
        bench::need(crypto_secretstream_xchacha20poly1305_pull(&st, padding ? tmp.data() : out.data() + o, nullptr, &tag,
                                                               blob.data() + pos, clen, nullptr, 0) == 0,
                    "pull");
        if (padding && q_pos + plen > pad) {
            std::copy(tmp.begin() + static_cast<std::ptrdiff_t>(pad - q_pos), tmp.begin() + static_cast<std::ptrdiff_t>(plen),
                      out.begin());
            o = q_pos + plen - pad;
        } else if (!padding) {
            o += plen;
        }
        q_pos += plen;
        pos += clen;
    }
    bench::need(tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL && o == f.plain.size(), "final tag");
    return out;
}

Bytes gcm_encrypt_primitive(const Fixture& f) {
    Evp e;
    Bytes out(12 + f.plain.size() + 16);
    std::copy(f.gcm_iv.begin(), f.gcm_iv.end(), out.begin());
    int len = 0;
    bench::need(EVP_EncryptInit_ex(e.c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
                    EVP_CIPHER_CTX_ctrl(e.c, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
                    EVP_EncryptInit_ex(e.c, nullptr, nullptr, f.gcm_key.reveal().data(), f.gcm_iv.data()) == 1,
                "init");
    bench::need(EVP_EncryptUpdate(e.c, out.data() + 12, &len, f.plain.data(), static_cast<int>(f.plain.size())) == 1, "update");
    bench::need(EVP_EncryptFinal_ex(e.c, out.data() + 12 + len, &len) == 1, "final");
    bench::need(EVP_CIPHER_CTX_ctrl(e.c, EVP_CTRL_GCM_GET_TAG, 16, out.data() + out.size() - 16) == 1, "tag");
    return out;
}

Bytes gcm_decrypt_primitive(const Fixture& f) {
    Evp e;
    const Bytes& blob = f.gcm_blob;
    Bytes out(blob.size() - 28);
    int len = 0;
    bench::need(EVP_DecryptInit_ex(e.c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
                    EVP_CIPHER_CTX_ctrl(e.c, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
                    EVP_DecryptInit_ex(e.c, nullptr, nullptr, f.gcm_key_bytes.data(), blob.data()) == 1,
                "init");
    bench::need(EVP_DecryptUpdate(e.c, out.data(), &len, blob.data() + 12, static_cast<int>(out.size())) == 1, "update");
    bench::need(EVP_CIPHER_CTX_ctrl(e.c, EVP_CTRL_GCM_SET_TAG, 16, const_cast<std::uint8_t*>(blob.data() + blob.size() - 16)) == 1, "tag");
    bench::need(EVP_DecryptFinal_ex(e.c, out.data() + len, &len) == 1, "final");
    return out;
}

// ---- ours ------------------------------------------------------------------------------------

// Fed in 64 KiB pieces, as a file read from disk would be.
template <class Make>
Bytes encrypt_in_pieces(const Fixture& f, Make make) {
    auto enc = bench::must(make(), "encryptor");
    Bytes blob;
    blob.reserve(enc->blob_size());
    for (std::size_t off = 0; off < f.plain.size(); off += kPiece)
        bench::need(static_cast<bool>(enc->update(ByteView(f.plain).subspan(off, std::min(kPiece, f.plain.size() - off)), blob)),
                    "update");
    bench::must(enc->finish(blob), "finish");
    return blob;
}

void encrypt_cbc_hmac_ours(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto blob = encrypt_in_pieces(f, [&] { return att::Encryptor::cbc_hmac(f.cbc_key, f.iv, f.plain.size()); });
        benchmark::DoNotOptimize(blob.data());
    }
}
void encrypt_cbc_hmac_primitive(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto blob = cbc_encrypt_primitive(f);
        benchmark::DoNotOptimize(blob.data());
    }
}
void decrypt_cbc_hmac_ours(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    const att::DecryptParams p{att::Scheme::cbc_hmac, f.cbc_key_bytes, ByteView(f.digest), f.plain.size()};
    for (auto _ : state) {
        auto out = bench::must(att::decrypt(p, f.cbc_blob), "decrypt");
        benchmark::DoNotOptimize(out->data());
    }
}
void decrypt_cbc_hmac_primitive(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto out = cbc_decrypt_primitive(f);
        benchmark::DoNotOptimize(out.data());
    }
}
void encrypt_stream_ours(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto e = bench::must(att::encrypt_stream(f.seed, att::Domain::attachment, f.plain), "encrypt_stream");
        benchmark::DoNotOptimize(e->blob.data());
    }
}
void encrypt_stream_primitive(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto blob = stream_encrypt_primitive(f);
        benchmark::DoNotOptimize(blob.data());
    }
}
void decrypt_stream_ours(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    const att::DecryptParams p{att::Scheme::stream, f.stream_key, std::nullopt, f.plain.size()};
    for (auto _ : state) {
        auto out = bench::must(att::decrypt(p, f.stream_blob), "decrypt");
        benchmark::DoNotOptimize(out->data());
    }
}
void decrypt_stream_primitive(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto out = stream_decrypt_primitive(f);
        benchmark::DoNotOptimize(out.data());
    }
}
void encrypt_gcm_ours(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto blob = encrypt_in_pieces(f, [&] { return att::Encryptor::gcm(f.gcm_key, f.gcm_iv, f.plain.size()); });
        benchmark::DoNotOptimize(blob.data());
    }
}
void encrypt_gcm_primitive(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto blob = gcm_encrypt_primitive(f);
        benchmark::DoNotOptimize(blob.data());
    }
}
void decrypt_gcm_ours(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    const att::DecryptParams p{att::Scheme::gcm, f.gcm_key_bytes, std::nullopt, std::nullopt};
    for (auto _ : state) {
        auto out = bench::must(att::decrypt(p, f.gcm_blob), "decrypt");
        benchmark::DoNotOptimize(out->data());
    }
}
void decrypt_gcm_primitive(benchmark::State& state) {
    auto& f = fixture(state.range(0));
    for (auto _ : state) {
        auto out = gcm_decrypt_primitive(f);
        benchmark::DoNotOptimize(out.data());
    }
}

// ---- peak memory of a 10 MB upload and download -------------------------------------------------

namespace fs = std::filesystem;
constexpr std::size_t kFileBytes = att::kMaxPlaintextBytes;

struct FileNet {
    std::unique_ptr<session::localnet::Network> net;
    fs::path dir;
    std::optional<session::Client> client;
    std::string source;

    FileNet() {
        session::localnet::Options o;
        o.node_count = 5;
        o.swarm_size = 3;
        o.control_endpoint = false;
        net = std::move(*bench::must(session::localnet::Network::start(o), "localnet start"));
        dir = fs::temp_directory_path() / ("session-bench-attachment-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        const std::string file = (dir / "network.json").string();
        bench::must(net->write_network_file(file), "write network file");
        session::network::Options no;
        no.config = *bench::must(session::network::NetworkConfig::from_file(file), "network file");
        no.config.request_timeout = std::chrono::milliseconds(60'000);
        auto network = std::make_shared<session::network::Network>(std::move(no));
        bench::must(network->bootstrap(), "bootstrap");
        auto id = session::Identity::generate(*session::system_rng()).first;
        client.emplace(std::move(*bench::must(session::Client::create(std::move(id), network), "client")));
        source = (dir / "source.bin").string();
        const Bytes data = bench::pattern(kFileBytes, 11);
        std::ofstream(source, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                      static_cast<std::streamsize>(data.size()));
    }
    ~FileNet() {
        client.reset();
        net.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

FileNet& file_net() {
    static FileNet n;
    return n;
}

struct Measured {
    Measured() {
        heap::peak = heap::live.load();
        start = heap::live.load();
        heap::measuring = true;
        heap::active = true;
    }
    ~Measured() {
        heap::active = false;
        heap::measuring = false;
    }
    double peak_bytes() const { return static_cast<double>(heap::peak.load() - start); }
    std::int64_t start = 0;
};

void upload_peak_memory(benchmark::State& state) {
    auto& f = file_net();
    double peak = 0;
    for (auto _ : state) {
        Measured m;
        auto p = bench::must(f.client->upload_attachment(session::AttachmentSource::from_path(f.source)), "upload");
        benchmark::DoNotOptimize(p->url);
        peak = std::max(peak, m.peak_bytes());
    }
    state.counters["peak_mb"] = peak / 1e6;
    state.counters["x_file_size"] = peak / static_cast<double>(kFileBytes);
}

void download_peak_memory(benchmark::State& state) {
    auto& f = file_net();
    const auto pointer = *bench::must(f.client->upload_attachment(session::AttachmentSource::from_path(f.source)), "upload");
    double peak = 0;
    int n = 0;
    for (auto _ : state) {
        const std::string target = (f.dir / ("down-" + std::to_string(n++) + ".bin")).string();
        Measured m;
        auto r = bench::must(f.client->download_attachment_to(pointer, target), "download");
        benchmark::DoNotOptimize(r->size);
        peak = std::max(peak, m.peak_bytes());
    }
    state.counters["peak_mb"] = peak / 1e6;
    state.counters["x_file_size"] = peak / static_cast<double>(kFileBytes);
}

}  // namespace

BENCHMARK(upload_peak_memory)->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(download_peak_memory)->Iterations(2)->Unit(benchmark::kMillisecond);

#define ATTACHMENT_PAIR(op)                                                                                    \
    BENCHMARK(op##_ours)->Name(#op "/ours")->Arg(100'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond);     \
    BENCHMARK(op##_primitive)->Name(#op "/primitive")->Arg(100'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond)

ATTACHMENT_PAIR(encrypt_cbc_hmac);
ATTACHMENT_PAIR(decrypt_cbc_hmac);
ATTACHMENT_PAIR(encrypt_stream);
ATTACHMENT_PAIR(decrypt_stream);
ATTACHMENT_PAIR(encrypt_gcm);
ATTACHMENT_PAIR(decrypt_gcm);

int main(int argc, char** argv) { return bench::main(argc, argv); }
