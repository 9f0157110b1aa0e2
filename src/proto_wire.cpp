// proto_wire.cpp: protobuf wire codec and the Session schema. Each message's fields are listed
// once, in ascending field-number order, in a Schema<T>::visit; the same list drives encoding,
// decoding and the required-field check, so the three cannot disagree.
#include "session/proto_wire.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace session {

std::string_view to_string(ExpirationType type) noexcept {
    switch (type) {
        case ExpirationType::none: return "none";
        case ExpirationType::delete_after_read: return "delete_after_read";
        case ExpirationType::delete_after_send: return "delete_after_send";
    }
    return "unknown";
}

}  // namespace session

namespace session::proto {

// ------------------------------------------------------------------------------------ Writer

void Writer::varint(std::uint64_t v) {
    while (v >= 0x80) {
        out_.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::fixed32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::fixed64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::length_delimited(ByteView data) {
    varint(data.size());
    raw(data);
}

void Writer::tag(std::uint32_t field, WireType type) {
    if (field == 0 || field > kMaxFieldNumber)
        throw std::invalid_argument("proto: field number " + std::to_string(field) + " out of range");
    varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint8_t>(type));
}

void Writer::raw(ByteView data) { out_.insert(out_.end(), data.begin(), data.end()); }

void Writer::varint_field(std::uint32_t field, std::uint64_t v) {
    tag(field, WireType::varint);
    varint(v);
}

void Writer::int32_field(std::uint32_t field, std::int32_t v) {
    varint_field(field, static_cast<std::uint64_t>(static_cast<std::int64_t>(v)));
}

void Writer::fixed32_field(std::uint32_t field, std::uint32_t v) {
    tag(field, WireType::fixed32);
    fixed32(v);
}

void Writer::fixed64_field(std::uint32_t field, std::uint64_t v) {
    tag(field, WireType::fixed64);
    fixed64(v);
}

void Writer::bytes_field(std::uint32_t field, ByteView data) {
    tag(field, WireType::length_delimited);
    length_delimited(data);
}

// ------------------------------------------------------------------------------------ Reader

std::string_view wire_type_name(WireType t) {
    switch (t) {
        case WireType::varint: return "0 (varint)";
        case WireType::fixed64: return "1 (fixed64)";
        case WireType::length_delimited: return "2 (length-delimited)";
        case WireType::start_group: return "3 (start group)";
        case WireType::end_group: return "4 (end group)";
        case WireType::fixed32: return "5 (fixed32)";
    }
    return "unknown";
}

namespace {
std::string at(std::size_t offset) { return " at byte " + std::to_string(offset); }
}  // namespace

Result<std::uint64_t> Reader::read_varint() {
    const std::size_t start = offset();
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
        if (pos_ >= data_.size())
            return unexpected(Errc::proto_truncated, "proto: varint truncated after " + std::to_string(i) +
                                                         " bytes (input ends)" + at(start));
        const std::uint8_t b = data_[pos_++];
        if (i == kMaxVarintBytes - 1) {
            // The 10th byte carries only bit 63: any other bit (or a continuation) overflows 64 bits.
            if (b > 1)
                return unexpected(Errc::proto_varint_overflow,
                                  std::string("proto: varint ") + (b & 0x80 ? "longer than 10 bytes" : "overflows 64 bits") +
                                      at(start));
        }
        v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) return v;
    }
    return unexpected(Errc::proto_varint_overflow, "proto: varint longer than 10 bytes" + at(start));  // unreachable
}

Result<std::uint32_t> Reader::read_fixed32() {
    if (data_.size() - pos_ < 4)
        return unexpected(Errc::proto_truncated, "proto: fixed32 needs 4 bytes, " +
                                                     std::to_string(data_.size() - pos_) + " left" + at(offset()));
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(data_[pos_++]) << (8 * i);
    return v;
}

Result<std::uint64_t> Reader::read_fixed64() {
    if (data_.size() - pos_ < 8)
        return unexpected(Errc::proto_truncated, "proto: fixed64 needs 8 bytes, " +
                                                     std::to_string(data_.size() - pos_) + " left" + at(offset()));
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(data_[pos_++]) << (8 * i);
    return v;
}

Result<ByteView> Reader::read_length_delimited() {
    const std::size_t start = offset();
    auto len = read_varint();
    if (!len) return unexpected(std::move(len).error());
    const std::size_t left = data_.size() - pos_;
    if (*len > left)
        return unexpected(Errc::proto_length, "proto: length " + std::to_string(*len) + " runs past the end (" +
                                                  std::to_string(left) + " bytes left)" + at(start));
    ByteView out = data_.subspan(pos_, static_cast<std::size_t>(*len));
    pos_ += static_cast<std::size_t>(*len);
    return out;
}

Result<Field> Reader::next() {
    Field f;
    const std::size_t start_pos = pos_;
    f.offset = offset();
    auto key = read_varint();
    if (!key) return unexpected(std::move(key).error());
    if (*key > 0xffffffffu)
        return unexpected(Errc::proto_invalid_value, "proto: tag wider than 32 bits" + at(f.offset));
    const std::uint64_t number = *key >> 3;
    const unsigned wt = static_cast<unsigned>(*key & 7);
    if (number == 0 || number > kMaxFieldNumber)
        return unexpected(Errc::proto_invalid_value,
                          "proto: field number " + std::to_string(number) + " is invalid" + at(f.offset));
    f.number = static_cast<std::uint32_t>(number);
    if (wt == 3 || wt == 4)
        return unexpected(Errc::proto_wire_type, "proto: field " + std::to_string(number) + ": group wire type " +
                                                     std::to_string(wt) + " is not supported" + at(f.offset));
    if (wt > 5)
        return unexpected(Errc::proto_wire_type, "proto: field " + std::to_string(number) + ": invalid wire type " +
                                                     std::to_string(wt) + at(f.offset));
    f.type = static_cast<WireType>(wt);
    f.data_offset = offset();
    switch (f.type) {
        case WireType::varint: {
            auto v = read_varint();
            if (!v) return unexpected(std::move(v).error());
            f.value = *v;
            break;
        }
        case WireType::fixed64: {
            auto v = read_fixed64();
            if (!v) return unexpected(std::move(v).error());
            f.value = *v;
            break;
        }
        case WireType::fixed32: {
            auto v = read_fixed32();
            if (!v) return unexpected(std::move(v).error());
            f.value = *v;
            break;
        }
        case WireType::length_delimited: {
            auto v = read_length_delimited();
            if (!v) return unexpected(std::move(v).error());
            f.data = *v;
            f.data_offset = offset() - v->size();
            break;
        }
        default: break;
    }
    f.raw = data_.subspan(start_pos, pos_ - start_pos);
    return f;
}

Result<Reader> Reader::nested(const Field& f) const {
    if (f.type != WireType::length_delimited)
        return unexpected(Errc::proto_wire_type, "proto: field " + std::to_string(f.number) +
                                                     ": a sub-message needs wire type 2, got " +
                                                     std::string(wire_type_name(f.type)) + at(f.offset));
    if (depth_ + 1 > kMaxDepth)
        return unexpected(Errc::proto_nesting, "proto: sub-messages nested deeper than " +
                                                   std::to_string(kMaxDepth) + " levels" + at(f.offset));
    return Reader(f.data, f.data_offset, depth_ + 1);
}

// ------------------------------------------------------------------------------------ schema

namespace {

/// Marks a uint64 member encoded as fixed64 (AttachmentPointer.id).
template <class U>
struct AsFixed64 {
    U& value;
};
template <class U>
AsFixed64<U> fixed64(U& v) {
    return {v};
}

template <class T>
struct Schema;

template <class T>
concept Message = requires { Schema<T>::name; };

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <Message T>
Bytes encode_message(const T& m);
template <Message T>
Result<T> decode_message(const Reader& parent, const Field& f);
template <Message T>
Result<T> decode_body(Reader r);

// ---- encoding ----
struct Encoder {
    Writer& w;

    void scalar(std::uint32_t n, const std::string& v) { w.string_field(n, v); }
    void scalar(std::uint32_t n, const Bytes& v) { w.bytes_field(n, v); }
    void scalar(std::uint32_t n, bool v) { w.bool_field(n, v); }
    void scalar(std::uint32_t n, std::uint32_t v) { w.varint_field(n, v); }
    void scalar(std::uint32_t n, std::uint64_t v) { w.varint_field(n, v); }
    template <class E>
        requires std::is_enum_v<E>
    void scalar(std::uint32_t n, E v) {
        w.int32_field(n, static_cast<std::int32_t>(v));
    }
    template <Message M>
    void scalar(std::uint32_t n, const M& v) {
        w.bytes_field(n, encode_message(v));
    }

    template <class U>
    void operator()(std::uint32_t n, const char*, const U& v) {
        if constexpr (is_optional<U>::value) {
            if (v) scalar(n, *v);
        } else if constexpr (is_vector<U>::value && !std::is_same_v<U, Bytes>) {
            for (const auto& e : v) scalar(n, e);
        } else {
            scalar(n, v);
        }
    }
    template <class U>
    void operator()(std::uint32_t n, const char*, AsFixed64<U> v) {
        w.fixed64_field(n, v.value);
    }
};

// ---- decoding ----
struct Decoder {
    const Reader& parent;
    const Field& f;
    const char* msg;
    bool matched = false;
    std::optional<Error> error;

    std::string where(const char* name) const {
        return std::string("proto: ") + msg + "." + name + " (field " + std::to_string(f.number) + ")";
    }
    bool want(WireType t, const char* name) {
        if (f.type == t) return true;
        error = Error{Errc::proto_wire_type, where(name) + ": expected wire type " + std::string(wire_type_name(t)) +
                                                 ", got " + std::string(wire_type_name(f.type)) + at(f.offset)};
        return false;
    }

    bool read(const char* name, std::string& out) {
        if (!want(WireType::length_delimited, name)) return false;
        out.assign(f.data.begin(), f.data.end());
        return true;
    }
    bool read(const char* name, Bytes& out) {
        if (!want(WireType::length_delimited, name)) return false;
        out.assign(f.data.begin(), f.data.end());
        return true;
    }
    bool read(const char* name, bool& out) {
        if (!want(WireType::varint, name)) return false;
        out = f.value != 0;
        return true;
    }
    bool read(const char* name, std::uint32_t& out) {
        if (!want(WireType::varint, name)) return false;
        out = static_cast<std::uint32_t>(f.value);  // low 32 bits, as libprotobuf
        return true;
    }
    bool read(const char* name, std::uint64_t& out) {
        if (!want(WireType::varint, name)) return false;
        out = f.value;
        return true;
    }
    template <class E>
        requires std::is_enum_v<E>
    bool read(const char* name, E& out) {
        if (!want(WireType::varint, name)) return false;
        out = static_cast<E>(static_cast<std::int32_t>(static_cast<std::uint32_t>(f.value)));
        return true;
    }
    template <Message M>
    bool read(const char* name, M& out) {
        if (!want(WireType::length_delimited, name)) return false;
        auto r = decode_message<M>(parent, f);
        if (!r) {
            error = std::move(r).error();
            return false;
        }
        out = std::move(*r);
        return true;
    }

    template <class U>
    void operator()(std::uint32_t n, const char* name, U& v) {
        if (n != f.number || matched) return;
        matched = true;
        if constexpr (is_optional<U>::value) {
            typename U::value_type tmp{};
            if (read(name, tmp)) v = std::move(tmp);
        } else if constexpr (std::is_same_v<U, std::vector<std::uint64_t>>) {
            if (f.type == WireType::length_delimited) {  // packed
                Reader pr(f.data, f.data_offset, parent.depth());
                while (!pr.at_end()) {
                    auto x = pr.read_varint();
                    if (!x) {
                        error = std::move(x).error();
                        std::string text = std::move(error->message);
                        if (text.starts_with("proto: ")) text.erase(0, 7);
                        error->message = where(name) + " (packed): " + text;
                        return;
                    }
                    v.push_back(*x);
                }
            } else {
                std::uint64_t tmp = 0;
                if (read(name, tmp)) v.push_back(tmp);
            }
        } else if constexpr (is_vector<U>::value && !std::is_same_v<U, Bytes>) {
            typename U::value_type tmp{};
            if (read(name, tmp)) v.push_back(std::move(tmp));
        } else {
            read(name, v);
        }
    }
    template <class U>
    void operator()(std::uint32_t n, const char* name, AsFixed64<U> v) {
        if (n != f.number || matched) return;
        matched = true;
        if (want(WireType::fixed64, name)) v.value = f.value;
    }
};

/// Records which required fields (plain, non-optional, non-repeated members) a message lacks.
struct RequiredCheck {
    const std::vector<std::uint32_t>& seen;
    const char* msg;
    std::size_t offset;
    std::optional<Error> error;

    void missing(std::uint32_t n, const char* name) {
        if (error) return;
        if (std::find(seen.begin(), seen.end(), n) != seen.end()) return;
        error = Error{Errc::proto_missing_required, std::string("proto: ") + msg + "." + name + " (field " +
                                                        std::to_string(n) + "): required field is missing in the message" +
                                                        at(offset)};
    }
    template <class U>
    void operator()(std::uint32_t n, const char* name, const U&) {
        if constexpr (!is_optional<U>::value && !(is_vector<U>::value && !std::is_same_v<U, Bytes>)) missing(n, name);
    }
    template <class U>
    void operator()(std::uint32_t n, const char* name, AsFixed64<U>) {
        missing(n, name);
    }
};

template <Message T>
Bytes encode_message(const T& m) {
    Writer w;
    Encoder e{w};
    Schema<T>::visit(e, m);
    w.raw(m.unknown_fields);
    return std::move(w).take();
}

template <Message T>
Result<T> decode_body(Reader r) {
    T m{};
    std::vector<std::uint32_t> seen;
    const std::size_t start = r.offset();
    while (!r.at_end()) {
        auto f = r.next();
        if (!f) {
            // Name the message being parsed: "proto: Envelope: varint truncated ... at byte 9".
            std::string text = f.error().message;
            constexpr std::string_view prefix = "proto: ";
            if (text.starts_with(prefix)) text.erase(0, prefix.size());
            return unexpected(Error{f.error().code, std::string("proto: ") + Schema<T>::name + ": " + text});
        }
        Decoder d{r, *f, Schema<T>::name, false, std::nullopt};
        Schema<T>::visit(d, m);
        if (d.error) return unexpected(std::move(*d.error));
        if (d.matched)
            seen.push_back(f->number);
        else
            m.unknown_fields.insert(m.unknown_fields.end(), f->raw.begin(), f->raw.end());
    }
    RequiredCheck c{seen, Schema<T>::name, start, std::nullopt};
    Schema<T>::visit(c, m);
    if (c.error) return unexpected(std::move(*c.error));
    return m;
}

template <Message T>
Result<T> decode_message(const Reader& parent, const Field& f) {
    auto sub = parent.nested(f);
    if (!sub) return unexpected(std::move(sub).error());
    return decode_body<T>(*sub);
}

template <Message T>
Result<T> decode_top(ByteView data) {
    return decode_body<T>(Reader(data));
}

// Field lists, ascending by number. Names are the .proto names (so a grep finds them).
template <>
struct Schema<WebSocketRequestMessage> {
    static constexpr const char* name = "WebSocketRequestMessage";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "verb", m.verb);
        v(2, "path", m.path);
        v(3, "body", m.body);
        v(4, "requestId", m.request_id);
        v(5, "headers", m.headers);
    }
};
template <>
struct Schema<WebSocketResponseMessage> {
    static constexpr const char* name = "WebSocketResponseMessage";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "requestId", m.request_id);
        v(2, "status", m.status);
        v(3, "message", m.message);
        v(4, "body", m.body);
        v(5, "headers", m.headers);
    }
};
template <>
struct Schema<WebSocketMessage> {
    static constexpr const char* name = "WebSocketMessage";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "type", m.type);
        v(2, "request", m.request);
        v(3, "response", m.response);
    }
};
template <>
struct Schema<Envelope> {
    static constexpr const char* name = "Envelope";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "type", m.type);
        v(2, "source", m.source);
        v(5, "timestamp", m.timestamp);
        v(7, "sourceDevice", m.source_device);
        v(8, "content", m.content);
        v(10, "serverTimestamp", m.server_timestamp);
        v(11, "proSig", m.pro_sig);
    }
};
template <>
struct Schema<LokiProfile> {
    static constexpr const char* name = "LokiProfile";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "displayName", m.display_name);
        v(2, "profilePicture", m.profile_picture);
        v(3, "lastProfileUpdateSeconds", m.last_profile_update_seconds);
    }
};
template <>
struct Schema<AttachmentPointer> {
    static constexpr const char* name = "AttachmentPointer";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "id", fixed64(m.id));
        v(2, "contentType", m.content_type);
        v(3, "key", m.key);
        v(4, "size", m.size);
        v(5, "thumbnail", m.thumbnail);
        v(6, "digest", m.digest);
        v(7, "fileName", m.file_name);
        v(8, "flags", m.flags);
        v(9, "width", m.width);
        v(10, "height", m.height);
        v(11, "caption", m.caption);
        v(101, "url", m.url);
    }
};
template <>
struct Schema<QuotedAttachment> {
    static constexpr const char* name = "QuotedAttachment";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "contentType", m.content_type);
        v(2, "fileName", m.file_name);
        v(3, "thumbnail", m.thumbnail);
        v(4, "flags", m.flags);
    }
};
template <>
struct Schema<Quote> {
    static constexpr const char* name = "Quote";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "id", m.id);
        v(2, "author", m.author);
        v(3, "text", m.text);
        v(4, "attachments", m.attachments);
    }
};
template <>
struct Schema<Preview> {
    static constexpr const char* name = "Preview";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "url", m.url);
        v(2, "title", m.title);
        v(3, "image", m.image);
    }
};
template <>
struct Schema<Reaction> {
    static constexpr const char* name = "Reaction";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "id", m.id);
        v(2, "author", m.author);
        v(3, "emoji", m.emoji);
        v(4, "action", m.action);
    }
};
template <>
struct Schema<OpenGroupInvitation> {
    static constexpr const char* name = "OpenGroupInvitation";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "url", m.url);
        v(3, "name", m.name);
    }
};
template <>
struct Schema<DataMessage> {
    static constexpr const char* name = "DataMessage";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "body", m.body);
        v(2, "attachments", m.attachments);
        v(4, "flags", m.flags);
        v(5, "expireTimer", m.expire_timer);
        v(6, "profileKey", m.profile_key);
        v(7, "timestamp", m.timestamp);
        v(8, "quote", m.quote);
        v(10, "preview", m.preview);
        v(11, "reaction", m.reaction);
        v(101, "profile", m.profile);
        v(102, "openGroupInvitation", m.open_group_invitation);
        v(105, "syncTarget", m.sync_target);
        v(106, "blocksCommunityMessageRequests", m.blocks_community_message_requests);
    }
};
template <>
struct Schema<ReceiptMessage> {
    static constexpr const char* name = "ReceiptMessage";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "type", m.type);
        v(2, "timestamp", m.timestamp);
    }
};
template <>
struct Schema<TypingMessage> {
    static constexpr const char* name = "TypingMessage";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "timestamp", m.timestamp);
        v(2, "action", m.action);
    }
};
template <>
struct Schema<UnsendRequest> {
    static constexpr const char* name = "UnsendRequest";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "timestamp", m.timestamp);
        v(2, "author", m.author);
    }
};
template <>
struct Schema<MessageRequestResponse> {
    static constexpr const char* name = "MessageRequestResponse";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "isApproved", m.is_approved);
        v(2, "profileKey", m.profile_key);
        v(3, "profile", m.profile);
    }
};
template <>
struct Schema<DataExtractionNotification> {
    static constexpr const char* name = "DataExtractionNotification";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "type", m.type);
        v(2, "timestamp", m.timestamp);
    }
};
template <>
struct Schema<Content> {
    static constexpr const char* name = "Content";
    template <class V, class M>
    static void visit(V& v, M& m) {
        v(1, "dataMessage", m.data_message);
        v(5, "receiptMessage", m.receipt_message);
        v(6, "typingMessage", m.typing_message);
        v(8, "dataExtractionNotification", m.data_extraction_notification);
        v(9, "unsendRequest", m.unsend_request);
        v(10, "messageRequestResponse", m.message_request_response);
        v(12, "expirationType", m.expiration_type);
        v(13, "expirationTimer", m.expiration_timer);
        v(15, "sigTimestamp", m.sig_timestamp);
    }
};

}  // namespace

#define SESSION_PROTO_DEFINE(T)                                                  \
    Bytes T::encode() const { return encode_message(*this); }                    \
    Result<T> T::decode(ByteView data) { return decode_top<T>(data); }

SESSION_PROTO_DEFINE(WebSocketRequestMessage)
SESSION_PROTO_DEFINE(WebSocketResponseMessage)
SESSION_PROTO_DEFINE(WebSocketMessage)
SESSION_PROTO_DEFINE(Envelope)
SESSION_PROTO_DEFINE(LokiProfile)
SESSION_PROTO_DEFINE(AttachmentPointer)
SESSION_PROTO_DEFINE(QuotedAttachment)
SESSION_PROTO_DEFINE(Quote)
SESSION_PROTO_DEFINE(Preview)
SESSION_PROTO_DEFINE(Reaction)
SESSION_PROTO_DEFINE(OpenGroupInvitation)
SESSION_PROTO_DEFINE(DataMessage)
SESSION_PROTO_DEFINE(ReceiptMessage)
SESSION_PROTO_DEFINE(TypingMessage)
SESSION_PROTO_DEFINE(UnsendRequest)
SESSION_PROTO_DEFINE(MessageRequestResponse)
SESSION_PROTO_DEFINE(DataExtractionNotification)
SESSION_PROTO_DEFINE(Content)

#undef SESSION_PROTO_DEFINE

}  // namespace session::proto
