// test_conversation.cpp: the conversation kinds' Contents byte for byte (protocol.md §3.3–3.5,
// session-desktop's message classes), their typed parsing and refusals, the book, and the signed
// delete/expire strings (storage-server.md §4.5).
#include "detail/conversation.hpp"

#include <catch2/catch.hpp>

#include "support/vectors.hpp"

using namespace session;
using session::test::unhex;

namespace {

constexpr std::int64_t T1 = 1700000000000;
constexpr std::int64_t T2 = 1700000000001;

SessionId sid(char fill) { return *SessionId::parse("05" + std::string(64, fill)); }

std::string hex_of(const proto::Content& c) { return to_hex(c.encode()); }

}  // namespace

TEST_CASE("conversation: receipt Content bytes", "[conversation]") {
    // Content{5: ReceiptMessage{1 type = READ (1), 2 timestamp = T1, 2 timestamp = T2}} (unpacked)
    CHECK(hex_of(detail::receipt_content(ReceiptType::read, {T1, T2})) == "2a1008011080d095ffbc311081d095ffbc31");
}

TEST_CASE("conversation: typing Content bytes", "[conversation]") {
    // Content{6: TypingMessage{1 timestamp = T1, 2 action = STOPPED (1)}}
    CHECK(hex_of(detail::typing_content(TypingAction::stopped, T1)) == "32090880d095ffbc311001");
    // STARTED (0) is a required field: written as 0.
    CHECK(hex_of(detail::typing_content(TypingAction::started, T1)) == "32090880d095ffbc311000");
}

TEST_CASE("conversation: unsend Content bytes", "[conversation]") {
    const std::string author = "05" + std::string(64, 'a');
    // Content{9: UnsendRequest{1 timestamp = T1, 2 author = "05aa…"}}
    const std::string expect = "4a4b0880d095ffbc311242" + to_hex(as_bytes(author));
    CHECK(hex_of(detail::unsend_content(T1, author)) == expect);
}

TEST_CASE("conversation: message request response Content bytes", "[conversation]") {
    // Content{10: MessageRequestResponse{1 isApproved = true, 3 profile{1 displayName "Bot",
    // 3 lastProfileUpdateSeconds = T1 / 1000}}}
    CHECK(hex_of(detail::request_response_content("Bot", T1)) == "520f08011a0b0a03426f741880e2cfaa06");
    // No name: the profile carries only the update time.
    CHECK(hex_of(detail::request_response_content("", T1)) == "520a08011a0618" "80e2cfaa06");
}

TEST_CASE("conversation: timer update and data extraction Content bytes", "[conversation]") {
    // Content{1: DataMessage{4 flags = EXPIRATION_TIMER_UPDATE (2)}}; mode and timer are the pipeline's.
    CHECK(hex_of(detail::timer_update_content()) == "0a022002");
    // Content{8: DataExtractionNotification{1 type = MEDIA_SAVED (2), 2 timestamp = T1}}
    CHECK(hex_of(detail::data_extraction_content(DataExtractionType::media_saved, T1)) == "420908021080d095ffbc31");
}

TEST_CASE("conversation: parse surfaces each kind's fields", "[conversation]") {
    const SessionId alice = sid('a');
    SECTION("receipt") {
        auto p = detail::parse(detail::receipt_content(ReceiptType::read, {T1, T2}), MessageKind::receipt, alice);
        REQUIRE(p);
        REQUIRE(p->receipt);
        CHECK(p->receipt->type == ReceiptType::read);
        CHECK(p->receipt->timestamps == std::vector<std::int64_t>{T1, T2});
    }
    SECTION("typing") {
        auto p = detail::parse(detail::typing_content(TypingAction::stopped, T1), MessageKind::typing, alice);
        REQUIRE(p);
        CHECK(p->typing == TypingAction::stopped);
    }
    SECTION("unsend by its author") {
        auto p = detail::parse(detail::unsend_content(T1, alice.hex()), MessageKind::unsend, alice);
        REQUIRE(p);
        REQUIRE(p->unsend);
        CHECK(p->unsend->timestamp_ms == T1);
        CHECK(p->unsend->author == alice.hex());
    }
    SECTION("unsend of someone else's message is refused") {
        auto p = detail::parse(detail::unsend_content(T1, sid('b').hex()), MessageKind::unsend, alice);
        REQUIRE_FALSE(p);
        CHECK(p.error().code == Errc::receive_unsend_not_author);
    }
    SECTION("request response") {
        auto p = detail::parse(detail::request_response_content("Bot", T1), MessageKind::message_request_response,
                               alice);
        REQUIRE(p);
        REQUIRE(p->request_response);
        CHECK(p->request_response->approved);
        CHECK(p->request_response->display_name == "Bot");
    }
    SECTION("timer update") {
        auto c = detail::timer_update_content();
        c.expiration_type = ExpirationType::delete_after_read;
        c.expiration_timer = 3600;
        auto p = detail::parse(c, MessageKind::expiration_timer_update, alice);
        REQUIRE(p);
        CHECK(p->timer_update == DisappearingSetting{ExpirationType::delete_after_read, std::chrono::seconds(3600)});
        c.expiration_timer = 0;  // off, whatever the mode says
        p = detail::parse(c, MessageKind::expiration_timer_update, alice);
        REQUIRE(p);
        CHECK(p->timer_update == DisappearingSetting{});
    }
    SECTION("data extraction") {
        auto p = detail::parse(detail::data_extraction_content(DataExtractionType::screenshot, T1),
                               MessageKind::data_extraction, alice);
        REQUIRE(p);
        REQUIRE(p->data_extraction);
        CHECK(p->data_extraction->type == DataExtractionType::screenshot);
        CHECK(p->data_extraction->timestamp_ms == T1);
    }
    SECTION("reaction and quote") {
        proto::Content c;
        c.data_message.emplace();
        c.data_message->reaction = proto::Reaction{static_cast<std::uint64_t>(T1), alice.hex(), "👍",
                                                   proto::Reaction::Action::remove, {}};
        auto p = detail::parse(c, MessageKind::reaction, alice);
        REQUIRE(p);
        CHECK(p->reaction == ReactionInfo{T1, alice.hex(), "👍", true});
        proto::Content q;
        q.data_message.emplace();
        q.data_message->body = "yes";
        q.data_message->quote = proto::Quote{static_cast<std::uint64_t>(T2), alice.hex(), "hi?", {}, {}};
        p = detail::parse(q, MessageKind::text, alice);
        REQUIRE(p);
        CHECK(p->quote == QuoteInfo{T2, alice.hex(), "hi?"});
    }
}

TEST_CASE("conversation: malformed kinds are refused with reasons", "[conversation]") {
    const SessionId alice = sid('a');
    auto refused = [&](const proto::Content& c, MessageKind kind) {
        auto p = detail::parse(c, kind, alice);
        REQUIRE_FALSE(p);
        CHECK(p.error().code == Errc::receive_malformed_kind);
        return p.error().message;
    };
    auto r = detail::receipt_content(ReceiptType::read, {T1});
    r.receipt_message->type = static_cast<proto::ReceiptMessage::Type>(7);
    CHECK(refused(r, MessageKind::receipt).find("ReceiptMessage.type") != std::string::npos);
    r = detail::receipt_content(ReceiptType::read, {T1});
    r.receipt_message->timestamp.push_back(UINT64_MAX);
    CHECK(refused(r, MessageKind::receipt).find("timestamp[1]") != std::string::npos);

    auto t = detail::typing_content(TypingAction::started, T1);
    t.typing_message->action = static_cast<proto::TypingMessage::Action>(2);
    CHECK(refused(t, MessageKind::typing).find("TypingMessage.action") != std::string::npos);

    proto::Content re;
    re.data_message.emplace();
    re.data_message->reaction = proto::Reaction{1, alice.hex(), "x", static_cast<proto::Reaction::Action>(5), {}};
    CHECK(refused(re, MessageKind::reaction).find("Reaction.action") != std::string::npos);
    re.data_message->reaction->action = proto::Reaction::Action::react;
    re.data_message->reaction->emoji.reset();
    CHECK(refused(re, MessageKind::reaction).find("Reaction.emoji") != std::string::npos);

    auto d = detail::data_extraction_content(DataExtractionType::screenshot, T1);
    d.data_extraction_notification->type = static_cast<proto::DataExtractionNotification::Type>(0);
    CHECK(refused(d, MessageKind::data_extraction).find("DataExtractionNotification.type") != std::string::npos);

    auto u = detail::timer_update_content();
    u.expiration_type = static_cast<ExpirationType>(9);
    u.expiration_timer = 60;
    CHECK(refused(u, MessageKind::expiration_timer_update).find("expirationType") != std::string::npos);
    u.expiration_type = ExpirationType::none;
    CHECK(refused(u, MessageKind::expiration_timer_update).find("without a disappearing mode") != std::string::npos);
}

TEST_CASE("conversation: a kind missing a required field does not decode", "[conversation]") {
    // Content{6: TypingMessage{1 timestamp}} without the required action.
    auto c = proto::Content::decode(unhex("32070880d095ffbc31"));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == Errc::proto_missing_required);
    // Content{9: UnsendRequest{2 author "x"}} without the timestamp.
    c = proto::Content::decode(unhex("4a03120178"));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == Errc::proto_missing_required);
}

TEST_CASE("conversation: the book", "[conversation]") {
    detail::ConversationBook book;
    const SessionId alice = sid('a'), bob = sid('b');
    CHECK(book.setting(alice) == DisappearingSetting{});
    book.set_setting(alice, {ExpirationType::delete_after_send, std::chrono::seconds(60)});
    CHECK(book.setting(alice).timer == std::chrono::seconds(60));
    CHECK(book.setting(bob) == DisappearingSetting{});

    // Alice writes first: a request, which our first reply accepts; a typing indicator is no writing.
    CHECK(book.note_incoming(bob, false));
    CHECK_FALSE(book.needs_accept(bob));
    CHECK(book.note_incoming(alice, true));
    CHECK(book.needs_accept(alice));
    book.note_outgoing(alice);
    CHECK_FALSE(book.needs_accept(alice));
    CHECK_FALSE(book.note_incoming(alice, true));

    book.note_own_copy(alice, T1, "h1");
    book.note_own_copy(alice, T1, "h1");
    CHECK(book.take_own_copies(alice, T1) == std::vector<std::string>{"h1"});
    CHECK(book.take_own_copies(alice, T1).empty());

    book.note_after_read(alice, T1, {"a1", std::chrono::seconds(30), 0});
    book.note_after_read(alice, T2, {"a2", std::chrono::seconds(30), 0});
    auto got = book.take_after_read(alice, {T2, 5});
    REQUIRE(got.size() == 1);
    CHECK(got[0].hash == "a2");
    CHECK(got[0].timestamp_ms == T2);
    CHECK(book.take_after_read(bob, {T1}).empty());
}

TEST_CASE("conversation: the book stays bounded", "[conversation]") {
    detail::ConversationBook book;
    const SessionId alice = sid('a');
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(detail::ConversationBook::kMaxEntries) + 10; ++i)
        book.note_after_read(alice, i, {"h", std::chrono::seconds(1), 0});
    CHECK(book.take_after_read(alice, {0, 9}).empty());  // the oldest were dropped
    CHECK(book.take_after_read(alice, {10}).size() == 1);
}

TEST_CASE("conversation: signed delete and expire strings", "[conversation]") {
    const std::vector<std::string> hashes{"h2", "h1"};
    CHECK(detail::delete_signature_message(hashes) == "deleteh2h1");  // request order
    CHECK(detail::expire_shorten_signature_message(T1, hashes) == "expireshorten1700000000000h2h1");
}
