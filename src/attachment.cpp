// attachment.cpp: see attachment.hpp for the three blob formats and their sources.
//
// OpenSSL does AES-256-CBC, AES-256-GCM, HMAC-SHA256 and SHA-256 (it uses AES-NI and SHA-NI where
// the CPU has them); libsodium does BLAKE2b and crypto_secretstream_xchacha20poly1305. Every
// OpenSSL handle has one owner (detail/handle.hpp); every key and stream state is wiped.
#include "session/attachment.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "detail/crypto.hpp"
#include "detail/handle.hpp"

namespace session::attachment {

namespace {

using CipherCtx = detail::Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using MdCtx = detail::Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using MacAlgo = detail::Handle<EVP_MAC, EVP_MAC_free>;
using MacCtx = detail::Handle<EVP_MAC_CTX, EVP_MAC_CTX_free>;

constexpr std::size_t kStreamCipherChunk = kStreamChunkBytes + kStreamChunkOverhead;  // 32,785
constexpr std::size_t kStreamPrefixBytes = 1 + kStreamHeaderBytes;                    // 'S' || header
// The smallest stream blob: prefix + one piece holding at least the 0x01 marker.
constexpr std::uint64_t kMinStreamBlob = kStreamPrefixBytes + 1 + kStreamChunkOverhead;
constexpr std::uint64_t kMinCbcBlob = kCbcIvBytes + 16 + kMacBytes;  // one PKCS#7 block at least
constexpr std::uint64_t kMinGcmBlob = kGcmIvBytes + kGcmTagBytes;
// OpenSSL takes int lengths: feed it at most this much per call.
constexpr std::size_t kEvpStep = std::size_t{1} << 20;
// Zeros appended for desktop's padding, a block at a time (the padding is at most ~5% of 10 MB).
constexpr std::size_t kZeroBlock = 4096;
// libsession's stream padding: the padded size is a multiple of bit_floor(max(M, 128 KiB)) / 32.
constexpr std::uint64_t kStreamPadFloor = 131072;
constexpr int kStreamPadShift = 5;
// BLAKE2b-56 personalisations (crypto_generichash_blake2b_PERSONALBYTES = 16).
constexpr char kPersonalAttachment[] = "SessionAttachmnt";
constexpr char kPersonalProfilePic[] = "Session_Prof_Pic";
static_assert(sizeof kPersonalAttachment - 1 == crypto_generichash_blake2b_PERSONALBYTES);
static_assert(sizeof kPersonalProfilePic - 1 == crypto_generichash_blake2b_PERSONALBYTES);
static_assert(kStreamHeaderBytes == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kStreamKeyBytes == crypto_secretstream_xchacha20poly1305_KEYBYTES);
static_assert(kStreamChunkOverhead == crypto_secretstream_xchacha20poly1305_ABYTES);

Unexpected<Error> fail(Errc code, std::string what) { return unexpected(code, "attachment: " + std::move(what)); }

std::string num(std::uint64_t v) { return std::to_string(v); }

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }

// ---- OpenSSL wrappers ------------------------------------------------------------------------

class Sha256 {
public:
    bool init() {
        ctx_.reset(EVP_MD_CTX_new());
        return ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
    }
    bool update(ByteView b) { return b.empty() || EVP_DigestUpdate(ctx_.get(), b.data(), b.size()) == 1; }
    bool final(ByteArray<32>& out) {
        unsigned int len = 0;
        return EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) == 1 && len == out.size();
    }

private:
    MdCtx ctx_;
};

class HmacSha256 {
public:
    bool init(ByteView key) {
        MacAlgo algo{EVP_MAC_fetch(nullptr, "HMAC", nullptr)};
        if (!algo) return false;
        ctx_.reset(EVP_MAC_CTX_new(algo.get()));  // the context keeps its own reference to algo
        if (!ctx_) return false;
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                     OSSL_PARAM_construct_end()};
        return EVP_MAC_init(ctx_.get(), key.data(), key.size(), params) == 1;
    }
    bool update(ByteView b) { return b.empty() || EVP_MAC_update(ctx_.get(), b.data(), b.size()) == 1; }
    bool final(ByteArray<32>& out) {
        std::size_t len = 0;
        return EVP_MAC_final(ctx_.get(), out.data(), &len, out.size()) == 1 && len == out.size();
    }

private:
    MacCtx ctx_;
};

// Room EVP needs beyond the input: up to one block for CBC (buffered or padding bytes), none for GCM
// (a stream mode). Asking for no more keeps `out` inside the capacity its owner reserved (growing a
// 10 MB buffer by a few bytes would copy it).
std::size_t evp_slack(EVP_CIPHER_CTX* ctx) {
    const int block = EVP_CIPHER_CTX_get_block_size(ctx);
    return block > 1 ? static_cast<std::size_t>(block) : 0;
}

/// EVP_CipherUpdate over `in` (any length), appending the output to `out`; false on failure.
bool cipher_append(EVP_CIPHER_CTX* ctx, ByteView in, Bytes& out) {
    const std::size_t slack = evp_slack(ctx);
    while (!in.empty()) {
        const std::size_t step = std::min(in.size(), kEvpStep);
        const std::size_t old = out.size();
        out.resize(old + step + slack);
        int len = 0;
        if (EVP_CipherUpdate(ctx, out.data() + old, &len, in.data(), static_cast<int>(step)) != 1) {
            out.resize(old);
            return false;
        }
        out.resize(old + static_cast<std::size_t>(len));
        in = in.subspan(step);
    }
    return true;
}

/// EVP_CipherFinal_ex, appending its output.
bool cipher_final(EVP_CIPHER_CTX* ctx, Bytes& out) {
    const std::size_t old = out.size();
    out.resize(old + evp_slack(ctx));
    int len = 0;
    if (EVP_CipherFinal_ex(ctx, out.data() + old, &len) != 1) {
        out.resize(old);
        return false;
    }
    out.resize(old + static_cast<std::size_t>(len));
    return true;
}

CipherCtx cipher_init(const EVP_CIPHER* cipher, ByteView key, ByteView iv, bool encrypt) {
    CipherCtx ctx{EVP_CIPHER_CTX_new()};
    if (!ctx) return ctx;
    const int enc = encrypt ? 1 : 0;
    if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, enc) != 1) return nullptr;
    if (cipher == EVP_aes_256_gcm() &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1)
        return nullptr;
    if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data(), enc) != 1) return nullptr;
    return ctx;
}

/// Keeps the first `keep` bytes of what `out` gained since `mark`, given `produced` bytes before them.
void cut_to_size(Bytes& out, std::size_t mark, std::uint64_t& produced, std::optional<std::uint64_t> size) {
    const std::uint64_t gained = out.size() - mark;
    if (size) {
        const std::uint64_t room = *size > produced ? *size - produced : 0;
        if (gained > room) out.resize(mark + static_cast<std::size_t>(room));
    }
    produced += gained;
}

// The state of crypto_secretstream_xchacha20poly1305, wiped when it goes.
struct StreamState {
    crypto_secretstream_xchacha20poly1305_state st{};
    StreamState() = default;
    StreamState(const StreamState&) = delete;
    StreamState& operator=(const StreamState&) = delete;
    ~StreamState() { detail::wipe(&st, sizeof st); }
};

// Starts a stream with a chosen header. libsodium's init_push draws the header at random; the stream
// scheme derives it instead. init_pull sets up exactly the state init_push would after writing that
// header (HChaCha20 subkey from header[0:16], counter 1, inonce = header[16:24]) and push only reads
// that state, so it serves both directions (libsession re-implements init_push for the same result).
void stream_start(StreamState& s, const ByteArray<24>& header, std::span<const std::uint8_t, 32> key) {
    crypto_secretstream_xchacha20poly1305_init_pull(&s.st, header.data(), key.data());
}

}  // namespace

// ---- sizes -----------------------------------------------------------------------------------

std::string_view to_string(Scheme s) noexcept {
    switch (s) {
        case Scheme::cbc_hmac: return "cbc_hmac";
        case Scheme::stream: return "stream";
        case Scheme::gcm: return "gcm";
    }
    return "unknown";
}

std::uint64_t padded_size(std::uint64_t n) noexcept {
    // desktop: Math.max(541, Math.floor(Math.pow(1.05, Math.ceil(Math.log(n) / Math.log(1.05))))).
    // For n = 0, Math.log gives -Infinity and the power 0, so the floor of 541 applies.
    if (n == 0) return kMinPaddedBytes;
    const double exponent = std::ceil(std::log(static_cast<double>(n)) / std::log(1.05));
    const double power = std::floor(std::pow(1.05, exponent));
    std::uint64_t padded = power >= 1.8e19 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(power);
    padded = std::max<std::uint64_t>(padded, kMinPaddedBytes);
    if (padded > kMaxPlaintextBytes && n <= kMaxPlaintextBytes) padded = kMaxPlaintextBytes;
    // A rounding error in log/pow must never cut the file (desktop would throw a RangeError).
    return std::max(padded, n);
}

std::uint64_t stream_padding(std::uint64_t n) noexcept {
    // libsession encrypted_padding: M = n + 'S' + header + 1 byte of padding + 17 per 32 KiB piece;
    // round M up to a multiple of bit_floor(max(M, 128 KiB)) >> 5. The extra pieces that large
    // paddings create carry their own 17 bytes, which count as padding.
    const std::uint64_t pieces = ceil_div(n, kStreamChunkBytes);
    const std::uint64_t m = n + kStreamPrefixBytes + 1 + pieces * kStreamChunkOverhead;
    const std::uint64_t factor = std::bit_floor(std::max(m, kStreamPadFloor)) >> kStreamPadShift;
    const std::uint64_t rounded = ceil_div(m, factor) * factor;
    std::uint64_t padding = rounded - m + 1;
    std::uint64_t implicit = 0;
    if (padding >= kStreamCipherChunk) implicit = padding / kStreamCipherChunk * kStreamChunkOverhead;
    const std::uint64_t free_in_last_piece = pieces * kStreamChunkBytes - n;
    if (padding % kStreamCipherChunk > free_in_last_piece) implicit += kStreamChunkOverhead;
    return padding - implicit;
}

std::uint64_t encrypted_size(Scheme s, std::uint64_t n, Padding padding) noexcept {
    switch (s) {
        case Scheme::cbc_hmac: {
            const std::uint64_t p = padding == Padding::desktop ? padded_size(n) : n;
            return kCbcIvBytes + (p / 16 + 1) * 16 + kMacBytes;  // PKCS#7 always adds 1..16 bytes
        }
        case Scheme::stream: {
            const std::uint64_t q = n + stream_padding(n);
            return kStreamPrefixBytes + q + ceil_div(q, kStreamChunkBytes) * kStreamChunkOverhead;
        }
        case Scheme::gcm:
            return kGcmIvBytes + n + kGcmTagBytes;
    }
    return 0;
}

// ---- StreamKeyHasher -------------------------------------------------------------------------

struct StreamKeyHasher::State {
    crypto_generichash_blake2b_state st{};
    bool done = false;
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() { detail::wipe(&st, sizeof st); }
};

StreamKeyHasher::StreamKeyHasher(const Secret<32>& seed, Domain domain) : state_(std::make_unique<State>()) {
    detail::sodium_ready();
    const char* personal = domain == Domain::attachment ? kPersonalAttachment : kPersonalProfilePic;
    crypto_generichash_blake2b_init_salt_personal(&state_->st, seed.reveal().data(), seed.size(),
                                                  kStreamHeaderBytes + kStreamKeyBytes, nullptr,
                                                  reinterpret_cast<const std::uint8_t*>(personal));
}
StreamKeyHasher::~StreamKeyHasher() = default;
StreamKeyHasher::StreamKeyHasher(StreamKeyHasher&&) noexcept = default;
StreamKeyHasher& StreamKeyHasher::operator=(StreamKeyHasher&&) noexcept = default;

void StreamKeyHasher::update(ByteView plaintext) {
    if (!state_ || state_->done) throw std::logic_error("attachment: StreamKeyHasher::update after finish");
    crypto_generichash_blake2b_update(&state_->st, plaintext.data(), plaintext.size());
}

StreamKey StreamKeyHasher::finish() {
    if (!state_ || state_->done) throw std::logic_error("attachment: StreamKeyHasher::finish called twice");
    state_->done = true;
    Secret<56> both;
    crypto_generichash_blake2b_final(&state_->st, both.mutable_bytes().data(), both.size());
    StreamKey out;
    std::copy_n(both.reveal().begin(), kStreamHeaderBytes, out.header.begin());
    std::copy_n(both.reveal().begin() + kStreamHeaderBytes, kStreamKeyBytes, out.key.mutable_bytes().begin());
    return out;
}

// ---- Encryptor -------------------------------------------------------------------------------

struct Encryptor::Impl {
    Scheme scheme = Scheme::cbc_hmac;
    std::uint64_t plaintext_size = 0;
    std::uint64_t fed = 0;
    std::uint64_t blob_size = 0;
    bool started = false;  // the leading IV, or 'S' || header, is out
    bool finished = false;
    std::optional<Error> failed;

    Secret<64> cbc_key;       // cbc_hmac: aesKey || macKey
    Secret<32> key32;         // gcm: the profile key; stream: the derived key
    ByteArray<16> iv{};       // cbc_hmac 16 bytes, gcm the first 12
    std::uint64_t pad_zeros = 0;  // cbc_hmac: desktop's zero padding after the plaintext
    CipherCtx cipher;
    HmacSha256 mac;
    Sha256 sha;

    StreamState ss;
    ByteArray<24> header{};
    std::uint64_t pad_left = 0;  // stream: padding bytes of Q not produced yet
    std::uint64_t q_pos = 0, q_total = 0;
    Bytes piece;  // stream: the current partial 32 KiB piece of Q

    Unexpected<Error> error(Errc code, std::string what) {
        failed = Error{code, "attachment: " + std::move(what)};
        return unexpected(*failed);
    }

    // cbc_hmac: the MAC covers IV || C; the digest covers the whole blob.
    bool authenticate(ByteView bytes) { return sha.update(bytes) && mac.update(bytes); }

    Result<void> start(Bytes& out) {
        if (started) return {};
        started = true;
        switch (scheme) {
            case Scheme::cbc_hmac:
                out.insert(out.end(), iv.begin(), iv.begin() + kCbcIvBytes);
                if (!authenticate(ByteView(iv.data(), kCbcIvBytes))) return error(Errc::attachment_crypto, "SHA-256/HMAC failed");
                return {};
            case Scheme::gcm:
                out.insert(out.end(), iv.begin(), iv.begin() + kGcmIvBytes);
                return {};
            case Scheme::stream:
                out.push_back(kStreamPrefix);
                out.insert(out.end(), header.begin(), header.end());
                produce_padding(out);
                return {};
        }
        return {};
    }

    // ---- stream: Q = padding || plaintext, pushed 32 KiB at a time, FINAL on the piece ending Q ----
    void push(ByteView chunk, Bytes& out) {
        const std::uint8_t tag = q_pos == q_total ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
        const std::size_t old = out.size();
        out.resize(old + chunk.size() + kStreamChunkOverhead);
        unsigned long long written = 0;
        crypto_secretstream_xchacha20poly1305_push(&ss.st, out.data() + old, &written, chunk.data(), chunk.size(),
                                                   nullptr, 0, tag);
        out.resize(old + static_cast<std::size_t>(written));
    }
    void push_piece(Bytes& out) {
        push(piece, out);
        piece.clear();
    }
    void produce_padding(Bytes& out) {
        while (pad_left > 0) {
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(pad_left, kStreamChunkBytes - piece.size()));
            piece.insert(piece.end(), take, 0x00);
            pad_left -= take;
            q_pos += take;
            if (pad_left == 0) piece.back() = 0x01;  // the marker ends the padding
            if (piece.size() == kStreamChunkBytes || q_pos == q_total) push_piece(out);
        }
    }
    void stream_update(ByteView in, Bytes& out) {
        while (!in.empty()) {
            if (piece.empty() && in.size() >= kStreamChunkBytes) {
                q_pos += kStreamChunkBytes;  // a whole piece straight from the input: no copy
                push(in.first(kStreamChunkBytes), out);
                in = in.subspan(kStreamChunkBytes);
                continue;
            }
            const std::size_t take = std::min(in.size(), kStreamChunkBytes - piece.size());
            piece.insert(piece.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
            q_pos += take;
            in = in.subspan(take);
            if (piece.size() == kStreamChunkBytes || q_pos == q_total) push_piece(out);
        }
    }

    Result<void> update(ByteView in, Bytes& out) {
        if (failed) return unexpected(*failed);
        if (finished) throw std::logic_error("attachment: Encryptor::update after finish");
        if (in.size() > plaintext_size - fed)
            return error(Errc::attachment_size_mismatch, "more plaintext than the declared " + num(plaintext_size) +
                                                             " bytes (at least " + num(fed + in.size()) + ")");
        if (auto r = start(out); !r) return r;
        fed += in.size();
        if (scheme == Scheme::stream) {
            stream_update(in, out);
            return {};
        }
        const std::size_t mark = out.size();
        if (!cipher_append(cipher.get(), in, out)) return error(Errc::attachment_crypto, "encryption failed");
        if (scheme == Scheme::cbc_hmac && !authenticate(ByteView(out).subspan(mark)))
            return error(Errc::attachment_crypto, "SHA-256/HMAC failed");
        return {};
    }

    Result<Sealed> finish(Bytes& out) {
        if (failed) return unexpected(*failed);
        if (finished) throw std::logic_error("attachment: Encryptor::finish called twice");
        if (fed != plaintext_size)
            return error(Errc::attachment_size_mismatch,
                         "the plaintext ended after " + num(fed) + " of the declared " + num(plaintext_size) + " bytes");
        if (auto r = start(out); !r) return unexpected(r.error());
        finished = true;
        Sealed sealed;
        sealed.scheme = scheme;
        sealed.size = plaintext_size;
        switch (scheme) {
            case Scheme::stream:
                if (!piece.empty()) push_piece(out);
                sealed.key = SecretBuffer(key32.reveal());
                break;
            case Scheme::gcm: {
                ByteArray<kGcmTagBytes> tag{};
                if (!cipher_final(cipher.get(), out) ||
                    EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()), tag.data()) != 1)
                    return error(Errc::attachment_crypto, "AES-256-GCM final failed");
                out.insert(out.end(), tag.begin(), tag.end());
                sealed.key = SecretBuffer(key32.reveal());
                break;
            }
            case Scheme::cbc_hmac: {
                static constexpr std::array<std::uint8_t, kZeroBlock> zeros{};
                const std::size_t mark = out.size();
                for (std::uint64_t left = pad_zeros; left > 0;) {
                    const auto step = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
                    if (!cipher_append(cipher.get(), ByteView(zeros.data(), step), out))
                        return error(Errc::attachment_crypto, "encryption failed");
                    left -= step;
                }
                if (!cipher_final(cipher.get(), out)) return error(Errc::attachment_crypto, "encryption failed");
                ByteArray<32> tag{}, digest{};
                if (!authenticate(ByteView(out).subspan(mark)) || !mac.final(tag))
                    return error(Errc::attachment_crypto, "HMAC-SHA256 failed");
                out.insert(out.end(), tag.begin(), tag.end());
                if (!sha.update(tag) || !sha.final(digest)) return error(Errc::attachment_crypto, "SHA-256 failed");
                sealed.key = SecretBuffer(cbc_key.reveal());
                sealed.digest = digest;
                break;
            }
        }
        return sealed;
    }
};

namespace {

Result<void> check_plaintext_size(std::uint64_t n) {
    if (n > kMaxPlaintextBytes)
        return fail(Errc::attachment_too_large,
                    "plaintext of " + num(n) + " bytes is over the " + num(kMaxPlaintextBytes) + "-byte limit");
    return {};
}

}  // namespace

Encryptor::Encryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Encryptor::~Encryptor() = default;
Encryptor::Encryptor(Encryptor&&) noexcept = default;
Encryptor& Encryptor::operator=(Encryptor&&) noexcept = default;

Result<Encryptor> Encryptor::cbc_hmac(std::uint64_t plaintext_size, Rng& rng, Padding padding) {
    if (auto r = check_plaintext_size(plaintext_size); !r) return unexpected(r.error());
    Secret<64> key;
    rng.fill(key.mutable_bytes());
    std::array<std::uint8_t, kCbcIvBytes> iv{};
    rng.fill(iv);
    return cbc_hmac(key, iv, plaintext_size, padding);
}

Result<Encryptor> Encryptor::cbc_hmac(const Secret<64>& key, std::span<const std::uint8_t, 16> iv,
                                      std::uint64_t plaintext_size, Padding padding) {
    if (auto r = check_plaintext_size(plaintext_size); !r) return unexpected(r.error());
    auto im = std::make_unique<Impl>();
    im->scheme = Scheme::cbc_hmac;
    im->plaintext_size = plaintext_size;
    im->blob_size = encrypted_size(Scheme::cbc_hmac, plaintext_size, padding);
    im->pad_zeros = (padding == Padding::desktop ? padded_size(plaintext_size) : plaintext_size) - plaintext_size;
    im->cbc_key = Secret<64>(key.reveal());
    std::copy(iv.begin(), iv.end(), im->iv.begin());
    const auto k = key.reveal();
    im->cipher = cipher_init(EVP_aes_256_cbc(), k.first<32>(), iv, true);
    if (!im->cipher || !im->mac.init(k.last<32>()) || !im->sha.init())
        return fail(Errc::attachment_crypto, "cannot set up AES-256-CBC / HMAC-SHA256 / SHA-256");
    return Encryptor(std::move(im));
}

Result<Encryptor> Encryptor::stream(const StreamKey& key, std::uint64_t plaintext_size) {
    if (auto r = check_plaintext_size(plaintext_size); !r) return unexpected(r.error());
    detail::sodium_ready();
    auto im = std::make_unique<Impl>();
    im->scheme = Scheme::stream;
    im->plaintext_size = plaintext_size;
    im->blob_size = encrypted_size(Scheme::stream, plaintext_size);
    im->key32 = Secret<32>(key.key.reveal());
    im->header = key.header;
    im->pad_left = stream_padding(plaintext_size);
    im->q_total = im->pad_left + plaintext_size;
    im->piece.reserve(kStreamChunkBytes);
    stream_start(im->ss, im->header, im->key32.reveal());
    return Encryptor(std::move(im));
}

Result<Encryptor> Encryptor::gcm(const Secret<32>& profile_key, std::uint64_t plaintext_size, Rng& rng) {
    if (auto r = check_plaintext_size(plaintext_size); !r) return unexpected(r.error());
    std::array<std::uint8_t, kGcmIvBytes> iv{};
    rng.fill(iv);
    return gcm(profile_key, iv, plaintext_size);
}

Result<Encryptor> Encryptor::gcm(const Secret<32>& profile_key, std::span<const std::uint8_t, 12> iv,
                                 std::uint64_t plaintext_size) {
    if (auto r = check_plaintext_size(plaintext_size); !r) return unexpected(r.error());
    auto im = std::make_unique<Impl>();
    im->scheme = Scheme::gcm;
    im->plaintext_size = plaintext_size;
    im->blob_size = encrypted_size(Scheme::gcm, plaintext_size);
    im->key32 = Secret<32>(profile_key.reveal());
    std::copy(iv.begin(), iv.end(), im->iv.begin());
    im->cipher = cipher_init(EVP_aes_256_gcm(), profile_key.reveal(), iv, true);
    if (!im->cipher) return fail(Errc::attachment_crypto, "cannot set up AES-256-GCM");
    return Encryptor(std::move(im));
}

Scheme Encryptor::scheme() const noexcept { return impl_->scheme; }
std::uint64_t Encryptor::blob_size() const noexcept { return impl_->blob_size; }
Result<void> Encryptor::update(ByteView plaintext, Bytes& out) { return impl_->update(plaintext, out); }
Result<Sealed> Encryptor::finish(Bytes& out) { return impl_->finish(out); }

namespace {

Result<Encrypted> encrypt_all(Result<Encryptor> enc, ByteView plaintext) {
    if (!enc) return unexpected(std::move(enc).error());
    Encrypted out;
    out.blob.reserve(static_cast<std::size_t>(enc->blob_size()));
    if (auto r = enc->update(plaintext, out.blob); !r) return unexpected(r.error());
    auto sealed = enc->finish(out.blob);
    if (!sealed) return unexpected(std::move(sealed).error());
    out.sealed = std::move(*sealed);
    return out;
}

}  // namespace

Result<Encrypted> encrypt_cbc_hmac(ByteView plaintext, Rng& rng, Padding padding) {
    return encrypt_all(Encryptor::cbc_hmac(plaintext.size(), rng, padding), plaintext);
}

Result<Encrypted> encrypt_stream(const Secret<32>& seed, Domain domain, ByteView plaintext) {
    if (auto r = check_plaintext_size(plaintext.size()); !r) return unexpected(r.error());
    StreamKeyHasher hasher(seed, domain);
    hasher.update(plaintext);
    const StreamKey key = hasher.finish();
    return encrypt_all(Encryptor::stream(key, plaintext.size()), plaintext);
}

Result<Encrypted> encrypt_gcm(const Secret<32>& profile_key, ByteView plaintext, Rng& rng) {
    return encrypt_all(Encryptor::gcm(profile_key, plaintext.size(), rng), plaintext);
}

// ---- Decryptor -------------------------------------------------------------------------------

struct Decryptor::Impl {
    Scheme scheme = Scheme::cbc_hmac;
    std::uint64_t blob_size = 0;
    std::uint64_t pos = 0;       // blob bytes consumed
    std::optional<std::uint64_t> size;
    std::uint64_t produced = 0;  // plaintext bytes seen (after the stream padding), before the size cut
    bool finished = false;
    std::optional<Error> failed;

    // cbc_hmac and gcm: blob = head (IV) || ciphertext || tail (MAC or tag)
    Secret<64> cbc_key;
    Secret<32> key32;
    ByteArray<32> digest{};
    ByteArray<16> head{};
    ByteArray<32> tail{};
    std::size_t head_len = 0, tail_len = 0;
    CipherCtx cipher;
    HmacSha256 mac;
    Sha256 sha;
    bool verified = false;  // decrypt(): the MAC and digest were checked before decrypting

    // stream: 'S' || header, then pieces of 32,785 bytes, the last one last_piece bytes
    StreamState ss;
    ByteArray<kStreamPrefixBytes> prefix{};
    std::uint64_t pieces = 0, piece_index = 0, last_piece = 0;
    Bytes piece;  // a partial ciphertext piece
    Bytes plain;  // a piece that may still hold padding
    bool depadded = false;

    Unexpected<Error> error(Errc code, std::string what) {
        failed = Error{code, "attachment: " + std::move(what)};
        return unexpected(*failed);
    }

    // ---- cbc_hmac / gcm ----
    Result<void> start_cipher() {
        if (scheme == Scheme::cbc_hmac) {
            cipher = cipher_init(EVP_aes_256_cbc(), cbc_key.reveal().first<32>(), ByteView(head.data(), kCbcIvBytes), false);
            if (!cipher) return error(Errc::attachment_crypto, "cannot set up AES-256-CBC");
            if (!verified && !mac.update(ByteView(head.data(), kCbcIvBytes))) return error(Errc::attachment_crypto, "HMAC failed");
        } else {
            cipher = cipher_init(EVP_aes_256_gcm(), key32.reveal(), ByteView(head.data(), kGcmIvBytes), false);
            if (!cipher) return error(Errc::attachment_crypto, "cannot set up AES-256-GCM");
        }
        return {};
    }

    Result<void> block_update(ByteView in, Bytes& out) {
        if (scheme == Scheme::cbc_hmac && !verified && !sha.update(in)) return error(Errc::attachment_crypto, "SHA-256 failed");
        const std::uint64_t ct_end = blob_size - tail_len;
        while (!in.empty()) {
            if (pos < head_len) {
                const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(head_len - pos, in.size()));
                std::copy_n(in.begin(), take, head.begin() + static_cast<std::ptrdiff_t>(pos));
                pos += take;
                in = in.subspan(take);
                if (pos == head_len)
                    if (auto r = start_cipher(); !r) return r;
            } else if (pos < ct_end) {
                const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(ct_end - pos, in.size()));
                const ByteView ct = in.first(take);
                if (scheme == Scheme::cbc_hmac && !verified && !mac.update(ct)) return error(Errc::attachment_crypto, "HMAC failed");
                const std::size_t mark = out.size();
                if (!cipher_append(cipher.get(), ct, out)) return error(Errc::attachment_crypto, "decryption failed");
                cut_to_size(out, mark, produced, size);
                pos += take;
                in = in.subspan(take);
            } else {
                const std::size_t at = static_cast<std::size_t>(pos - ct_end);
                std::copy(in.begin(), in.end(), tail.begin() + static_cast<std::ptrdiff_t>(at));
                pos += in.size();
                in = {};
            }
        }
        return {};
    }

    // The MAC over IV || C and the digest over the blob, both in constant time (desktop's order).
    Result<void> check_cbc_auth(const ByteArray<32>& computed_mac, const ByteArray<32>& computed_digest) {
        if (!detail::equal_ct(computed_mac.data(), tail.data(), kMacBytes))
            return error(Errc::attachment_bad_mac, "HMAC-SHA256 does not verify (wrong key or changed blob)");
        if (!detail::equal_ct(computed_digest.data(), digest.data(), kDigestBytes))
            return error(Errc::attachment_bad_digest, "SHA-256 of the blob differs from the pointer's digest");
        return {};
    }

    Result<void> block_finish(Bytes& out) {
        if (scheme == Scheme::cbc_hmac) {
            if (!verified) {
                ByteArray<32> m{}, d{};
                if (!mac.final(m) || !sha.final(d)) return error(Errc::attachment_crypto, "HMAC/SHA-256 failed");
                if (auto r = check_cbc_auth(m, d); !r) return r;
            }
        } else if (EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes), tail.data()) != 1) {
            return error(Errc::attachment_crypto, "cannot set the GCM tag");
        }
        const std::size_t mark = out.size();
        if (!cipher_final(cipher.get(), out)) {
            if (scheme == Scheme::gcm) return error(Errc::attachment_decrypt_failed, "AES-256-GCM tag does not verify (wrong key or changed blob)");
            return error(Errc::attachment_decrypt_failed, "PKCS#7 padding of the AES-256-CBC plaintext is invalid");
        }
        cut_to_size(out, mark, produced, size);
        return {};
    }

    // ---- stream ----
    std::uint64_t piece_len() const { return piece_index + 1 == pieces ? last_piece : kStreamCipherChunk; }

    Result<void> open_piece(ByteView c, Bytes& out) {
        const std::size_t n = c.size() - kStreamChunkOverhead;
        unsigned char tag = 0;
        const std::size_t mark = out.size();
        if (depadded) {
            out.resize(mark + n);
            if (crypto_secretstream_xchacha20poly1305_pull(&ss.st, out.data() + mark, nullptr, &tag, c.data(), c.size(),
                                                           nullptr, 0) != 0) {
                out.resize(mark);
                return error(Errc::attachment_decrypt_failed, "piece " + num(piece_index) + " of " + num(pieces) +
                                                                  " does not verify (wrong key or changed blob)");
            }
        } else {
            plain.resize(n);
            if (crypto_secretstream_xchacha20poly1305_pull(&ss.st, plain.data(), nullptr, &tag, c.data(), c.size(),
                                                           nullptr, 0) != 0)
                return error(Errc::attachment_decrypt_failed, "piece " + num(piece_index) + " of " + num(pieces) +
                                                                  " does not verify (wrong key or changed blob)");
            // Padding: zeros, then 0x01; everything after the marker is the file.
            auto it = std::find_if(plain.begin(), plain.end(), [](std::uint8_t b) { return b != 0; });
            if (it != plain.end()) {
                if (*it != 0x01)
                    return error(Errc::attachment_bad_format,
                                 "padding byte " + num(*it) + " where 0x01 ends the padding (piece " + num(piece_index) + ")");
                depadded = true;
                out.insert(out.end(), it + 1, plain.end());
            }
            detail::wipe(plain.data(), plain.size());
        }
        cut_to_size(out, mark, produced, size);
        ++piece_index;
        const bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
        if (final && piece_index != pieces)
            return error(Errc::attachment_bad_format, "FINAL tag on piece " + num(piece_index - 1) + " of " + num(pieces));
        if (piece_index == pieces) {
            if (!final) return error(Errc::attachment_truncated, "the last piece has no FINAL tag (the blob was cut short)");
            if (!depadded) return error(Errc::attachment_bad_format, "the blob ends inside the padding");
        }
        return {};
    }

    Result<void> stream_update(ByteView in, Bytes& out) {
        while (!in.empty()) {
            if (pos < kStreamPrefixBytes) {
                const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(kStreamPrefixBytes - pos, in.size()));
                std::copy_n(in.begin(), take, prefix.begin() + static_cast<std::ptrdiff_t>(pos));
                pos += take;
                in = in.subspan(take);
                if (pos == kStreamPrefixBytes) {
                    if (prefix[0] != kStreamPrefix)
                        return error(Errc::attachment_bad_format, "first byte is " + num(prefix[0]) + ", expected 0x53 ('S')");
                    ByteArray<24> header{};
                    std::copy(prefix.begin() + 1, prefix.end(), header.begin());
                    stream_start(ss, header, key32.reveal());
                }
                continue;
            }
            const auto want = static_cast<std::size_t>(piece_len());
            if (piece.empty() && in.size() >= want) {
                pos += want;
                if (auto r = open_piece(in.first(want), out); !r) return r;
                in = in.subspan(want);
                continue;
            }
            const std::size_t take = std::min(want - piece.size(), in.size());
            piece.insert(piece.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
            pos += take;
            in = in.subspan(take);
            if (piece.size() == want) {
                if (auto r = open_piece(piece, out); !r) return r;
                piece.clear();
            }
        }
        return {};
    }

    Result<void> update(ByteView in, Bytes& out) {
        if (failed) return unexpected(*failed);
        if (finished) throw std::logic_error("attachment: Decryptor::update after finish");
        if (in.size() > blob_size - pos)
            return error(Errc::attachment_size_mismatch,
                         "more than the declared " + num(blob_size) + " blob bytes (at least " + num(pos + in.size()) + ")");
        return scheme == Scheme::stream ? stream_update(in, out) : block_update(in, out);
    }

    Result<void> finish(Bytes& out) {
        if (failed) return unexpected(*failed);
        if (finished) throw std::logic_error("attachment: Decryptor::finish called twice");
        if (pos != blob_size)
            return error(Errc::attachment_truncated, "the blob ended after " + num(pos) + " of " + num(blob_size) + " bytes");
        if (scheme != Scheme::stream)
            if (auto r = block_finish(out); !r) return r;
        if (size && produced < *size)
            return error(Errc::attachment_size_mismatch,
                         "the plaintext has " + num(produced) + " bytes, the pointer says " + num(*size));
        finished = true;
        return {};
    }
};

Decryptor::Decryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Decryptor::~Decryptor() = default;
Decryptor::Decryptor(Decryptor&&) noexcept = default;
Decryptor& Decryptor::operator=(Decryptor&&) noexcept = default;

Result<Decryptor> Decryptor::create(const DecryptParams& p, std::uint64_t blob_size) {
    const std::string scheme(to_string(p.scheme));
    if (blob_size > kMaxBlobBytes)
        return fail(Errc::attachment_too_large, "blob of " + num(blob_size) + " bytes is over the " + num(kMaxBlobBytes) + "-byte limit");
    const std::size_t want_key = p.scheme == Scheme::cbc_hmac ? kCbcKeyBytes : kStreamKeyBytes;
    if (p.key.size() != want_key)
        return fail(Errc::attachment_bad_key, scheme + " key: expected " + num(want_key) + " bytes, got " + num(p.key.size()));
    detail::sodium_ready();
    auto im = std::make_unique<Impl>();
    im->scheme = p.scheme;
    im->blob_size = blob_size;
    im->size = p.size;
    switch (p.scheme) {
        case Scheme::cbc_hmac: {
            if (!p.digest) return fail(Errc::attachment_missing_digest, "cbc_hmac pointer has no digest (desktop refuses it too)");
            if (p.digest->size() != kDigestBytes)
                return fail(Errc::attachment_bad_digest, "digest: expected 32 bytes, got " + num(p.digest->size()));
            if (!p.size) return fail(Errc::attachment_size_mismatch, "cbc_hmac needs the pointer's size to remove the padding");
            if (blob_size < kMinCbcBlob)
                return fail(Errc::attachment_truncated, "cbc_hmac blob: expected at least " + num(kMinCbcBlob) + " bytes, got " + num(blob_size));
            if ((blob_size - kCbcIvBytes - kMacBytes) % 16 != 0)
                return fail(Errc::attachment_truncated, "cbc_hmac blob of " + num(blob_size) +
                                                            " bytes: the ciphertext is not a whole number of 16-byte blocks");
            im->cbc_key = Secret<64>(std::span<const std::uint8_t, 64>(p.key.data(), 64));
            std::copy(p.digest->begin(), p.digest->end(), im->digest.begin());
            im->head_len = kCbcIvBytes;
            im->tail_len = kMacBytes;
            if (!im->mac.init(im->cbc_key.reveal().last<32>()) || !im->sha.init())
                return fail(Errc::attachment_crypto, "cannot set up HMAC-SHA256 / SHA-256");
            break;
        }
        case Scheme::gcm:
            if (blob_size < kMinGcmBlob)
                return fail(Errc::attachment_truncated, "gcm blob: expected at least " + num(kMinGcmBlob) + " bytes, got " + num(blob_size));
            im->key32 = Secret<32>(std::span<const std::uint8_t, 32>(p.key.data(), 32));
            im->head_len = kGcmIvBytes;
            im->tail_len = kGcmTagBytes;
            break;
        case Scheme::stream: {
            if (blob_size < kMinStreamBlob)
                return fail(Errc::attachment_truncated,
                            "stream blob: expected at least " + num(kMinStreamBlob) + " bytes, got " + num(blob_size));
            const std::uint64_t body = blob_size - kStreamPrefixBytes;
            const std::uint64_t rest = body % kStreamCipherChunk;
            if (rest != 0 && rest <= kStreamChunkOverhead)
                return fail(Errc::attachment_truncated, "stream blob of " + num(blob_size) +
                                                            " bytes ends with a piece shorter than its 17-byte tag");
            im->pieces = body / kStreamCipherChunk + (rest != 0);
            im->last_piece = rest != 0 ? rest : kStreamCipherChunk;
            im->key32 = Secret<32>(std::span<const std::uint8_t, 32>(p.key.data(), 32));
            im->piece.reserve(kStreamCipherChunk);
            break;
        }
    }
    if (p.size && *p.size > blob_size)
        return fail(Errc::attachment_size_mismatch,
                    "the pointer's size " + num(*p.size) + " is larger than the " + num(blob_size) + "-byte blob");
    return Decryptor(std::move(im));
}

Result<void> Decryptor::update(ByteView blob, Bytes& out) { return impl_->update(blob, out); }
Result<void> Decryptor::finish(Bytes& out) { return impl_->finish(out); }

Result<Bytes> decrypt(const DecryptParams& params, ByteView blob) {
    auto d = Decryptor::create(params, blob.size());
    if (!d) return unexpected(std::move(d).error());
    Decryptor::Impl& im = *d->impl_;
    if (params.scheme == Scheme::cbc_hmac) {
        // Everything verified before a byte is decrypted.
        ByteArray<32> m{}, digest{};
        const ByteView mac_input = blob.first(blob.size() - kMacBytes);
        std::copy(blob.end() - kMacBytes, blob.end(), im.tail.begin());
        if (!im.mac.update(mac_input) || !im.mac.final(m) || !im.sha.update(blob) || !im.sha.final(digest))
            return fail(Errc::attachment_crypto, "HMAC/SHA-256 failed");
        if (auto r = im.check_cbc_auth(m, digest); !r) return unexpected(r.error());
        im.verified = true;
    }
    // The plaintext, and the room decryption needs while it runs, fit in the blob's size.
    Bytes out;
    out.reserve(blob.size());
    if (auto r = d->update(blob, out); !r) return unexpected(r.error());
    if (auto r = d->finish(out); !r) return unexpected(r.error());
    return out;
}

// ---- download URLs ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxFileIdBytes = 64;
constexpr std::size_t kMaxHostBytes = 253;

bool is_id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
bool valid_file_id(std::string_view id) {
    return !id.empty() && id.size() <= kMaxFileIdBytes && std::all_of(id.begin(), id.end(), is_id_char);
}
bool is_host_char(char c) { return (is_id_char(c) && c != '_') || c == '.'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}
bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

Unexpected<Error> bad_url(const std::string& what) {
    return unexpected(Errc::attachment_bad_url, "attachment: download URL: " + what);
}

// A fragment value that must be a 32-byte key in hex.
Result<ByteArray<32>> fragment_key(std::string_view name, std::string_view value) {
    if (value.size() != 64 || !std::all_of(value.begin(), value.end(), is_hex_digit))
        return bad_url("fragment " + std::string(name) + "= must be 64 hex digits, got " + num(value.size()) + " characters");
    return from_hex_array<32>(value);
}

}  // namespace

std::string DownloadUrl::base_url() const {
    const std::uint16_t default_port = scheme == "https" ? 443 : 80;
    return scheme + "://" + host + (port != default_port ? ":" + std::to_string(port) : std::string());
}

Result<DownloadUrl> parse_download_url(std::string_view url) {
    if (url.size() > kMaxUrlBytes)
        return bad_url("longer than " + num(kMaxUrlBytes) + " bytes (" + num(url.size()) + ")");
    DownloadUrl out;
    std::string_view fragment;
    bool has_fragment = false;
    if (auto hash = url.find('#'); hash != std::string_view::npos) {
        fragment = url.substr(hash + 1);
        url = url.substr(0, hash);
        has_fragment = true;
    }
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return bad_url("no scheme (expected http:// or https://)");
    out.scheme = lowered(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") return bad_url("the scheme is not http or https");
    const std::string_view rest = url.substr(sep + 3);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return bad_url("no path (expected /file/<id>)");
    const std::string_view authority = rest.substr(0, slash);
    std::string_view path = rest.substr(slash);

    if (authority.find('@') != std::string_view::npos) return bad_url("user information before the host is not allowed");
    std::string_view host, port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad_url("IPv6 host without a closing ']'");
        host = authority.substr(0, close + 1);
        const std::string_view inner = host.substr(1, host.size() - 2);
        if (inner.empty() || !std::all_of(inner.begin(), inner.end(), [](char c) { return is_hex_digit(c) || c == ':' || c == '.'; }))
            return bad_url("the IPv6 host has characters other than hex digits, ':' and '.'");
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad_url("unexpected characters after the IPv6 host");
            port_text = after.substr(1);
            if (port_text.empty()) return bad_url("empty port");
        }
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return bad_url("empty port");
        }
        if (host.empty()) return bad_url("empty host");
        if (host.size() > kMaxHostBytes) return bad_url("host longer than " + num(kMaxHostBytes) + " characters");
        for (std::size_t i = 0; i < host.size(); ++i)
            if (!is_host_char(host[i]))
                return bad_url("the host has a character other than letters, digits, '-' and '.' at position " + num(i));
    }
    out.host = lowered(host);
    if (!port_text.empty()) {
        if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return bad_url("the port is not a number of at most 5 digits");
        const unsigned long port = std::stoul(std::string(port_text));
        if (port == 0 || port > 65535) return bad_url("port " + num(port) + " is not in 1..65535");
        out.port = static_cast<std::uint16_t>(port);
    } else {
        out.port = out.scheme == "https" ? 443 : 80;
    }

    if (path.find('?') != std::string_view::npos) return bad_url("a query string is not allowed");
    if (path.starts_with("/file/")) {
        path.remove_prefix(6);
    } else if (path.starts_with("/files/")) {
        path.remove_prefix(7);
        out.legacy_path = true;
    } else {
        return bad_url("the path must be /file/<id> or /files/<id>");
    }
    if (!valid_file_id(path)) return bad_url("the file id must be 1 to 64 characters of A-Z a-z 0-9 - _");
    out.file_id = std::string(path);

    // Fragment parameters; the first p= / e= wins, as URLSearchParams.get does in desktop.
    bool seen_p = false, seen_e = false;
    while (has_fragment) {
        const auto amp = fragment.find('&');
        const std::string_view param = fragment.substr(0, amp);
        if (param == "d" || param.starts_with("d=")) {
            out.deterministic = true;
        } else if (param.starts_with("p=") && !seen_p) {
            auto k = fragment_key("p", param.substr(2));
            if (!k) return unexpected(std::move(k).error());
            out.server_pubkey = *k;
            seen_p = true;
        } else if (param.starts_with("e=") && !seen_e) {
            auto k = fragment_key("e", param.substr(2));
            if (!k) return unexpected(std::move(k).error());
            out.encryption_key = *k;
            seen_e = true;
        }
        if (amp == std::string_view::npos) break;
        fragment.remove_prefix(amp + 1);
    }
    return out;
}

std::string download_url(std::string_view base_url, std::string_view file_id,
                         const std::optional<ByteArray<32>>& server_pubkey, bool deterministic) {
    if (!valid_file_id(file_id))
        throw std::invalid_argument("attachment: download_url: file id must be 1 to 64 characters of A-Z a-z 0-9 - _");
    if (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
    std::string url = std::string(base_url) + "/file/" + std::string(file_id);
    if (server_pubkey || deterministic) url += '#';
    if (server_pubkey) url += "p=" + to_hex(*server_pubkey);
    if (deterministic) url += server_pubkey ? "&d" : "d";
    return url;
}

}  // namespace session::attachment
