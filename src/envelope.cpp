// envelope.cpp: 1:1 sealing/opening. Formulas and sources are in envelope.hpp; comments here say
// why a choice was made and which official client behaviour it mirrors.
#include "session/envelope.hpp"

#include <sodium.h>

#include <array>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "detail/crypto.hpp"

namespace session::envelope {

namespace {

constexpr std::string_view kEphemeralHashKey = "SessionBoxEphemeralHashKey";  // libsession session_encrypt.cpp
constexpr std::size_t kSessionIdHexChars = 66;

Bytes concat(std::initializer_list<ByteView> parts) {
    std::size_t n = 0;
    for (auto p : parts) n += p.size();
    Bytes out;
    out.reserve(n);
    for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

/// inner = M || A || SIG(M || A || Y): the signature covers the recipient key, so a message
/// cannot be re-sealed to someone else and still verify (surreptitious forwarding).
Bytes signed_inner(const Identity& from, const X25519PublicKey& to, ByteView message) {
    const Bytes to_sign = concat({message, from.ed25519_public().view(), to.view()});
    const Ed25519Signature sig = from.sign(to_sign);
    return concat({message, from.ed25519_public().view(), sig});
}

std::size_t padded_length(std::size_t len, PaddingRule rule) {
    if (rule == PaddingRule::legacy) {
        // 160 * ceil((L + 2) / 160) - 1
        return kPaddingBlockBytes * ((len + 2 + kPaddingBlockBytes - 1) / kPaddingBlockBytes) - 1;
    }
    // L + 1 + (160 - (L + 1) % 160): a whole extra block when L + 1 is already a multiple.
    return len + 1 + (kPaddingBlockBytes - (len + 1) % kPaddingBlockBytes);
}

/// libsession unpad_message: returns the unpadded length and whether a 0x80 was found.
std::pair<std::size_t, bool> scan_padding(ByteView padded) {
    std::size_t n = padded.size();
    while (n > 0) {
        const std::uint8_t b = padded[n - 1];
        if (b != 0 && b != kPaddingTerminator) return {n, false};
        --n;
        if (b == kPaddingTerminator) return {n, true};
    }
    return {n, false};
}

bool has_field(ByteView unknown_fields, std::uint32_t number) {
    proto::Reader r(unknown_fields);
    while (!r.at_end()) {
        auto f = r.next();
        if (!f) return false;
        if (f->number == number) return true;
    }
    return false;
}

// The disappearing mode a received Content asks for: none without a timer or for a wire value
// outside the known ones.
ExpirationType expiration_of(const proto::Content& c) {
    if (!c.expiration_type || c.expiration_timer.value_or(0) == 0) return ExpirationType::none;
    switch (*c.expiration_type) {
        case ExpirationType::delete_after_read:
        case ExpirationType::delete_after_send: return *c.expiration_type;
        default: return ExpirationType::none;
    }
}

// `from_self`: the signed sender is the opening identity (a sync copy names its real recipient in
// syncTarget).
MessageKind kind_of(const proto::Content& c, bool from_self) {
    // Same precedence as session-desktop innerHandleSwarmContentMessage (ts/receiver/contentMessage.ts):
    // dataMessage, receipt, typing, data extraction, unsend, call, message request response.
    if (c.data_message) {
        const auto& d = *c.data_message;
        if (d.flags && (*d.flags & proto::DataMessage::kFlagExpirationTimerUpdate))
            return MessageKind::expiration_timer_update;
        if (d.reaction) return MessageKind::reaction;
        if ((d.body && !d.body->empty()) || !d.attachments.empty() || d.quote || !d.preview.empty() ||
            d.open_group_invitation)
            return from_self && d.sync_target ? MessageKind::sync : MessageKind::text;
        return MessageKind::other;
    }
    if (c.receipt_message) return MessageKind::receipt;
    if (c.typing_message) return MessageKind::typing;
    if (c.data_extraction_notification) return MessageKind::data_extraction;
    if (c.unsend_request) return MessageKind::unsend;
    if (has_field(c.unknown_fields, 3)) return MessageKind::call;  // Content.callMessage
    if (c.message_request_response) return MessageKind::message_request_response;
    return MessageKind::other;
}

}  // namespace

// ------------------------------------------------------------------------------ padding

Bytes pad(ByteView content, PaddingRule rule) {
    Bytes out(padded_length(content.size(), rule), 0);
    std::copy(content.begin(), content.end(), out.begin());
    out[content.size()] = kPaddingTerminator;
    return out;
}

Bytes unpad(ByteView padded) {
    const auto [n, found] = scan_padding(padded);
    (void)found;
    return Bytes(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(n));
}

Result<Bytes> unpad_strict(ByteView padded) {
    const auto [n, found] = scan_padding(padded);
    if (!found)
        return unexpected(Errc::envelope_bad_padding, "envelope: padding: no 0x80 terminator before the trailing zeros (" +
                                                          std::to_string(padded.size()) + " bytes)");
    const std::size_t cur = padded_length(n, PaddingRule::current);
    const std::size_t old = padded_length(n, PaddingRule::legacy);
    if (padded.size() != cur && padded.size() != old)
        return unexpected(Errc::envelope_bad_padding, "envelope: padding: content of " + std::to_string(n) +
                                                          " bytes should pad to " + std::to_string(cur) + " or " +
                                                          std::to_string(old) + " bytes, got " +
                                                          std::to_string(padded.size()));
    return Bytes(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(n));
}

// ------------------------------------------------------------------------------ encryption

Result<Bytes> encrypt_for_recipient(const Identity& from, const X25519PublicKey& to, ByteView message) {
    detail::sodium_ready();
    const Bytes inner = signed_inner(from, to, message);
    Bytes out(inner.size() + crypto_box_SEALBYTES);
    if (crypto_box_seal(out.data(), inner.data(), inner.size(), to.bytes.data()) != 0)
        return unexpected(Errc::key_invalid, "envelope: crypto_box_seal failed: the recipient X25519 key is a low-order point");
    return out;
}

Result<Bytes> encrypt_for_recipient_deterministic(const Identity& from, const X25519PublicKey& to, ByteView message) {
    detail::sodium_ready();
    const Bytes inner = signed_inner(from, to, message);
    const auto seed32 = from.ed25519_secret().reveal().first<32>();
    Bytes eph_seed_bytes = detail::blake2b_parts(32, {seed32, to.view(), message}, as_bytes(kEphemeralHashKey));
    Secret<32> eph_seed{std::span<const std::uint8_t, 32>(eph_seed_bytes.data(), 32)};
    detail::wipe(eph_seed_bytes.data(), eph_seed_bytes.size());
    ByteArray<crypto_box_PUBLICKEYBYTES> eph_pk{};
    Secret<crypto_box_SECRETKEYBYTES> eph_sk;
    crypto_box_seed_keypair(eph_pk.data(), eph_sk.mutable_bytes().data(), eph_seed.reveal().data());
    // Same nonce rule as crypto_box_seal: BLAKE2b-24(eph_pk || Y), so a normal sealed-box open works.
    const Bytes nonce = detail::blake2b_parts(crypto_box_NONCEBYTES, {eph_pk, to.view()});
    Bytes out(crypto_box_PUBLICKEYBYTES + crypto_box_MACBYTES + inner.size());
    std::copy(eph_pk.begin(), eph_pk.end(), out.begin());
    if (crypto_box_easy(out.data() + crypto_box_PUBLICKEYBYTES, inner.data(), inner.size(), nonce.data(),
                        to.bytes.data(), eph_sk.reveal().data()) != 0)
        return unexpected(Errc::key_invalid, "envelope: crypto_box_easy failed: the recipient X25519 key is a low-order point");
    return out;
}

namespace {

// The sender's X25519 key (its Session ID) from its Ed25519 key. libsodium's conversion first checks
// that the point lies in the prime-order subgroup — a full scalar multiplication, about a third of
// an open. Senders repeat (a conversation is many messages from one key), and the conversion is a
// pure function, so the answers for recent keys are kept: a hit returns exactly what libsodium
// returned for that key. Bounded: when full, it starts over. Shared by the threads of a parallel open.
class SenderKeyCache {
public:
    Result<X25519PublicKey> convert(const Ed25519PublicKey& ed) {
        {
            std::lock_guard lock(mu_);
            if (auto it = known_.find(ed.bytes); it != known_.end()) return it->second;
        }
        auto x = to_x25519(ed);
        if (!x) return x;  // not kept: a forged key must not evict real senders
        std::lock_guard lock(mu_);
        if (known_.size() >= kCapacity) known_.clear();
        known_.emplace(ed.bytes, *x);
        return x;
    }

private:
    static constexpr std::size_t kCapacity = 4096;
    struct KeyHash {
        std::size_t operator()(const std::array<std::uint8_t, 32>& k) const noexcept {
            std::size_t h;  // the bytes of a curve point are already uniform
            std::memcpy(&h, k.data(), sizeof h);
            return h;
        }
    };
    std::mutex mu_;
    std::unordered_map<std::array<std::uint8_t, 32>, X25519PublicKey, KeyHash> known_;
};

SenderKeyCache& sender_keys() {
    static SenderKeyCache cache;
    return cache;
}

}  // namespace

Result<Decrypted> decrypt_incoming(const Identity& self, ByteView ciphertext) {
    detail::sodium_ready();
    if (ciphertext.size() < kMinCiphertextBytes)
        return unexpected(Errc::envelope_too_short, "envelope: ciphertext too short: expected at least " +
                                                        std::to_string(kMinCiphertextBytes) + " bytes, got " +
                                                        std::to_string(ciphertext.size()));
    // inner = M || A (sender Ed25519 key) || SIG
    Bytes inner(ciphertext.size() - crypto_box_SEALBYTES);
    if (crypto_box_seal_open(inner.data(), ciphertext.data(), ciphertext.size(), self.x25519_public().bytes.data(),
                             self.x25519_secret().reveal().data()) != 0)
        return unexpected(Errc::envelope_decrypt_failed,
                          "envelope: sealed box does not open with our key (not for us, or corrupted)");
    const std::size_t m_len = inner.size() - 32 - kEd25519SignatureBytes;
    Ed25519PublicKey a;
    std::copy_n(inner.begin() + static_cast<std::ptrdiff_t>(m_len), 32, a.bytes.begin());
    std::array<std::uint8_t, kEd25519SignatureBytes> sig;
    std::copy_n(inner.begin() + static_cast<std::ptrdiff_t>(m_len + 32), sig.size(), sig.begin());
    // The signed message is M || A || OUR X25519 key, so a message sealed to someone else fails
    // here. Built in place: SIG (copied out above) is overwritten by our key, M is never copied.
    const auto our_x = self.x25519_public().view();
    std::copy(our_x.begin(), our_x.end(), inner.begin() + static_cast<std::ptrdiff_t>(m_len + 32));
    inner.resize(m_len + 64);
    if (!verify(a, inner, ByteView(sig.data(), sig.size())))
        return unexpected(Errc::envelope_bad_signature,
                          "envelope: signature over M || A || our X25519 key does not verify");
    auto x = sender_keys().convert(a);
    if (!x)
        return unexpected(Errc::envelope_bad_sender_key, "envelope: sender Ed25519 key has no X25519 form");
    inner.resize(m_len);
    return Decrypted{std::move(inner), a, SessionId::of(*x)};
}

// ------------------------------------------------------------------------------ outgoing Content

void set_expiration(proto::Content& content, ExpirationType type, std::chrono::seconds timer) {
    // session-desktop ExpirableMessage.ts (addDisappearingContentProto): expirationType is always
    // set (UNKNOWN when disappearing messages are off) and expirationTimer whenever >= 0, i.e.
    // always, 0 meaning off. The legacy DataMessage.expireTimer is never sent.
    if (timer.count() < 0 || timer.count() > std::numeric_limits<std::uint32_t>::max())
        throw std::invalid_argument("envelope: set_expiration: timer out of range");
    content.expiration_type = type;
    content.expiration_timer = type == ExpirationType::none ? 0 : static_cast<std::uint32_t>(timer.count());
}

proto::Content build_content(const OutgoingMessage& m) {
    if (m.timestamp_ms < 0) throw std::invalid_argument("envelope: build_content: negative timestamp");
    proto::DataMessage d;
    // VisibleMessage.ts dataProto(): body only when non-empty; attachments always (an empty
    // repeated field is not written); reaction, syncTarget when set.
    if (!m.body.empty()) d.body = m.body;
    d.attachments = m.attachments;
    if (m.reaction) d.reaction = m.reaction;
    if (m.sync_target) d.sync_target = m.sync_target;
    if (m.quote) {
        // VisibleMessage.ts sets only Quote.id (the quoted message's timestamp) and author.
        proto::Quote q;
        q.id = m.quote->id;
        q.author = m.quote->author;
        d.quote = std::move(q);
    }
    d.preview = m.preview;
    // DataMessage.ts makeDataProtoWithProfile + OutgoingUserProfile.toProtobufDetails(): no profile
    // when there is neither a name nor an avatar; otherwise LokiProfile{displayName if non-empty,
    // lastProfileUpdateSeconds, profilePicture only with a profileKey}, profileKey beside it.
    const bool has_name = m.display_name && !m.display_name->empty();
    const bool has_avatar = m.profile_picture_url && !m.profile_picture_url->empty() && m.profile_key &&
                            !m.profile_key->empty();
    if (has_name || has_avatar) {
        proto::LokiProfile p;
        if (has_name) p.display_name = m.display_name;
        p.last_profile_update_seconds =
                m.profile_updated_seconds.value_or(static_cast<std::uint64_t>(m.timestamp_ms) / 1000);
        if (has_avatar) {
            p.profile_picture = m.profile_picture_url;
            d.profile_key = m.profile_key;
        }
        d.profile = std::move(p);
    }
    proto::Content c;
    c.data_message = std::move(d);
    set_expiration(c, m.expiration_type, m.expiration_timer);
    // ContentMessage.ts: sigTimestamp = createAtNetworkTimestamp, the same value as Envelope.timestamp.
    c.sig_timestamp = static_cast<std::uint64_t>(m.timestamp_ms);
    return c;
}

// ------------------------------------------------------------------------------ wire stack

ByteArray<kProSigBytes> decoy_pro_sig() {
    detail::sodium_ready();
    // libsession encode_for_destination: every 1:1 envelope carries a proSig so Pro and non-Pro
    // messages look alike; without a Pro key it is R = r·B (a real curve point) || random scalar.
    ByteArray<kProSigBytes> sig{};
    Secret<crypto_core_ed25519_SCALARBYTES> r;
    crypto_core_ed25519_scalar_random(r.mutable_bytes().data());
    if (crypto_scalarmult_ed25519_base_noclamp(sig.data(), r.reveal().data()) != 0)
        throw std::runtime_error("envelope: decoy signature point is the identity");  // r = 0: never in practice
    crypto_core_ed25519_scalar_random(sig.data() + crypto_core_ed25519_BYTES);
    return sig;
}

Bytes wrap(ByteView ciphertext, std::uint64_t timestamp_ms, ByteView pro_sig) {
    // libsession encode_for_destination (what desktop sends since it delegated 1:1 encoding):
    // Envelope{type SESSION_MESSAGE, timestamp, sourceDevice 1, content, proSig}; no source for 1:1.
    proto::Envelope env;
    env.type = proto::Envelope::Type::session_message;
    env.timestamp = timestamp_ms;
    env.source_device = kSourceDevice;
    env.content = Bytes(ciphertext.begin(), ciphertext.end());
    if (!pro_sig.empty()) env.pro_sig = Bytes(pro_sig.begin(), pro_sig.end());
    // WebSocketRequestMessage: verb "", path "", requestId 0 are set explicitly (so written);
    // readers ignore them. (Old desktop MessageWrapper.ts sent "PUT" and "/api/v1/message".)
    proto::WebSocketRequestMessage req;
    req.verb = "";
    req.path = "";
    req.body = env.encode();
    req.request_id = 0;
    proto::WebSocketMessage msg;
    msg.type = proto::WebSocketMessage::Type::request;
    msg.request = std::move(req);
    return msg.encode();
}

Result<Bytes> seal(const Identity& from, const SessionId& to, const proto::Content& content, std::int64_t timestamp_ms,
                   PaddingRule rule) {
    if (timestamp_ms < 0)
        return unexpected(Errc::invalid_argument, "envelope: seal: negative timestamp " + std::to_string(timestamp_ms));
    const auto ts = static_cast<std::uint64_t>(timestamp_ms);
    proto::Content c = content;
    if (!c.sig_timestamp) c.sig_timestamp = ts;
    if (*c.sig_timestamp != ts)
        return unexpected(Errc::invalid_argument, "envelope: seal: Content.sigTimestamp " +
                                                      std::to_string(*c.sig_timestamp) +
                                                      " differs from the envelope timestamp " + std::to_string(ts));
    auto ct = encrypt_for_recipient(from, to.x25519(), pad(c.encode(), rule));
    if (!ct) return unexpected(std::move(ct).error());
    return wrap(*ct, ts, decoy_pro_sig());
}

Result<Bytes> seal(const Identity& from, const SessionId& to, const OutgoingMessage& m) {
    if (m.timestamp_ms < 0)
        return unexpected(Errc::invalid_argument, "envelope: seal: negative timestamp " + std::to_string(m.timestamp_ms));
    return seal(from, to, build_content(m), m.timestamp_ms);
}

std::string to_swarm_data(ByteView sealed) { return base64_encode(sealed); }

Result<Bytes> from_swarm_data(std::string_view data) { return base64_decode(data); }

// ------------------------------------------------------------------------------ incoming

}  // namespace session::envelope

std::string_view session::to_string(MessageKind kind) noexcept {
    switch (kind) {
        case MessageKind::text: return "text";
        case MessageKind::expiration_timer_update: return "expiration_timer_update";
        case MessageKind::reaction: return "reaction";
        case MessageKind::sync: return "sync";
        case MessageKind::receipt: return "receipt";
        case MessageKind::typing: return "typing";
        case MessageKind::unsend: return "unsend";
        case MessageKind::data_extraction: return "data_extraction";
        case MessageKind::message_request_response: return "message_request_response";
        case MessageKind::call: return "call";
        case MessageKind::other: return "other";
    }
    return "other";
}

namespace session::envelope {

Result<Message> open(const Identity& self, ByteView data) {
    if (data.size() > kMaxMessageBytes)
        return unexpected(Errc::envelope_too_large, "envelope: message of " + std::to_string(data.size()) +
                                                        " bytes exceeds the limit of " +
                                                        std::to_string(kMaxMessageBytes));
    // libsession decode_envelope: the 1:1 path always expects the WebSocket wrapper and needs only
    // request.body; it does not look at WebSocketMessage.type.
    auto ws = proto::WebSocketMessage::decode(data);
    if (!ws) return unexpected(Errc::envelope_malformed, "envelope: not a WebSocketMessage: " + ws.error().message);
    if (!ws->request)
        return unexpected(Errc::envelope_not_request, "envelope: WebSocketMessage has no request (a bare Envelope or a response)");
    if (!ws->request->body) return unexpected(Errc::envelope_no_body, "envelope: WebSocket request has no body");
    auto env = proto::Envelope::decode(*ws->request->body);
    if (!env) return unexpected(Errc::envelope_malformed, "envelope: Envelope does not parse: " + env.error().message);
    // libprotobuf (libsession) fails the parse when the required enum holds a value outside
    // {SESSION_MESSAGE, CLOSED_GROUP_MESSAGE}; which of the two it is, libsession ignores.
    if (env->type != proto::Envelope::Type::session_message && env->type != proto::Envelope::Type::closed_group_message)
        return unexpected(Errc::envelope_bad_type, "envelope: Envelope.type: expected 6 or 7, got " +
                                                       std::to_string(static_cast<int>(env->type)));
    if (env->source && !env->source->empty()) {
        // libsession: source must be empty (iOS/Android mark it present but empty) or a hex id.
        bool ok = env->source->size() == kSessionIdHexChars;
        if (ok) ok = from_hex(*env->source).has_value();
        if (!ok)
            return unexpected(Errc::envelope_bad_source, "envelope: Envelope.source: expected empty or 66 hex characters, got " +
                                                             std::to_string(env->source->size()) + " characters");
    }
    if (!env->content) return unexpected(Errc::envelope_no_content, "envelope: Envelope has no content");
    if (env->pro_sig && env->pro_sig->size() != kProSigBytes)
        return unexpected(Errc::envelope_bad_pro_sig, "envelope: Envelope.proSig: expected 64 bytes, got " +
                                                          std::to_string(env->pro_sig->size()));
    if (env->timestamp > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return unexpected(Errc::envelope_malformed, "envelope: Envelope.timestamp " + std::to_string(env->timestamp) +
                                                        " is out of range");

    auto dec = decrypt_incoming(self, *env->content);
    if (!dec) return unexpected(std::move(dec).error());
    const auto [content_len, padded] = scan_padding(dec->plaintext);
    auto content = proto::Content::decode(ByteView(dec->plaintext.data(), content_len));
    if (!content)
        return unexpected(Errc::envelope_bad_content, "envelope: Content does not parse: " + content.error().message);

    // session-desktop shouldProcessContentMessage (ts/receiver/common.ts): a 1:1 message whose
    // signed sigTimestamp differs from the envelope timestamp is dropped; a zero/absent one is a
    // legacy client and accepted. An envelope timestamp of 0 is no exception: the envelope is not
    // signed, so anyone relaying the message could zero it to skip this check.
    const std::uint64_t sig_ts = content->sig_timestamp.value_or(0);
    if (sig_ts != 0 && sig_ts != env->timestamp)
        return unexpected(Errc::envelope_timestamp_mismatch, "envelope: Content.sigTimestamp " + std::to_string(sig_ts) +
                                                                 " != Envelope.timestamp " +
                                                                 std::to_string(env->timestamp));

    Message out{.sender = dec->sender, .sender_ed25519 = dec->sender_ed25519};
    out.kind = kind_of(*content, dec->sender == self.session_id());
    out.envelope_timestamp_ms = static_cast<std::int64_t>(env->timestamp);
    if (content->sig_timestamp) out.sig_timestamp_ms = static_cast<std::int64_t>(*content->sig_timestamp);
    out.expiration_type = expiration_of(*content);
    if (out.expiration_type != ExpirationType::none)
        out.expiration_timer = std::chrono::seconds(content->expiration_timer.value_or(0));
    if (content->data_message) {
        const auto& d = *content->data_message;
        out.body = d.body.value_or("");
        out.attachments = d.attachments;
        if (d.profile && d.profile->display_name) out.display_name = d.profile->display_name;
    } else if (content->message_request_response && content->message_request_response->profile &&
               content->message_request_response->profile->display_name) {
        out.display_name = content->message_request_response->profile->display_name;
    }
    if (env->source && !env->source->empty()) out.envelope_source = env->source;
    out.server_timestamp = env->server_timestamp;
    out.padded = padded;
    out.content = std::move(*content);
    return out;
}

}  // namespace session::envelope
