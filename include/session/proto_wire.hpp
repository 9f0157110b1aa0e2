#pragma once
// proto_wire.hpp: a small, hand-rolled protobuf (proto2) codec and the Session message types.
//
// Wire format (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of
//   tag = varint(field_number << 3 | wire_type), then a value: 0 varint, 1 fixed64 (LE),
//   2 length-delimited (varint length || bytes), 5 fixed32 (LE). 3/4 (groups) are not used by any
//   Session schema and are rejected.
// Schema: session-desktop protos/SignalService.proto, libsession-util proto/SessionProtos.proto and
// WebSocketResources.proto (field numbers in protocol.md §3).
//
// Encoding rules (so our bytes equal libprotobuf's and protobuf.js's):
//   * fields are written in ascending field-number order (libprotobuf does so; protobuf.js's
//     encoder sorts fields by id), then any preserved unknown fields;
//   * a std::optional field is written iff it has a value (even when the value is 0/""/false);
//   * a proto2 `required` field is a plain member and is always written (0/""/false by default);
//   * repeated scalars are written unpacked (proto2 default); packed input is accepted too.
// Decoding rules:
//   * unknown fields (wire types 0, 1, 2, 5) are kept byte-for-byte in `unknown_fields` and
//     re-emitted after the known fields by encode();
//   * a known field with the wrong wire type is an error (proto_wire_type);
//   * a missing `required` field is an error (proto_missing_required): libprotobuf's
//     ParseFromArray (what desktop uses through libsession decode_envelope) and protobuf.js's
//     generated decoders (desktop before it delegated to libsession) both reject such messages;
//   * a non-repeated field seen twice: the last one wins (protobuf.js semantics; libprotobuf would
//     merge sub-messages, which no sender relies on);
//   * enum values outside the known set are kept as their number (protobuf.js semantics); the
//     layers above decide what an unknown value means;
//   * uint32/enum fields keep the low 32 bits of the varint, as libprotobuf does.
// Every error says `proto: <Message>.<field> (field N): what, at byte K` with K the offset in the
// outermost buffer passed to decode().
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session/bytes.hpp"
#include "session/error.hpp"

namespace session {

/// Disappearing-message mode: Content.expirationType (protocol.md §3.3), the one name for it in
/// every layer (proto, envelope, Client, CLI). The values are the wire's; `none` is the wire's
/// UNKNOWN (disappearing messages off). A value outside these three, as decoded, is kept as its
/// number and treated as `none` by the layers above.
enum class ExpirationType : std::int32_t { none = 0, delete_after_read = 1, delete_after_send = 2 };
/// "none", "delete_after_read" or "delete_after_send" ("unknown" for other values).
std::string_view to_string(ExpirationType type) noexcept;

}  // namespace session

namespace session::proto {

enum class WireType : std::uint8_t {
    varint = 0,
    fixed64 = 1,
    length_delimited = 2,
    start_group = 3,  // rejected
    end_group = 4,    // rejected
    fixed32 = 5,
};

/// Longest valid varint (64 bits in 7-bit groups).
inline constexpr std::size_t kMaxVarintBytes = 10;
/// Deepest nesting of sub-messages a Reader accepts (the Session schema needs at most 5).
inline constexpr std::size_t kMaxDepth = 32;
/// Largest field number protobuf allows (2^29 - 1).
inline constexpr std::uint32_t kMaxFieldNumber = (1u << 29) - 1;

/// Appends protobuf-encoded values to a byte buffer. Never fails.
class Writer {
public:
    void varint(std::uint64_t v);
    void fixed32(std::uint32_t v);
    void fixed64(std::uint64_t v);
    /// varint(length) || data
    void length_delimited(ByteView data);
    /// varint(field << 3 | type). Throws std::invalid_argument for field 0 or > kMaxFieldNumber.
    void tag(std::uint32_t field, WireType type);
    /// Appends bytes as they are (an already-encoded field).
    void raw(ByteView data);

    void varint_field(std::uint32_t field, std::uint64_t v);
    /// int32/enum: negative values are sign-extended to 64 bits (10 bytes), as protobuf does.
    void int32_field(std::uint32_t field, std::int32_t v);
    void bool_field(std::uint32_t field, bool v) { varint_field(field, v ? 1 : 0); }
    void fixed32_field(std::uint32_t field, std::uint32_t v);
    void fixed64_field(std::uint32_t field, std::uint64_t v);
    void bytes_field(std::uint32_t field, ByteView data);
    void string_field(std::uint32_t field, std::string_view s) { bytes_field(field, as_bytes(s)); }

    const Bytes& data() const& { return out_; }
    Bytes take() && { return std::move(out_); }

private:
    Bytes out_;
};

/// One field as read from the wire.
struct Field {
    std::uint32_t number = 0;
    WireType type = WireType::varint;
    std::uint64_t value = 0;  ///< varint, fixed32 or fixed64 value
    ByteView data;            ///< payload of a length-delimited field
    ByteView raw;             ///< the whole field, tag included (to preserve unknown fields)
    std::size_t offset = 0;   ///< absolute offset of the tag
    std::size_t data_offset = 0;  ///< absolute offset of the value / payload
};

/// Bounds-checked reader over one message's bytes. Offsets in errors are absolute: `base_offset`
/// is where `data` starts in the outermost buffer. Does not own the bytes.
class Reader {
public:
    explicit Reader(ByteView data, std::size_t base_offset = 0, std::size_t depth = 0)
            : data_(data), base_(base_offset), depth_(depth) {}
    /// A Reader borrows its bytes: reading a temporary buffer would dangle.
    Reader(Bytes&&, std::size_t = 0, std::size_t = 0) = delete;

    bool at_end() const { return pos_ >= data_.size(); }
    /// Absolute offset of the next byte to read.
    std::size_t offset() const { return base_ + pos_; }
    std::size_t depth() const { return depth_; }

    /// Errors: proto_truncated (input ends inside the varint), proto_varint_overflow (more than 10
    /// bytes, or bits past 64 in the 10th byte).
    [[nodiscard]] Result<std::uint64_t> read_varint();
    /// Errors: proto_truncated.
    [[nodiscard]] Result<std::uint32_t> read_fixed32();
    [[nodiscard]] Result<std::uint64_t> read_fixed64();
    /// varint length then that many bytes. Errors: as read_varint, proto_length (past the end).
    [[nodiscard]] Result<ByteView> read_length_delimited();
    /// Reads the next tag and its value. Errors: as above, proto_wire_type (3/4 = groups, 6/7),
    /// proto_invalid_value (field number 0 or > kMaxFieldNumber, tag wider than 32 bits).
    [[nodiscard]] Result<Field> next();
    /// A reader over a length-delimited field's payload, one level deeper.
    /// Errors: proto_wire_type (not length-delimited), proto_nesting (deeper than kMaxDepth).
    [[nodiscard]] Result<Reader> nested(const Field& f) const;

private:
    ByteView data_;
    std::size_t base_ = 0;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
};

std::string_view wire_type_name(WireType t);

// ---------------------------------------------------------------------------------------------
// WebSocketResources.proto (desktop copies these into SignalService.proto). All optional.

struct WebSocketRequestMessage {
    std::optional<std::string> verb;        // 1
    std::optional<std::string> path;        // 2
    std::optional<Bytes> body;              // 3
    std::optional<std::uint64_t> request_id;  // 4 (desktop: `id`)
    std::vector<std::string> headers;       // 5
    Bytes unknown_fields;

    bool operator==(const WebSocketRequestMessage&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<WebSocketRequestMessage> decode(ByteView data);
};

struct WebSocketResponseMessage {
    std::optional<std::uint64_t> request_id;  // 1
    std::optional<std::uint32_t> status;      // 2
    std::optional<std::string> message;       // 3
    std::optional<Bytes> body;                // 4
    std::vector<std::string> headers;         // 5
    Bytes unknown_fields;

    bool operator==(const WebSocketResponseMessage&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<WebSocketResponseMessage> decode(ByteView data);
};

struct WebSocketMessage {
    enum class Type : std::int32_t { unknown = 0, request = 1, response = 2 };
    std::optional<Type> type;                          // 1
    std::optional<WebSocketRequestMessage> request;    // 2
    std::optional<WebSocketResponseMessage> response;  // 3
    Bytes unknown_fields;

    bool operator==(const WebSocketMessage&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<WebSocketMessage> decode(ByteView data);
};

// ---------------------------------------------------------------------------------------------
// SignalService.proto / SessionProtos.proto

struct Envelope {
    enum class Type : std::int32_t { session_message = 6, closed_group_message = 7 };
    Type type = Type::session_message;          // 1 required
    std::optional<std::string> source;          // 2
    std::uint64_t timestamp = 0;                // 5 required (ms)
    std::optional<std::uint32_t> source_device;  // 7
    std::optional<Bytes> content;               // 8
    std::optional<std::uint64_t> server_timestamp;  // 10
    std::optional<Bytes> pro_sig;               // 11
    Bytes unknown_fields;

    bool operator==(const Envelope&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<Envelope> decode(ByteView data);
};

struct LokiProfile {
    std::optional<std::string> display_name;     // 1
    std::optional<std::string> profile_picture;  // 2 (URL)
    std::optional<std::uint64_t> last_profile_update_seconds;  // 3
    Bytes unknown_fields;

    bool operator==(const LokiProfile&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<LokiProfile> decode(ByteView data);
};

struct AttachmentPointer {
    static constexpr std::uint32_t kFlagVoiceMessage = 1;
    std::uint64_t id = 0;                       // 1 required fixed64 (desktop: deprecated_id)
    std::optional<std::string> content_type;    // 2
    std::optional<Bytes> key;                   // 3
    std::optional<std::uint32_t> size;          // 4
    std::optional<Bytes> thumbnail;             // 5
    std::optional<Bytes> digest;                // 6
    std::optional<std::string> file_name;       // 7
    std::optional<std::uint32_t> flags;         // 8
    std::optional<std::uint32_t> width;         // 9
    std::optional<std::uint32_t> height;        // 10
    std::optional<std::string> caption;         // 11
    std::optional<std::string> url;             // 101
    Bytes unknown_fields;

    bool operator==(const AttachmentPointer&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<AttachmentPointer> decode(ByteView data);
};

struct QuotedAttachment {
    std::optional<std::string> content_type;      // 1
    std::optional<std::string> file_name;         // 2
    std::optional<AttachmentPointer> thumbnail;   // 3
    std::optional<std::uint32_t> flags;           // 4
    Bytes unknown_fields;

    bool operator==(const QuotedAttachment&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<QuotedAttachment> decode(ByteView data);
};

struct Quote {
    std::uint64_t id = 0;                        // 1 required (quoted message's timestamp)
    std::string author;                          // 2 required (Session ID hex)
    std::optional<std::string> text;             // 3
    std::vector<QuotedAttachment> attachments;   // 4
    Bytes unknown_fields;

    bool operator==(const Quote&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<Quote> decode(ByteView data);
};

struct Preview {
    std::string url;                             // 1 required
    std::optional<std::string> title;            // 2
    std::optional<AttachmentPointer> image;      // 3
    Bytes unknown_fields;

    bool operator==(const Preview&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<Preview> decode(ByteView data);
};

struct Reaction {
    enum class Action : std::int32_t { react = 0, remove = 1 };
    std::uint64_t id = 0;                        // 1 required (reacted message's timestamp)
    std::string author;                          // 2 required
    std::optional<std::string> emoji;            // 3
    Action action = Action::react;               // 4 required
    Bytes unknown_fields;

    bool operator==(const Reaction&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<Reaction> decode(ByteView data);
};

struct OpenGroupInvitation {
    std::string url;   // 1 required
    std::string name;  // 3 required
    Bytes unknown_fields;

    bool operator==(const OpenGroupInvitation&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<OpenGroupInvitation> decode(ByteView data);
};

struct DataMessage {
    static constexpr std::uint32_t kFlagExpirationTimerUpdate = 2;
    std::optional<std::string> body;                      // 1
    std::vector<AttachmentPointer> attachments;           // 2
    std::optional<std::uint32_t> flags;                   // 4
    std::optional<std::uint32_t> expire_timer;            // 5 legacy (read only; never sent)
    std::optional<Bytes> profile_key;                     // 6
    std::optional<std::uint64_t> timestamp;               // 7 legacy (reserved in desktop)
    std::optional<Quote> quote;                           // 8
    std::vector<Preview> preview;                         // 10
    std::optional<Reaction> reaction;                     // 11
    std::optional<LokiProfile> profile;                   // 101
    std::optional<OpenGroupInvitation> open_group_invitation;  // 102
    std::optional<std::string> sync_target;               // 105
    std::optional<bool> blocks_community_message_requests;  // 106
    Bytes unknown_fields;  // e.g. groupUpdateMessage (120)

    bool operator==(const DataMessage&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<DataMessage> decode(ByteView data);
};

struct ReceiptMessage {
    enum class Type : std::int32_t { delivery = 0, read = 1 };
    Type type = Type::read;                       // 1 required
    std::vector<std::uint64_t> timestamp;         // 2
    Bytes unknown_fields;

    bool operator==(const ReceiptMessage&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<ReceiptMessage> decode(ByteView data);
};

struct TypingMessage {
    enum class Action : std::int32_t { started = 0, stopped = 1 };
    std::uint64_t timestamp = 0;                  // 1 required
    Action action = Action::started;              // 2 required
    Bytes unknown_fields;

    bool operator==(const TypingMessage&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<TypingMessage> decode(ByteView data);
};

struct UnsendRequest {
    std::uint64_t timestamp = 0;  // 1 required
    std::string author;           // 2 required
    Bytes unknown_fields;

    bool operator==(const UnsendRequest&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<UnsendRequest> decode(ByteView data);
};

struct MessageRequestResponse {
    bool is_approved = false;                 // 1 required
    std::optional<Bytes> profile_key;         // 2
    std::optional<LokiProfile> profile;       // 3
    Bytes unknown_fields;

    bool operator==(const MessageRequestResponse&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<MessageRequestResponse> decode(ByteView data);
};

struct DataExtractionNotification {
    enum class Type : std::int32_t { screenshot = 1, media_saved = 2 };
    Type type = Type::screenshot;             // 1 required
    std::optional<std::uint64_t> timestamp;   // 2
    Bytes unknown_fields;

    bool operator==(const DataExtractionNotification&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<DataExtractionNotification> decode(ByteView data);
};

struct Content {
    std::optional<DataMessage> data_message;                               // 1
    std::optional<ReceiptMessage> receipt_message;                         // 5
    std::optional<TypingMessage> typing_message;                           // 6
    std::optional<DataExtractionNotification> data_extraction_notification;  // 8
    std::optional<UnsendRequest> unsend_request;                           // 9
    std::optional<MessageRequestResponse> message_request_response;        // 10
    std::optional<ExpirationType> expiration_type;                         // 12
    std::optional<std::uint32_t> expiration_timer;                         // 13 (seconds)
    std::optional<std::uint64_t> sig_timestamp;                            // 15 (ms)
    Bytes unknown_fields;  // callMessage (3), sharedConfigMessage (11), proMessage (16), ...

    bool operator==(const Content&) const = default;
    Bytes encode() const;
    [[nodiscard]] static Result<Content> decode(ByteView data);
};

}  // namespace session::proto
