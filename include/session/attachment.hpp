#pragma once
// attachment.hpp: encrypting and decrypting attachments and profile pictures for the Session file
// server, and reading its download URLs (protocol.md §3.5, §6, §6.1).
//
// Three blob formats. P = the plaintext, n = |P|.
//
//  cbc_hmac — legacy attachments, what session-desktop sends by default. Key K = aesKey(32) || macKey(32).
//     P'     = P || 0x00 … up to padded_size(n)            (desktop addAttachmentPadding)
//     C      = AES-256-CBC(aesKey, IV, PKCS#7(P'))          IV = 16 random bytes
//     blob   = IV || C || HMAC-SHA256(macKey, IV || C)
//     digest = SHA-256(blob), carried in AttachmentPointer.digest; size = n in AttachmentPointer.size.
//     Receiving: verify the MAC (constant time), then the digest (a pointer without one is refused),
//     then decrypt and cut the result to the pointer's size.
//     Source: session-desktop ts/util/crypto/attachmentsEncrypter.ts, ts/session/crypto/BufferPadding.ts,
//     ts/receiver/attachments.ts.
//
//  stream — the deterministic 'S' scheme (URL fragment `d`). Key = 32 bytes, no digest.
//     header(24) || key(32) = BLAKE2b-56(P; key = seed[0:32], personal = "SessionAttachmnt" (attachments)
//                                                                     or "Session_Prof_Pic" (profile pictures))
//     Q      = 0x00 × (pad − 1) || 0x01 || P,   pad = stream_padding(n) ≥ 1
//     blob   = 'S' || header || crypto_secretstream_xchacha20poly1305 with that header and key, pushing
//              Q in 32 KiB pieces (each +17 bytes), the last one tagged FINAL.
//     Receiving: check 'S', pull every 32 KiB + 17 piece, drop zeros up to the 0x01 marker, require
//     FINAL on the last piece and nowhere else (the padding formula is never needed to decrypt).
//     Source: libsession-util src/attachments.cpp (encrypt, decrypt, encrypted_padding).
//
//  gcm — legacy profile pictures (LokiProfile.profilePicture with DataMessage.profileKey).
//     blob   = IV(12) || AES-256-GCM(profileKey, IV, P) || tag(16)
//     Source: session-desktop ts/util/crypto/profileEncrypter.ts.
//
// Streaming: an Encryptor or Decryptor is fed the input in pieces of any size and appends its output
// to a caller's buffer, so a 10 MB file goes from disk to a blob (or from a blob to disk) without a
// second full copy. The whole-buffer functions below are built on them.
//
// Keys come out as SecretBuffer / Secret (wiped on destruction); keys going in are borrowed views
// of what the AttachmentPointer carried and are copied only into wiped storage.
//
// Thread safety: every free function is reentrant; an Encryptor or Decryptor is used by one thread
// at a time. The Rng passed in must be usable from the calling thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/rng.hpp"

namespace session::attachment {

// ---- formats and limits ----------------------------------------------------------------------

enum class Scheme {
    cbc_hmac,  // legacy attachments (desktop default): 64-byte key, digest
    stream,    // deterministic 'S' secretstream (#d URLs): 32-byte key, no digest
    gcm,       // legacy profile pictures: 32-byte profile key
};

/// The personalisation of the stream scheme's key derivation: the same file sent as an attachment
/// and as a profile picture gets unrelated keys.
enum class Domain {
    attachment,       // "SessionAttachmnt"
    profile_picture,  // "Session_Prof_Pic"
};

/// "cbc_hmac", "stream", "gcm".
std::string_view to_string(Scheme s) noexcept;

/// The largest file a client uploads (desktop MAX_ATTACHMENT_FILESIZE_BYTES, libsession
/// max_file_size). Encryptors refuse a larger plaintext before doing any work.
inline constexpr std::uint64_t kMaxPlaintextBytes = 10'000'000;
/// The largest blob any decryptor accepts: what libsession's stream scheme makes of its largest
/// regular input (MAX_REGULAR_SIZE 10,218,286 → 10,223,616 bytes). Larger blobs are refused before
/// any work; cbc_hmac blobs of official clients stay at or below 10,000,064 bytes.
inline constexpr std::uint64_t kMaxBlobBytes = 10'223'616;

inline constexpr std::size_t kCbcKeyBytes = 64;   // aesKey || macKey
inline constexpr std::size_t kCbcIvBytes = 16;
inline constexpr std::size_t kMacBytes = 32;      // HMAC-SHA256
inline constexpr std::size_t kDigestBytes = 32;   // SHA-256
/// desktop's smallest padded size (addAttachmentPadding's floor).
inline constexpr std::size_t kMinPaddedBytes = 541;

inline constexpr std::size_t kStreamKeyBytes = 32;
inline constexpr std::size_t kStreamHeaderBytes = 24;      // crypto_secretstream_xchacha20poly1305_HEADERBYTES
inline constexpr std::size_t kStreamChunkBytes = 32768;    // plaintext per secretstream message
inline constexpr std::size_t kStreamChunkOverhead = 17;    // crypto_secretstream_xchacha20poly1305_ABYTES
inline constexpr std::uint8_t kStreamPrefix = 0x53;        // 'S'

inline constexpr std::size_t kGcmKeyBytes = 32;
inline constexpr std::size_t kGcmIvBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

/// How a cbc_hmac plaintext is padded before encryption. Desktop pads attachments
/// (`desktop`) but uploads link-preview images unpadded (`none`).
enum class Padding { desktop, none };

/// desktop's padded size of an n-byte attachment: max(541, floor(1.05^ceil(log(n) / log(1.05)))),
/// capped at 10,000,000 when n itself is at most that; never less than n.
std::uint64_t padded_size(std::uint64_t n) noexcept;
/// The stream scheme's padding for an n-byte plaintext (libsession encrypted_padding): the number
/// of bytes (≥ 1, the last one 0x01) put before the plaintext.
std::uint64_t stream_padding(std::uint64_t n) noexcept;
/// The exact blob size of an n-byte plaintext. cbc_hmac with Padding::desktop unless `padding` says
/// otherwise (ignored for the other schemes).
std::uint64_t encrypted_size(Scheme s, std::uint64_t n, Padding padding = Padding::desktop) noexcept;

// ---- encryption ------------------------------------------------------------------------------

/// What goes into the AttachmentPointer (or LokiProfile) beside the URL.
struct Sealed {
    Scheme scheme = Scheme::cbc_hmac;
    SecretBuffer key;                     // 64 bytes (cbc_hmac) or 32 (stream, gcm)
    std::optional<ByteArray<32>> digest;  // cbc_hmac only: SHA-256 of the blob
    std::uint64_t size = 0;               // plaintext size (AttachmentPointer.size)
};

/// A whole encrypted file.
struct Encrypted {
    Bytes blob;
    Sealed sealed;
};

/// The stream scheme's key and header, derived from the whole plaintext (the first of its two
/// passes). The header is public (it is bytes 1..24 of the blob); the key is what the recipient gets.
struct StreamKey {
    Secret<32> key;
    ByteArray<24> header{};
};

/// Pass one of the stream scheme: BLAKE2b-56 keyed with the sender's seed over the plaintext.
/// Move-only; the hash state (which holds the seed) is wiped on destruction.
class StreamKeyHasher {
public:
    /// `seed` = the sender's 32-byte Ed25519 seed (libsession uses the Session seed; any 32 bytes work).
    StreamKeyHasher(const Secret<32>& seed, Domain domain);
    ~StreamKeyHasher();
    StreamKeyHasher(StreamKeyHasher&&) noexcept;
    StreamKeyHasher& operator=(StreamKeyHasher&&) noexcept;
    StreamKeyHasher(const StreamKeyHasher&) = delete;
    StreamKeyHasher& operator=(const StreamKeyHasher&) = delete;

    /// Hashes the next plaintext bytes. Throws std::logic_error after finish().
    void update(ByteView plaintext);
    /// The derived key and header. Throws std::logic_error if called twice.
    [[nodiscard]] StreamKey finish();

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// Encrypts a plaintext of a size declared up front, fed in pieces of any size.
///   auto enc = Encryptor::cbc_hmac(size, rng);          // or ::stream(key, size), ::gcm(key, size, rng)
///   Bytes blob; blob.reserve(enc->blob_size());
///   while (more) REQUIRE_OK(enc->update(piece, blob));  // appends blob bytes
///   auto sealed = enc->finish(blob);                    // the rest of the blob, and the pointer fields
/// Move-only; every key, cipher context and secretstream state is wiped or freed on destruction.
class Encryptor {
public:
    /// cbc_hmac with a fresh 64-byte key and 16-byte IV from `rng`.
    /// Errors: attachment_too_large (plaintext_size > kMaxPlaintextBytes), attachment_crypto.
    [[nodiscard]] static Result<Encryptor> cbc_hmac(std::uint64_t plaintext_size, Rng& rng,
                                                    Padding padding = Padding::desktop);
    /// cbc_hmac with a given key and IV (known-answer tests; never reuse an IV with a key).
    [[nodiscard]] static Result<Encryptor> cbc_hmac(const Secret<64>& key, std::span<const std::uint8_t, 16> iv,
                                                    std::uint64_t plaintext_size, Padding padding = Padding::desktop);
    /// stream with the key and header of StreamKeyHasher (normally over the same plaintext).
    /// Errors: attachment_too_large.
    [[nodiscard]] static Result<Encryptor> stream(const StreamKey& key, std::uint64_t plaintext_size);
    /// gcm (profile picture) with the 32-byte profile key and a fresh IV from `rng`.
    /// Errors: attachment_too_large, attachment_crypto.
    [[nodiscard]] static Result<Encryptor> gcm(const Secret<32>& profile_key, std::uint64_t plaintext_size, Rng& rng);
    /// gcm with a given IV (known-answer tests; never reuse an IV with a key).
    [[nodiscard]] static Result<Encryptor> gcm(const Secret<32>& profile_key, std::span<const std::uint8_t, 12> iv,
                                               std::uint64_t plaintext_size);

    ~Encryptor();
    Encryptor(Encryptor&&) noexcept;
    Encryptor& operator=(Encryptor&&) noexcept;
    Encryptor(const Encryptor&) = delete;
    Encryptor& operator=(const Encryptor&) = delete;

    Scheme scheme() const noexcept;
    /// The exact size of the whole blob (encrypted_size of the declared plaintext size).
    std::uint64_t blob_size() const noexcept;
    /// Encrypts the next plaintext bytes and appends the blob bytes that are ready to `out`.
    /// Errors: attachment_size_mismatch (more bytes than declared), attachment_crypto.
    /// After an error the Encryptor refuses everything (the same error again).
    [[nodiscard]] Result<void> update(ByteView plaintext, Bytes& out);
    /// Appends the rest of the blob and returns the pointer fields (the digest for cbc_hmac).
    /// Errors: attachment_size_mismatch (fewer bytes than declared), attachment_crypto; a logic_error
    /// if called twice.
    [[nodiscard]] Result<Sealed> finish(Bytes& out);

    struct Impl;

private:
    explicit Encryptor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// A whole cbc_hmac blob (random key and IV from `rng`). Errors: as Encryptor.
[[nodiscard]] Result<Encrypted> encrypt_cbc_hmac(ByteView plaintext, Rng& rng, Padding padding = Padding::desktop);
/// A whole stream blob: both passes over `plaintext`. Errors: as Encryptor.
[[nodiscard]] Result<Encrypted> encrypt_stream(const Secret<32>& seed, Domain domain, ByteView plaintext);
/// A whole gcm blob (random IV from `rng`). Errors: as Encryptor.
[[nodiscard]] Result<Encrypted> encrypt_gcm(const Secret<32>& profile_key, ByteView plaintext, Rng& rng);

// ---- decryption ------------------------------------------------------------------------------

/// What the receiver knows from the AttachmentPointer (or profile) and the URL. Views: the caller
/// keeps them alive while creating the Decryptor (it copies the key into wiped storage).
struct DecryptParams {
    Scheme scheme = Scheme::cbc_hmac;
    ByteView key;                              // 64 bytes (cbc_hmac) or 32 (stream, gcm)
    std::optional<ByteView> digest;            // cbc_hmac: required, 32 bytes; ignored otherwise
    /// The plaintext size (AttachmentPointer.size): the output is cut to it, and a shorter
    /// plaintext is an error. Required for cbc_hmac (its padding is not self-delimiting); optional
    /// for stream and gcm (profile pictures carry none).
    std::optional<std::uint64_t> size;
};

/// Decrypts a blob of a size known up front, fed in pieces of any size.
///
/// CONTRACT: bytes appended to `out` by update() are NOT authenticated until finish() succeeds
/// (cbc_hmac verifies its MAC and digest over the whole blob; stream needs its FINAL tag; gcm its
/// tag). Write them somewhere temporary (a buffer, a temp file) and discard them on any error; use
/// decrypt() to get verified bytes only. Move-only; keys and states are wiped on destruction.
class Decryptor {
public:
    /// Checks everything knowable before any work: key and digest lengths, the digest's presence
    /// (cbc_hmac), the blob size against kMaxBlobBytes and the scheme's layout.
    /// Errors: attachment_bad_key, attachment_missing_digest, attachment_bad_digest (not 32 bytes),
    /// attachment_size_mismatch (cbc_hmac without a size), attachment_too_large, attachment_truncated
    /// (too short, or a length the format cannot have), attachment_crypto.
    [[nodiscard]] static Result<Decryptor> create(const DecryptParams& params, std::uint64_t blob_size);

    ~Decryptor();
    Decryptor(Decryptor&&) noexcept;
    Decryptor& operator=(Decryptor&&) noexcept;
    Decryptor(const Decryptor&) = delete;
    Decryptor& operator=(const Decryptor&) = delete;

    /// Feeds the next blob bytes; appends plaintext that is ready (unauthenticated, see above).
    /// Errors: attachment_size_mismatch (more bytes than blob_size), attachment_bad_format,
    /// attachment_decrypt_failed, attachment_crypto. After an error it refuses everything.
    [[nodiscard]] Result<void> update(ByteView blob, Bytes& out);
    /// Verifies and appends the rest. Errors: attachment_truncated (fewer bytes than blob_size),
    /// attachment_bad_mac, attachment_bad_digest, attachment_decrypt_failed, attachment_bad_format,
    /// attachment_size_mismatch (plaintext shorter than params.size), attachment_crypto.
    [[nodiscard]] Result<void> finish(Bytes& out);

    struct Impl;

private:
    // decrypt() checks a cbc_hmac blob's MAC and digest before the Decryptor decrypts it.
    friend Result<Bytes> decrypt(const DecryptParams& params, ByteView blob);
    explicit Decryptor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Decrypts a whole blob; nothing is returned unless everything verified. For cbc_hmac the MAC and
/// the digest are checked over the whole blob before a byte is decrypted. Errors: as Decryptor.
[[nodiscard]] Result<Bytes> decrypt(const DecryptParams& params, ByteView blob);

// ---- download URLs ---------------------------------------------------------------------------

/// A file-server download URL: `http(s)://host[:port]/file/<id>` (or the legacy `/files/<id>`)
/// with an optional fragment of `&`-separated parameters:
///   p=<64 hex>  the server's key — session-desktop writes its Ed25519 key, libsession parses it as
///               the X25519 key: compare it with both keys of a known server;
///   d (or d=…)  the blob uses the stream scheme;
///   e=<64 hex>  an encryption key (desktop's profile-picture URLs);
/// other parameters (e.g. libsession's sr=) are ignored, as both clients do.
struct DownloadUrl {
    std::string scheme;      // "http" or "https" (lower case)
    std::string host;        // lower case; an IPv6 literal keeps its brackets
    std::uint16_t port = 0;  // explicit, else 80 / 443
    std::string file_id;     // 1..64 characters of [A-Za-z0-9_-]
    bool legacy_path = false;                      // /files/<id>
    std::optional<ByteArray<32>> server_pubkey;    // p=
    std::optional<ByteArray<32>> encryption_key;   // e=
    bool deterministic = false;                    // d

    /// "scheme://host[:port]" (the port only when it is not the scheme's default).
    std::string base_url() const;
    /// The endpoint of the file on its server: "/file/<id>" (also for a legacy URL).
    std::string endpoint() const { return "/file/" + file_id; }
};

/// The longest URL parse_download_url reads.
inline constexpr std::size_t kMaxUrlBytes = 2048;

/// Parses a download URL. Errors: attachment_bad_url with what is wrong and where (scheme, host,
/// port, path, id, query, a malformed p=/e= value, length over kMaxUrlBytes).
[[nodiscard]] Result<DownloadUrl> parse_download_url(std::string_view url);

/// The URL to share for `file_id` on the server at `base_url` ("http(s)://host[:port]"):
/// base_url + "/file/" + file_id, then "#p=<hex>" when `server_pubkey` is given and "d" for the
/// stream scheme, joined by '&' ("d" bare, the form both desktop and libsession parse).
/// Throws std::invalid_argument if file_id is not 1..64 of [A-Za-z0-9_-] (a caller's bug).
std::string download_url(std::string_view base_url, std::string_view file_id,
                         const std::optional<ByteArray<32>>& server_pubkey, bool deterministic);

}  // namespace session::attachment
