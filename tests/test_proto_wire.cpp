#include "session/proto_wire.hpp"

#include <catch2/catch.hpp>
#include <random>

#include "support/vectors.hpp"

using namespace session;
using namespace session::proto;
using session::test::unhex;

namespace {

std::string hexof(const Bytes& b) { return to_hex(b); }

template <class T>
T decoded(const std::string& hex) {
    auto r = T::decode(unhex(hex));
    if (!r) FAIL("decode failed: " << r.error().message);
    return *r;
}

template <class T>
Error decode_error(const std::string& hex) {
    auto r = T::decode(unhex(hex));
    if (r) FAIL("decode of " << hex << " unexpectedly succeeded");
    return r.error();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

// ------------------------------------------------------------------------------ low level

TEST_CASE("proto_wire: writer encodes varints, fixed and length-delimited values", "[proto_wire]") {
    const std::pair<std::uint64_t, const char*> cases[] = {
        {0, "00"}, {1, "01"}, {127, "7f"}, {128, "8001"}, {300, "ac02"},
        {1725515532971ULL, "ab95f6859c32"}, {UINT64_MAX, "ffffffffffffffffff01"}};
    for (auto [v, hex] : cases) {
        Writer w;
        w.varint(v);
        CHECK(hexof(w.data()) == hex);
        Reader r(w.data());
        auto back = r.read_varint();
        REQUIRE(back);
        CHECK(*back == v);
        CHECK(r.at_end());
    }
    Writer w;
    w.fixed32(0x01020304);
    w.fixed64(0x0102030405060708ULL);
    w.int32_field(1, -1);
    w.length_delimited(as_bytes("ab"));
    CHECK(hexof(w.data()) == "04030201" "0807060504030201" "08ffffffffffffffffff01" "026162");
    CHECK_THROWS_AS(Writer{}.tag(0, WireType::varint), std::invalid_argument);
    CHECK_THROWS_AS(Writer{}.tag(kMaxFieldNumber + 1, WireType::varint), std::invalid_argument);
}

TEST_CASE("proto_wire: reader rejects truncated and overlong varints with their offset", "[proto_wire][reject]") {
    {
        const Bytes buf_r = unhex("80");
        Reader r(buf_r);
        auto v = r.read_varint();
        REQUIRE_FALSE(v);
        CHECK(v.error().code == Errc::proto_truncated);
        CHECK(contains(v.error().message, "at byte 0"));
    }
    {
        const Bytes buf_r = unhex("ffffffffffffffffffff01");
        Reader r(buf_r);  // 11 bytes
        auto v = r.read_varint();
        REQUIRE_FALSE(v);
        CHECK(v.error().code == Errc::proto_varint_overflow);
        CHECK(contains(v.error().message, "longer than 10 bytes"));
    }
    {
        const Bytes buf_r = unhex("ffffffffffffffffff02");
        Reader r(buf_r);  // bit 64 set in the 10th byte
        auto v = r.read_varint();
        REQUIRE_FALSE(v);
        CHECK(v.error().code == Errc::proto_varint_overflow);
        CHECK(contains(v.error().message, "overflows 64 bits"));
    }
    {
        // A non-minimal (padded) varint is valid protobuf and decodes to its value.
        const Bytes buf_r = unhex("8180808000");
        Reader r(buf_r);
        CHECK(r.read_varint().value() == 1);
    }
    {
        const Bytes buf_r = unhex("0a0361");
        Reader r(buf_r);  // field 1, length 3, only 1 byte left
        auto f = r.next();
        REQUIRE_FALSE(f);
        CHECK(f.error().code == Errc::proto_length);
        CHECK(contains(f.error().message, "length 3 runs past the end (1 bytes left) at byte 1"));
    }
    {
        const Bytes buf_r = unhex("0affffffff0f");
        Reader r(buf_r);  // absurd length 2^32-1
        auto f = r.next();
        REQUIRE_FALSE(f);
        CHECK(f.error().code == Errc::proto_length);
    }
    {
        const Bytes buf_r = unhex("0901020304");
        Reader r(buf_r);  // fixed64 with 4 bytes
        auto f = r.next();
        REQUIRE_FALSE(f);
        CHECK(f.error().code == Errc::proto_truncated);
        const Bytes buf_r2 = unhex("0d0102");
        Reader r2(buf_r2);  // fixed32 with 2 bytes
        CHECK(r2.next().error().code == Errc::proto_truncated);
        const Bytes buf_r3 = unhex("0880");
        Reader r3(buf_r3);  // varint value cut off
        CHECK(r3.next().error().code == Errc::proto_truncated);
    }
}

TEST_CASE("proto_wire: reader rejects groups, invalid wire types and field numbers", "[proto_wire][reject]") {
    for (const char* hex : {"0b", "0c", "0e", "0f"}) {  // field 1 wire types 3, 4, 6, 7
        const Bytes buf_r = unhex(hex);
        Reader r(buf_r);
        auto f = r.next();
        REQUIRE_FALSE(f);
        CHECK(f.error().code == Errc::proto_wire_type);
    }
    const Bytes grp = unhex("0b");
    CHECK(contains(Reader(grp).next().error().message, "group wire type 3"));
    const Bytes buf_zero = unhex("0001");
        Reader zero(buf_zero);  // field number 0
    CHECK(zero.next().error().code == Errc::proto_invalid_value);
    const Bytes buf_wide = unhex("8080808080800101");
        Reader wide(buf_wide);  // tag varint wider than 32 bits
    CHECK(wide.next().error().code == Errc::proto_invalid_value);
}

TEST_CASE("proto_wire: reader reads each wire type and keeps raw bytes", "[proto_wire]") {
    const Bytes buf_r = unhex("0805" "110807060504030201" "1a026869" "2d04030201");
        Reader r(buf_r);
    auto a = r.next().value();
    CHECK((a.number == 1 && a.type == WireType::varint && a.value == 5 && a.offset == 0));
    auto b = r.next().value();
    CHECK((b.number == 2 && b.type == WireType::fixed64 && b.value == 0x0102030405060708ULL && b.offset == 2));
    auto c = r.next().value();
    CHECK((c.number == 3 && c.type == WireType::length_delimited && to_string(c.data) == "hi"));
    CHECK((c.offset == 11 && c.data_offset == 13));
    CHECK(hexof(Bytes(c.raw.begin(), c.raw.end())) == "1a026869");
    auto d = r.next().value();
    CHECK((d.number == 5 && d.type == WireType::fixed32 && d.value == 0x01020304));
    CHECK(r.at_end());
}

TEST_CASE("proto_wire: nesting deeper than kMaxDepth is rejected", "[proto_wire][reject]") {
    // 40 levels of field 1 sub-messages around an empty message.
    Bytes inner;
    for (int i = 0; i < 40; ++i) {
        Writer w;
        w.bytes_field(1, inner);
        inner = std::move(w).take();
    }
    Reader r(inner);
    std::optional<Error> err;
    std::size_t levels = 0;
    for (;;) {
        auto f = r.next();
        REQUIRE(f);
        auto sub = r.nested(*f);
        if (!sub) {
            err = sub.error();
            break;
        }
        r = *sub;
        ++levels;
        if (r.at_end()) break;
    }
    REQUIRE(err);
    CHECK(err->code == Errc::proto_nesting);
    CHECK(levels == kMaxDepth);
    const Bytes buf_flat = unhex("0801");
        Reader flat(buf_flat);
    CHECK(flat.nested(flat.next().value()).error().code == Errc::proto_wire_type);
}

// ------------------------------------------------------------------------------ messages
// Expected bytes below are worked out by hand from the wire format (tag = field << 3 | type).

TEST_CASE("proto_wire: WebSocket messages encode to known bytes", "[proto_wire][kat]") {
    WebSocketRequestMessage req;
    req.verb = "PUT";
    req.path = "/a";
    req.body = Bytes{1, 2};
    req.request_id = 5;
    req.headers = {"h"};
    // 0a 03 "PUT" | 12 02 "/a" | 1a 02 0102 | 20 05 | 2a 01 "h"  (4 before 5: ascending numbers)
    const std::string req_hex = "0a03505554" "12022f61" "1a020102" "2005" "2a0168";
    CHECK(hexof(req.encode()) == req_hex);
    CHECK(decoded<WebSocketRequestMessage>(req_hex) == req);

    WebSocketResponseMessage resp;
    resp.request_id = 7;
    resp.status = 200;
    resp.message = "OK";
    resp.body = Bytes{'x'};
    resp.headers = {"a"};
    const std::string resp_hex = "0807" "10c801" "1a024f4b" "220178" "2a0161";
    CHECK(hexof(resp.encode()) == resp_hex);
    CHECK(decoded<WebSocketResponseMessage>(resp_hex) == resp);

    WebSocketMessage msg;
    msg.type = WebSocketMessage::Type::request;
    msg.request = WebSocketRequestMessage{};
    msg.request->verb = "PUT";
    const std::string msg_hex = "0801" "12050a03505554";
    CHECK(hexof(msg.encode()) == msg_hex);
    CHECK(decoded<WebSocketMessage>(msg_hex) == msg);

    WebSocketMessage with_resp;
    with_resp.type = WebSocketMessage::Type::response;
    with_resp.response = WebSocketResponseMessage{};
    with_resp.response->status = 200;
    CHECK(hexof(with_resp.encode()) == "0802" "1a0310c801");
    CHECK(hexof(WebSocketMessage{}.encode()).empty());
}

TEST_CASE("proto_wire: Envelope encodes to known bytes and requires type and timestamp", "[proto_wire][kat]") {
    Envelope e;
    e.type = Envelope::Type::session_message;
    e.timestamp = 1725515532971ULL;
    e.source_device = 1;
    e.content = Bytes{0xaa, 0xbb};
    const std::string hex = "0806" "28ab95f6859c32" "3801" "4202aabb";
    CHECK(hexof(e.encode()) == hex);
    CHECK(decoded<Envelope>(hex) == e);

    e.source = "05ab";
    e.server_timestamp = 2;
    e.pro_sig = Bytes{0x01};
    const std::string full = "0806" "120430356162" "28ab95f6859c32" "3801" "4202aabb" "5002" "5a0101";
    CHECK(hexof(e.encode()) == full);
    CHECK(decoded<Envelope>(full) == e);

    // Required fields are written even when left at their defaults.
    CHECK(hexof(Envelope{}.encode()) == "0806" "2800");

    auto no_type = decode_error<Envelope>("2801");
    CHECK(no_type.code == Errc::proto_missing_required);
    CHECK(contains(no_type.message, "Envelope.type (field 1)"));
    auto no_ts = decode_error<Envelope>("0806");
    CHECK(no_ts.code == Errc::proto_missing_required);
    CHECK(contains(no_ts.message, "Envelope.timestamp (field 5)"));
    CHECK(decode_error<Envelope>("").code == Errc::proto_missing_required);
}

TEST_CASE("proto_wire: LokiProfile, AttachmentPointer and OpenGroupInvitation known bytes", "[proto_wire][kat]") {
    LokiProfile p;
    p.display_name = "Al";
    p.profile_picture = "u";
    p.last_profile_update_seconds = 3;
    CHECK(hexof(p.encode()) == "0a02416c" "120175" "1803");
    CHECK(decoded<LokiProfile>("0a02416c1201751803") == p);
    CHECK(hexof(LokiProfile{}.encode()).empty());

    AttachmentPointer a;
    a.id = 1;
    a.content_type = "t";
    a.key = Bytes{0x01};
    a.size = 10;
    a.thumbnail = Bytes{0x02};
    a.digest = Bytes{0x03};
    a.file_name = "f";
    a.flags = AttachmentPointer::kFlagVoiceMessage;
    a.width = 2;
    a.height = 3;
    a.caption = "c";
    a.url = "u";
    // id is fixed64 (wire type 1); url is field 101 -> tag 810 -> varint aa 06.
    const std::string hex = "090100000000000000" "120174" "1a0101" "200a" "2a0102" "320103" "3a0166" "4001" "4802"
                            "5003" "5a0163" "aa060175";
    CHECK(hexof(a.encode()) == hex);
    CHECK(decoded<AttachmentPointer>(hex) == a);
    CHECK(hexof(AttachmentPointer{}.encode()) == "090000000000000000");
    CHECK(decode_error<AttachmentPointer>("120174").code == Errc::proto_missing_required);
    // id sent as a varint is the wrong wire type.
    auto wt = decode_error<AttachmentPointer>("0801");
    CHECK(wt.code == Errc::proto_wire_type);
    CHECK(contains(wt.message, "AttachmentPointer.id (field 1): expected wire type 1 (fixed64), got 0 (varint) at byte 0"));

    OpenGroupInvitation inv;
    inv.url = "u";
    inv.name = "n";
    CHECK(hexof(inv.encode()) == "0a0175" "1a016e");
    CHECK(decoded<OpenGroupInvitation>("0a01751a016e") == inv);
    CHECK(decode_error<OpenGroupInvitation>("0a0175").code == Errc::proto_missing_required);
}

TEST_CASE("proto_wire: Quote, Preview and Reaction known bytes", "[proto_wire][kat]") {
    Quote q;
    q.id = 5;
    q.author = "a";
    q.text = "t";
    QuotedAttachment qa;
    qa.content_type = "i";
    qa.thumbnail = AttachmentPointer{};
    qa.flags = 1;
    q.attachments.push_back(qa);
    // QuotedAttachment: 0a 01 "i" | 1a 09 (09 + 8 zero bytes) | 20 01  = 16 bytes
    const std::string qa_hex = "0a0169" "1a09090000000000000000" "2001";
    CHECK(hexof(qa.encode()) == qa_hex);
    const std::string hex = "0805" "120161" "1a0174" "2210" + qa_hex;
    CHECK(hexof(q.encode()) == hex);
    CHECK(decoded<Quote>(hex) == q);
    CHECK(contains(decode_error<Quote>("0805").message, "Quote.author (field 2)"));

    Preview pv;
    pv.url = "u";
    pv.title = "t";
    pv.image = AttachmentPointer{};
    const std::string pv_hex = "0a0175" "120174" "1a09090000000000000000";
    CHECK(hexof(pv.encode()) == pv_hex);
    CHECK(decoded<Preview>(pv_hex) == pv);
    CHECK(decode_error<Preview>("120174").code == Errc::proto_missing_required);

    Reaction r;
    r.id = 9;
    r.author = "a";
    r.emoji = "\xf0\x9f\x91\x8d";  // thumbs up
    r.action = Reaction::Action::remove;
    const std::string r_hex = "0809" "120161" "1a04f09f918d" "2001";
    CHECK(hexof(r.encode()) == r_hex);
    CHECK(decoded<Reaction>(r_hex) == r);
    CHECK(hexof(Reaction{}.encode()) == "0800" "1200" "2000");
    CHECK(contains(decode_error<Reaction>("08091201611a0161").message, "Reaction.action (field 4)"));
}

TEST_CASE("proto_wire: DataMessage known bytes", "[proto_wire][kat]") {
    DataMessage d;
    d.body = "hi";
    d.attachments.push_back(AttachmentPointer{});
    d.flags = DataMessage::kFlagExpirationTimerUpdate;
    d.expire_timer = 60;
    d.profile_key = Bytes{'k'};
    d.timestamp = 1000;
    d.quote = Quote{};
    d.preview.push_back(Preview{});
    d.reaction = Reaction{};
    d.profile = LokiProfile{};
    d.profile->display_name = "A";
    d.open_group_invitation = OpenGroupInvitation{};
    d.sync_target = "s";
    d.blocks_community_message_requests = true;
    const std::string hex = "0a026869"                // 1 body
                            "1209090000000000000000"  // 2 attachments
                            "2002"                    // 4 flags
                            "283c"                    // 5 expireTimer
                            "32016b"                  // 6 profileKey
                            "38e807"                  // 7 timestamp
                            "420408001200"            // 8 quote {id 0, author ""}
                            "52020a00"                // 10 preview {url ""}
                            "5a06080012002000"        // 11 reaction
                            "aa06030a0141"            // 101 profile (tag 810)
                            "b206040a001a00"          // 102 openGroupInvitation (tag 818)
                            "ca060173"                // 105 syncTarget (tag 842)
                            "d00601";                 // 106 blocksCommunityMessageRequests (tag 848)
    CHECK(hexof(d.encode()) == hex);
    CHECK(decoded<DataMessage>(hex) == d);

    DataMessage plain;
    plain.body = "";
    CHECK(hexof(plain.encode()) == "0a00");  // present-but-empty is written
    CHECK(hexof(DataMessage{}.encode()).empty());
    CHECK(decoded<DataMessage>("0a00").body == std::optional<std::string>(""));
    CHECK_FALSE(decoded<DataMessage>("").body.has_value());
}

TEST_CASE("proto_wire: control messages known bytes", "[proto_wire][kat]") {
    ReceiptMessage rm;
    rm.type = ReceiptMessage::Type::read;
    rm.timestamp = {1, 300};
    CHECK(hexof(rm.encode()) == "0801" "1001" "10ac02");  // unpacked (proto2 default)
    CHECK(decoded<ReceiptMessage>("0801100110ac02") == rm);
    CHECK(decoded<ReceiptMessage>("08011203" "01ac02") == rm);  // packed form is accepted too
    CHECK(decode_error<ReceiptMessage>("1001").code == Errc::proto_missing_required);
    auto packed_err = decode_error<ReceiptMessage>("08011202" "01ac");
    CHECK(packed_err.code == Errc::proto_truncated);
    CHECK(packed_err.message == "proto: ReceiptMessage.timestamp (field 2) (packed): varint truncated after 1 bytes (input ends) at byte 5");

    TypingMessage t;
    t.timestamp = 1000;
    t.action = TypingMessage::Action::stopped;
    CHECK(hexof(t.encode()) == "08e807" "1001");
    CHECK(decoded<TypingMessage>("08e8071001") == t);
    CHECK(decode_error<TypingMessage>("08e807").code == Errc::proto_missing_required);

    UnsendRequest u;
    u.timestamp = 1;
    u.author = "a";
    CHECK(hexof(u.encode()) == "0801" "120161");
    CHECK(decoded<UnsendRequest>("0801120161") == u);
    CHECK(decode_error<UnsendRequest>("0801").code == Errc::proto_missing_required);

    MessageRequestResponse m;
    m.is_approved = true;
    m.profile_key = Bytes{1};
    m.profile = LokiProfile{};
    m.profile->display_name = "A";
    CHECK(hexof(m.encode()) == "0801" "120101" "1a030a0141");
    CHECK(decoded<MessageRequestResponse>("08011201011a030a0141") == m);
    CHECK(decode_error<MessageRequestResponse>("120101").code == Errc::proto_missing_required);

    DataExtractionNotification x;
    x.type = DataExtractionNotification::Type::media_saved;
    x.timestamp = 5;
    CHECK(hexof(x.encode()) == "0802" "1005");
    CHECK(decoded<DataExtractionNotification>("08021005") == x);
    CHECK(decode_error<DataExtractionNotification>("1005").code == Errc::proto_missing_required);
}

TEST_CASE("proto_wire: Content known bytes", "[proto_wire][kat]") {
    Content c;
    c.data_message = DataMessage{};
    c.data_message->body = "hi";
    c.expiration_type = ExpirationType::none;
    c.expiration_timer = 0;
    c.sig_timestamp = 1000;
    const std::string hex = "0a040a026869" "6000" "6800" "78e807";
    CHECK(hexof(c.encode()) == hex);
    CHECK(decoded<Content>(hex) == c);

    Content all;
    all.receipt_message = ReceiptMessage{};
    all.typing_message = TypingMessage{};
    all.data_extraction_notification = DataExtractionNotification{};
    all.unsend_request = UnsendRequest{};
    all.message_request_response = MessageRequestResponse{};
    const std::string all_hex = "2a020801"      // 5 receipt {type READ}
                                "3204" "08001000"  // 6 typing
                                "42020801"      // 8 data extraction {SCREENSHOT}
                                "4a04" "08001200"  // 9 unsend
                                "52020800";     // 10 message request response
    CHECK(hexof(all.encode()) == all_hex);
    CHECK(decoded<Content>(all_hex) == all);
}

TEST_CASE("proto_wire: unknown fields of every wire type are skipped and preserved", "[proto_wire]") {
    // callMessage (3, a sub-message), then unknown fixed32 #20, fixed64 #21, varint #22, bytes #16.
    const std::string unknown = "1a020806" "a50104030201" "a9010807060504030201" "b00105" "820100";
    const std::string hex = "0a040a026869" + unknown + "78e807";
    auto c = decoded<Content>(hex);
    REQUIRE(c.data_message);
    CHECK(c.data_message->body == "hi");
    CHECK(c.sig_timestamp == 1000u);
    CHECK(hexof(c.unknown_fields) == unknown);
    // Re-encoding writes known fields in order, then the unknown ones.
    CHECK(hexof(c.encode()) == "0a040a026869" "78e807" + unknown);
    CHECK(decoded<Content>(hexof(c.encode())) == c);
}

TEST_CASE("proto_wire: wrong wire types for known fields are rejected with position", "[proto_wire][reject]") {
    auto e = decode_error<DataMessage>("0801");
    CHECK(e.code == Errc::proto_wire_type);
    CHECK(contains(e.message, "DataMessage.body (field 1): expected wire type 2 (length-delimited), got 0 (varint) at byte 0"));
    // Nested: Content.dataMessage { body as varint } -> offset of the inner tag in the outer buffer.
    auto n = decode_error<Content>("78e807" "0a020801");
    CHECK(n.code == Errc::proto_wire_type);
    CHECK(contains(n.message, "DataMessage.body (field 1)"));
    CHECK(contains(n.message, "at byte 5"));
    auto sub = decode_error<Content>("0801");
    CHECK(sub.code == Errc::proto_wire_type);
    CHECK(contains(sub.message, "Content.dataMessage (field 1)"));
    CHECK(decode_error<Envelope>("0d06000000" "2801").code == Errc::proto_wire_type);
    // A nested message missing a required field fails the whole parse (libprotobuf IsInitialized).
    auto q = decode_error<Content>("0a04" "42020805");
    CHECK(q.code == Errc::proto_missing_required);
    CHECK(contains(q.message, "Quote.author"));
    // Truncation inside a nested message reports the inner message name.
    auto t = decode_error<Content>("0a03" "0a0568");
    CHECK(t.code == Errc::proto_length);
    CHECK(contains(t.message, "DataMessage"));
}

TEST_CASE("proto_wire: scalar decoding follows protobuf conventions", "[proto_wire]") {
    // last value wins for a repeated non-repeated field
    CHECK(decoded<DataMessage>("0a01610a0162").body == std::optional<std::string>("b"));
    // uint32 keeps the low 32 bits of a wider varint
    CHECK(decoded<DataMessage>("20" "8280808010").flags == 2u);
    // any non-zero varint is true
    CHECK(decoded<DataMessage>("d00605").blocks_community_message_requests == true);
    // an unknown enum value is kept as its number
    auto c = decoded<Content>("6009");
    REQUIRE(c.expiration_type);
    CHECK(static_cast<int>(*c.expiration_type) == 9);
    CHECK(hexof(c.encode()) == "6009");
    // negative int32 enum round-trips as a 10-byte varint
    Content neg;
    neg.expiration_type = static_cast<ExpirationType>(-1);
    CHECK(hexof(neg.encode()) == "60ffffffffffffffffff01");
    CHECK(decoded<Content>("60ffffffffffffffffff01") == neg);
}

TEST_CASE("proto_wire: rich Content round-trips exactly", "[proto_wire]") {
    Content c;
    c.data_message = DataMessage{};
    auto& d = *c.data_message;
    d.body = std::string(5000, 'x') + "\xe2\x9c\x93";
    for (int i = 0; i < 3; ++i) {
        AttachmentPointer a;
        a.id = 0;
        a.content_type = "image/png";
        a.key = Bytes(32, static_cast<std::uint8_t>(i));
        a.size = 123456;
        a.digest = Bytes(32, 0xee);
        a.url = "http://filev2.getsession.org/file/" + std::to_string(i);
        d.attachments.push_back(a);
    }
    d.quote = Quote{};
    d.quote->id = 1700000000000ULL;
    d.quote->author = "05" + std::string(64, 'a');
    d.quote->text = "quoted";
    d.reaction = Reaction{};
    d.reaction->emoji = "x";
    d.profile = LokiProfile{};
    d.profile->display_name = "Alice";
    d.profile_key = Bytes(32, 7);
    d.blocks_community_message_requests = false;
    c.expiration_type = ExpirationType::delete_after_read;
    c.expiration_timer = 86400;
    c.sig_timestamp = 1725515532971ULL;
    auto bytes = c.encode();
    auto back = Content::decode(bytes);
    REQUIRE(back);
    CHECK(*back == c);
    CHECK(back->encode() == bytes);
}

TEST_CASE("proto_wire: decodes the protocol.md 2.5 WebSocketMessage example", "[proto_wire][kat]") {
    const auto v = test::vector("message_hash.json", "compute_message_hash_ns_minus10_1");
    auto raw = base64_decode(v.at("data_b64").get<std::string>());
    REQUIRE(raw);
    auto msg = WebSocketMessage::decode(*raw);
    REQUIRE(msg);
    CHECK(msg->type == WebSocketMessage::Type::request);
    REQUIRE(msg->request);
    CHECK(msg->request->verb == std::optional<std::string>("PUT"));
    CHECK(msg->request->path == std::optional<std::string>("/api/v1/message"));
    CHECK(msg->request->request_id.has_value());
    REQUIRE(msg->request->body);
    auto env = Envelope::decode(*msg->request->body);
    REQUIRE(env);
    CHECK(env->type == Envelope::Type::closed_group_message);
    CHECK(env->source == std::optional<std::string>("0518981d2822aabc9ba8dbf83f2feac4c70eb737930bc4f254fa71e01f8464a049"));
    CHECK(env->timestamp == 1725515532971ULL);
    CHECK(env->source_device == 1u);
    REQUIRE(env->content);
    CHECK(env->content->size() == 303);
    // Our encoder reproduces both layers byte for byte (same field order as the official encoder).
    CHECK(env->encode() == *msg->request->body);
    CHECK(msg->encode() == *raw);

    const auto v2 = test::vector("message_hash.json", "compute_message_hash_ns_minus10_2");
    auto raw2 = base64_decode(v2.at("data_b64").get<std::string>());
    REQUIRE(raw2);
    auto msg2 = WebSocketMessage::decode(*raw2);
    REQUIRE(msg2);
    CHECK(msg2->encode() == *raw2);
}

TEST_CASE("proto_wire: random and mutated input never crashes the decoders", "[proto_wire][reject]") {
    std::mt19937 gen(12345);
    Content c;
    c.data_message = DataMessage{};
    c.data_message->body = "hello";
    c.data_message->quote = Quote{};
    c.data_message->quote->attachments.resize(1);
    c.data_message->attachments.resize(2);
    c.data_message->profile = LokiProfile{};
    c.receipt_message = ReceiptMessage{};
    c.receipt_message->timestamp = {1, 2, 3};
    c.sig_timestamp = 42;
    const Bytes good = c.encode();
    std::size_t ok = 0, failed = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes b = good;
        if (i % 2 == 0) {
            b.resize(gen() % 64);
            for (auto& x : b) x = static_cast<std::uint8_t>(gen());
        } else {
            for (int k = 0; k < 1 + static_cast<int>(gen() % 3); ++k) b[gen() % b.size()] ^= static_cast<std::uint8_t>(1u << (gen() % 8));
            if (gen() % 4 == 0) b.resize(gen() % b.size());
        }
        auto r = Content::decode(b);
        (r ? ok : failed)++;
        if (r) CHECK(Content::decode(r->encode()).has_value());
        (void)Envelope::decode(b);
        (void)WebSocketMessage::decode(b);
    }
    CHECK(ok > 0);
    CHECK(failed > 0);
}
