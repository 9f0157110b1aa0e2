#pragma once
// envelope.hpp: Session 1:1 message sealing and opening (protocol.md §2.1–2.5).
//
//   M   = pad(Content protobuf)                      (§2.4: Content || 0x80 || 0x00…)
//   A   = sender Ed25519 public key,  Y = recipient X25519 public key
//   SIG = Ed25519-sign(M || A || Y)                  (binds the message to its recipient)
//   C   = crypto_box_seal(M || A || SIG, Y)          (eph_pk(32) || MAC(16) || ciphertext)
//   Envelope{type = SESSION_MESSAGE(6), timestamp, sourceDevice = 1, content = C, proSig}
//   WebSocketMessage{type = REQUEST, request{verb "", path "", body = Envelope, requestId 0}}
//   swarm `data` = base64(WebSocketMessage bytes), stored in the recipient's namespace 0.
// Sources: libsession-util src/session_encrypt.cpp (encrypt_for_recipient, decrypt_incoming,
// encrypt_for_recipient_deterministic); src/session_protocol.cpp (encode_for_1o1, pad_message,
// unpad_message, decode_envelope); session-desktop ts/session/messages/outgoing/*.ts (Content
// layout) and ts/receiver/common.ts (sigTimestamp check).
//
// All functions are pure (apart from libsodium's CSPRNG in the randomised ones) and thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/proto_wire.hpp"

namespace session::envelope {

inline constexpr std::size_t kSealedBoxOverheadBytes = 32 + 16;  // ephemeral key + MAC
/// Smallest sealed ciphertext: box overhead + A (32) + SIG (64), with an empty M.
inline constexpr std::size_t kMinCiphertextBytes = kSealedBoxOverheadBytes + 32 + kEd25519SignatureBytes;
/// Padding block (libsession COMMUNITY_OR_1O1_MSG_PADDING; desktop BufferPadding.ts).
inline constexpr std::size_t kPaddingBlockBytes = 160;
inline constexpr std::uint8_t kPaddingTerminator = 0x80;
/// Largest swarm message open() looks at. The storage server caps a stored message at 76,800
/// bytes of base64; 10 MiB leaves ample room and still bounds work on hostile input.
inline constexpr std::size_t kMaxMessageBytes = 10 * 1024 * 1024;
/// Envelope.sourceDevice as libsession (and before it session-ios/android) sets it.
inline constexpr std::uint32_t kSourceDevice = 1;
inline constexpr std::size_t kProSigBytes = 64;

// ------------------------------------------------------------------------------ padding

enum class PaddingRule {
    /// libsession pad_message (desktop since it delegated 1:1 encoding to libsession):
    /// total length L + 1 + (160 - (L + 1) % 160), a multiple of 160.
    current,
    /// historic desktop BufferPadding.ts: total length 160 * ceil((L + 2) / 160) - 1 (159, 319, …).
    legacy,
};

/// content || 0x80 || zeros, to the length the rule gives. Never fails.
Bytes pad(ByteView content, PaddingRule rule = PaddingRule::current);
/// libsession unpad_message (lenient, §2.4): drop trailing 0x00 bytes, then one 0x80 if it is the
/// next byte. A non-zero, non-0x80 byte ends the scan (the data is taken as unpadded; trailing
/// zeros are still dropped, exactly as libsession does). Never fails.
Bytes unpad(ByteView padded);
/// Strict check used for diagnostics and tests: the 0x80 terminator must be present and the total
/// length must be what one of the two rules gives for the unpadded length.
/// Errors: envelope_bad_padding.
[[nodiscard]] Result<Bytes> unpad_strict(ByteView padded);

// ------------------------------------------------------------------------------ 1:1 encryption

struct Decrypted {
    Bytes plaintext;                  ///< M (still padded)
    Ed25519PublicKey sender_ed25519;  ///< A, verified by the signature
    SessionId sender;                 ///< "05" + X25519(A)
};

/// encrypt_for_recipient: C = crypto_box_seal(M || A || SIG(M || A || Y), Y) with a random
/// ephemeral key. Errors: key_invalid (Y is a low-order point, the box cannot be made).
[[nodiscard]] Result<Bytes> encrypt_for_recipient(const Identity& from, const X25519PublicKey& to, ByteView message);
/// encrypt_for_recipient_deterministic (§2.2): the ephemeral seed is
/// BLAKE2b-32(ed_seed32 || Y || M; key = "SessionBoxEphemeralHashKey"); output has the sealed-box
/// format. Only for known-answer tests and legacy self-sent config messages: the same inputs give
/// the same bytes, which reveals repeated messages. Errors: key_invalid.
[[nodiscard]] Result<Bytes> encrypt_for_recipient_deterministic(const Identity& from, const X25519PublicKey& to,
                                                                ByteView message);
/// decrypt_incoming (§2.3). Errors: envelope_too_short (< kMinCiphertextBytes),
/// envelope_decrypt_failed (not sealed for us / corrupted), envelope_bad_signature (SIG does not
/// verify over M || A || our X25519 key: forged, or sealed to someone else and forwarded),
/// envelope_bad_sender_key (A has no X25519 form).
[[nodiscard]] Result<Decrypted> decrypt_incoming(const Identity& self, ByteView ciphertext);

// ------------------------------------------------------------------------------ outgoing Content

/// What a visible 1:1 message carries. Mirrors session-desktop VisibleMessage + DataMessage +
/// ExpirableMessage + ContentMessage (see build_content for each field's source).
struct OutgoingMessage {
    std::string body;
    std::int64_t timestamp_ms = 0;  ///< network time; becomes Envelope.timestamp and sigTimestamp
    std::optional<std::string> display_name;
    /// LokiProfile.lastProfileUpdateSeconds: when the profile last changed. Desktop always sends
    /// it with the profile; if unset, timestamp_ms / 1000 is sent (the profile is as new as this
    /// message), so recipients always apply the name.
    std::optional<std::uint64_t> profile_updated_seconds;
    /// Avatar: both or neither (desktop sends profilePicture + profileKey only together).
    std::optional<std::string> profile_picture_url;
    std::optional<Bytes> profile_key;
    /// Disappearing mode and timer (session::ExpirationType; delete_after_read is the 1:1 default
    /// in the official apps). The timer is sent only with a mode (0 when none).
    ExpirationType expiration_type = ExpirationType::none;
    std::chrono::seconds expiration_timer{0};
    std::vector<proto::AttachmentPointer> attachments;
    std::optional<proto::Quote> quote;
    std::vector<proto::Preview> preview;
    std::optional<proto::Reaction> reaction;
    std::optional<std::string> sync_target;  ///< set on the copy sent to our own swarm
};

/// The Content desktop would build for `m`: dataMessage{body?, attachments, quote?, preview,
/// reaction?, profile?, profileKey?, syncTarget?}, expirationType (always, UNKNOWN when none),
/// expirationTimer (always), sigTimestamp = timestamp_ms. Never sets the legacy
/// DataMessage.expireTimer or DataMessage.timestamp. Throws std::invalid_argument for a
/// negative timestamp (a caller's bug).
proto::Content build_content(const OutgoingMessage& m);

/// Content.expirationType/expirationTimer for a disappearing setting (used by control messages
/// too). Throws std::invalid_argument for a timer outside 0 … 2^32-1 s (a caller's bug).
void set_expiration(proto::Content& content, ExpirationType type, std::chrono::seconds timer);

// ------------------------------------------------------------------------------ wire stack

/// Wraps an encrypted Content: Envelope{SESSION_MESSAGE, timestamp, sourceDevice 1, content, proSig}
/// inside WebSocketMessage{REQUEST, request{verb "", path "", body, requestId 0}}. `pro_sig` must
/// be 64 bytes (a decoy when the sender has no Session Pro). Returns the WebSocketMessage bytes.
Bytes wrap(ByteView ciphertext, std::uint64_t timestamp_ms, ByteView pro_sig);

/// A decoy Session Pro signature exactly as libsession makes one for non-Pro senders: R = r·B for
/// a random scalar r, then a second random scalar s (so it looks like a real signature).
ByteArray<kProSigBytes> decoy_pro_sig();

/// seal: pad(content.encode()) -> encrypt_for_recipient -> wrap. Returns the WebSocketMessage
/// bytes (base64 them with to_swarm_data for a `store`). If content.sig_timestamp is unset it is
/// set to `timestamp_ms`; if it is set to anything else the call fails (desktop refuses to build a
/// Content without it, and receivers drop a mismatch).
/// Errors: invalid_argument (negative timestamp, sigTimestamp mismatch), key_invalid.
[[nodiscard]] Result<Bytes> seal(const Identity& from, const SessionId& to, const proto::Content& content,
                                 std::int64_t timestamp_ms, PaddingRule rule = PaddingRule::current);
/// seal(from, to, build_content(m), m.timestamp_ms).
[[nodiscard]] Result<Bytes> seal(const Identity& from, const SessionId& to, const OutgoingMessage& m);

/// base64 of sealed bytes: the `data` field of a storage `store` request.
std::string to_swarm_data(ByteView sealed);
/// The bytes of a retrieved message's `data`. Errors: base64_invalid.
[[nodiscard]] Result<Bytes> from_swarm_data(std::string_view data);

// ------------------------------------------------------------------------------ incoming

}  // namespace session::envelope

namespace session {

/// What an opened message is (from which Content field it came; protocol.md §3.3), the one name
/// for it in every layer. Precedence as session-desktop's content handler: dataMessage, receipt,
/// typing, data extraction, unsend, call, message request response.
enum class MessageKind {
    text,                      ///< a visible DataMessage: body and/or attachments, quote, preview
    expiration_timer_update,   ///< DataMessage.flags has EXPIRATION_TIMER_UPDATE (2)
    reaction,                  ///< a DataMessage carrying a Reaction (react or remove)
    sync,                      ///< our own outgoing message copied to our swarm (DataMessage.syncTarget)
    receipt,                   ///< ReceiptMessage (delivery/read)
    typing,                    ///< TypingMessage
    unsend,                    ///< UnsendRequest
    data_extraction,           ///< DataExtractionNotification (screenshot / media saved)
    message_request_response,  ///< MessageRequestResponse (request accepted)
    call,                      ///< CallMessage signalling (kept in content.unknown_fields)
    other,                     ///< anything else (group updates, configs, empty Content, future fields)
};
/// The kind's name as above ("text", "expiration_timer_update", …): what session-cli prints.
std::string_view to_string(MessageKind kind) noexcept;

}  // namespace session

namespace session::envelope {

/// An opened 1:1 message. The sender comes from the Ed25519 key inside the signed plaintext,
/// never from Envelope.source.
struct Message {
    SessionId sender;
    Ed25519PublicKey sender_ed25519;
    MessageKind kind = MessageKind::other;
    std::string body{};                    ///< DataMessage.body, or "" if none
    std::int64_t envelope_timestamp_ms = 0;  ///< Envelope.timestamp (unauthenticated by itself)
    std::optional<std::int64_t> sig_timestamp_ms{};  ///< Content.sigTimestamp (signed)
    ExpirationType expiration_type = ExpirationType::none;  ///< none also for an unknown wire value or a 0 timer
    std::chrono::seconds expiration_timer{0};              ///< 0 when expiration_type is none
    std::vector<proto::AttachmentPointer> attachments{};
    std::optional<std::string> display_name{};  ///< DataMessage.profile or MessageRequestResponse.profile
    std::optional<std::string> envelope_source{};  ///< Envelope.source if present (not trusted)
    std::optional<std::uint64_t> server_timestamp{};
    bool padded = false;  ///< a 0x80 padding terminator was found
    proto::Content content{};
};

/// Opens one swarm message (the raw bytes of `data`: a WebSocketMessage wrapping an Envelope).
/// Checks, each with its own error, in this order:
///   envelope_too_large (> kMaxMessageBytes), envelope_malformed (WebSocketMessage or Envelope does
///   not parse), envelope_not_request (no `request`), envelope_no_body (request without body),
///   envelope_bad_type (Envelope.type neither SESSION_MESSAGE nor CLOSED_GROUP_MESSAGE),
///   envelope_bad_source (source neither empty nor 66 hex), envelope_no_content,
///   envelope_bad_pro_sig (proSig not 64 bytes), then decrypt_incoming's errors, then
///   envelope_bad_content (Content does not parse), envelope_timestamp_mismatch (sigTimestamp
///   present, non-zero and != Envelope.timestamp), envelope_malformed (timestamp > 2^63-1).
/// A bare Envelope (not wrapped) is rejected with envelope_not_request, as libsession's
/// decode_envelope rejects it. WebSocketMessage.type is not checked (libsession does not either).
[[nodiscard]] Result<Message> open(const Identity& self, ByteView data);

}  // namespace session::envelope
