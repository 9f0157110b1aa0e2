// The conversation kinds end to end on the in-process local network: each kind sent by one Client
// is received by another with its typed fields and the exact Content fields desktop sends; unsend
// deletes our sync copy from the swarm; mark_read shortens a delete-after-read message, which the
// swarm then drops; refusals (unsend by a non-author, malformed kinds) are skipped with reasons.
#include <catch2/catch.hpp>

#include <thread>

#include "detail/conversation.hpp"
#include "detail/sender.hpp"
#include "localnet/test_client_support.hpp"
#include "session/client.hpp"

using namespace session;

namespace {

using LocalNet = test::LocalNetFile;

// An account that can be opened by several Clients (as several processes would).
struct Account {
    ByteArray<32> seed{};
    Account() { system_rng()->fill(seed); }
    Identity clone() const { return Identity::from_ed25519_seed(Secret<32>(std::span<const std::uint8_t, 32>(seed))); }
};
Identity new_identity() { return Account().clone(); }

Client client_for(const LocalNet& ln, Identity id, std::string name = {}) {
    ClientOptions o;
    o.display_name = std::move(name);
    auto c = Client::create(std::move(id), ln.client_net(), std::move(o));
    if (!c) FAIL("client: " << c.error().message);
    return std::move(*c);
}

std::vector<ReceivedMessage> receive_all(Client& c) {
    auto r = c.receive(c.resume_hash());
    if (!r) FAIL("receive: " << r.error().message);
    for (const auto& s : r->skipped) UNSCOPED_INFO("skipped: " << s.reason.message);
    return std::move(r->messages);
}

// Seals an arbitrary Content from `from` to `to` through the same pipeline (for hostile kinds).
std::int64_t send_raw(const LocalNet& ln, const Identity& from, const SessionId& to, proto::Content c) {
    detail::Sender sender(from, ln.client_net(), {});
    detail::SendSpec spec;
    spec.expirable = false;
    auto sent = sender.send(to, [&](std::int64_t) { return c; }, spec);
    if (!sent) FAIL("send_raw: " << sent.error().message);
    return sent->timestamp_ms;
}

bool holds(Client& c, const std::string& hash) {
    auto r = c.receive("");
    if (!r) FAIL("receive: " << r.error().message);
    for (const auto& m : r->messages)
        if (m.hash == hash) return true;
    return false;
}

}  // namespace

TEST_CASE("conversation: every kind round-trips with desktop's fields", "[conversation][localnet]") {
    LocalNet ln;
    Account alice_id;
    Account bob_id;
    auto alice = client_for(ln, alice_id.clone(), "Alice");
    auto bob = client_for(ln, bob_id.clone(), "Bob");
    const SessionId A = alice.session_id(), B = bob.session_id();

    auto hello = alice.send(B, "hello");
    REQUIRE(hello);
    auto got = receive_all(bob);
    REQUIRE(got.size() == 1);
    CHECK(got[0].message_request);  // Bob never wrote to Alice
    CHECK_FALSE(got[0].quote);

    SECTION("read receipt, typing, data extraction") {
        const auto retrieves = ln.method_count("retrieve");
        auto r = bob.mark_read(A, {hello->timestamp_ms});
        REQUIRE(r);
        CHECK(r->shortened.empty());  // not a delete-after-read message
        // Bob received it in this process: no need to read his swarm to know that.
        CHECK(ln.method_count("retrieve") == retrieves);
        auto t = bob.send_typing(A, TypingAction::started);
        REQUIRE(t);
        CHECK(t->expiry_ms - t->timestamp_ms <= kTypingMessageTtl.count() + 1000);
        auto d = bob.send_data_extraction(A, DataExtractionType::screenshot, hello->timestamp_ms);
        REQUIRE(d);
        auto in = receive_all(alice);
        REQUIRE(in.size() == 3);
        CHECK(in[0].kind == MessageKind::receipt);
        REQUIRE(in[0].receipt);
        CHECK(in[0].receipt->type == ReceiptType::read);
        CHECK(in[0].receipt->timestamps == std::vector<std::int64_t>{hello->timestamp_ms});
        // ReadReceiptMessage is a plain ContentMessage: receiptMessage + sigTimestamp, nothing else.
        CHECK_FALSE(in[0].content.expiration_type);
        CHECK_FALSE(in[0].content.expiration_timer);
        CHECK(in[0].content.sig_timestamp == static_cast<std::uint64_t>(r->timestamp_ms));
        CHECK_FALSE(in[0].content.data_message);
        CHECK(in[0].content.unknown_fields.empty());
        CHECK_FALSE(in[0].message_request);  // Alice wrote to Bob first

        CHECK(in[1].kind == MessageKind::typing);
        CHECK(in[1].typing == TypingAction::started);
        CHECK(in[1].content.typing_message->timestamp == static_cast<std::uint64_t>(t->timestamp_ms));
        CHECK_FALSE(in[1].content.expiration_type);

        CHECK(in[2].kind == MessageKind::data_extraction);
        REQUIRE(in[2].data_extraction);
        CHECK(in[2].data_extraction->type == DataExtractionType::screenshot);
        CHECK(in[2].data_extraction->timestamp_ms == hello->timestamp_ms);
    }

    SECTION("reply, react, unreact; the first reply accepts the request") {
        auto rep = bob.reply(A, "hi Alice", QuoteInfo{hello->timestamp_ms, A.hex(), "hello"});
        REQUIRE(rep);
        auto re = bob.react(A, MessageRef{hello->timestamp_ms, A.hex()}, "👍");
        REQUIRE(re);
        auto un = bob.unreact(A, MessageRef{hello->timestamp_ms, A.hex()}, "👍");
        REQUIRE(un);
        auto in = receive_all(alice);
        REQUIRE(in.size() == 4);
        // session-desktop: the approval goes first, with Bob's profile.
        CHECK(in[0].kind == MessageKind::message_request_response);
        REQUIRE(in[0].request_response);
        CHECK(in[0].request_response->approved);
        CHECK(in[0].request_response->display_name == "Bob");
        CHECK_FALSE(in[0].content.expiration_type);

        CHECK(in[1].kind == MessageKind::text);
        CHECK(in[1].body == "hi Alice");
        REQUIRE(in[1].quote);
        CHECK(*in[1].quote == QuoteInfo{hello->timestamp_ms, A.hex(), "hello"});
        const auto& q = *in[1].content.data_message->quote;
        CHECK(q.id == static_cast<std::uint64_t>(hello->timestamp_ms));
        CHECK(q.attachments.empty());
        CHECK(in[1].content.expiration_type == ExpirationType::none);  // visible: always written
        CHECK(in[1].content.expiration_timer == 0u);

        CHECK(in[2].kind == MessageKind::reaction);
        CHECK(in[2].reaction == ReactionInfo{hello->timestamp_ms, A.hex(), "👍", false});
        CHECK_FALSE(in[2].content.data_message->body);
        CHECK(in[2].content.data_message->profile->display_name == "Bob");
        CHECK(in[3].reaction == ReactionInfo{hello->timestamp_ms, A.hex(), "👍", true});

        // Bob has answered: no second approval.
        REQUIRE(bob.send(A, "again"));
        auto more = receive_all(alice);
        REQUIRE(more.size() == 1);
        CHECK(more[0].kind == MessageKind::text);
    }

    SECTION("accept on its own, and disappearing settings") {
        REQUIRE(bob.accept_request(A));
        auto s = bob.set_disappearing(A, {ExpirationType::delete_after_send, std::chrono::seconds(3600)});
        REQUIRE(s);
        CHECK(s->sync_hash);
        CHECK(bob.disappearing(A).timer == std::chrono::seconds(3600));
        auto after = bob.send(A, "disappears");
        REQUIRE(after);
        auto in = receive_all(alice);
        REQUIRE(in.size() == 3);
        CHECK(in[0].kind == MessageKind::message_request_response);
        CHECK(in[1].kind == MessageKind::expiration_timer_update);
        CHECK(in[1].timer_update == DisappearingSetting{ExpirationType::delete_after_send, std::chrono::seconds(3600)});
        CHECK(in[1].content.data_message->flags == proto::DataMessage::kFlagExpirationTimerUpdate);
        CHECK_FALSE(in[1].content.data_message->sync_target);
        // The conversation's setting rides on the next message; the receiver adopted it too.
        CHECK(in[2].expiration_type == ExpirationType::delete_after_send);
        CHECK(in[2].expiration_timer == std::chrono::seconds(3600));
        CHECK(alice.disappearing(B).timer == std::chrono::seconds(3600));
        // Off again.
        REQUIRE(bob.set_disappearing(A, {}));
        in = receive_all(alice);
        REQUIRE(in.size() == 1);
        CHECK(in[0].timer_update == DisappearingSetting{});
        CHECK(bob.disappearing(A) == DisappearingSetting{});
        CHECK_FALSE(bob.set_disappearing(A, {ExpirationType::delete_after_read, std::chrono::seconds(0)}));
    }
}

TEST_CASE("conversation: unsend sends the request and deletes our sync copy from the swarm",
          "[conversation][localnet]") {
    LocalNet ln;
    Account alice_id;
    auto alice = client_for(ln, alice_id.clone());
    auto bob = client_for(ln, new_identity());
    const SessionId A = alice.session_id(), B = bob.session_id();

    SendOptions o;
    o.sync_copy = true;
    auto sent = alice.send(B, "oops", o);
    REQUIRE(sent);
    REQUIRE(sent->sync_hash);
    auto observer = client_for(ln, alice_id.clone());  // reads Alice's swarm as it is
    CHECK(holds(observer, *sent->sync_hash));

    auto un = alice.unsend(B, sent->timestamp_ms);
    REQUIRE(un);
    CHECK_FALSE(un->delete_error);
    CHECK(un->deleted == std::vector<std::string>{*sent->sync_hash});
    auto fresh_observer = client_for(ln, alice_id.clone());
    CHECK_FALSE(holds(fresh_observer, *sent->sync_hash));

    auto in = receive_all(bob);
    REQUIRE(in.size() == 2);
    CHECK(in[1].kind == MessageKind::unsend);
    REQUIRE(in[1].unsend);
    CHECK(*in[1].unsend == UnsendInfo{sent->timestamp_ms, A.hex()});
    CHECK_FALSE(in[1].content.expiration_type);

    SECTION("a process that did not send it finds the copy in the swarm") {
        auto sent2 = alice.send(B, "oops again", o);
        REQUIRE(sent2);
        auto other = client_for(ln, alice_id.clone());
        auto un2 = other.unsend(B, sent2->timestamp_ms);
        REQUIRE(un2);
        CHECK(un2->deleted == std::vector<std::string>{*sent2->sync_hash});
    }
    SECTION("Note to Self: the message itself is deleted") {
        auto note = alice.send(A, "note");
        REQUIRE(note);
        auto un3 = alice.unsend(A, note->timestamp_ms);
        REQUIRE(un3);
        CHECK(un3->deleted == std::vector<std::string>{note->hash});
    }
}

TEST_CASE("conversation: mark_read shortens a delete-after-read message, which the swarm then drops",
          "[conversation][localnet]") {
    LocalNet ln;
    Account bob_id;
    auto alice = client_for(ln, new_identity());
    auto bob = client_for(ln, bob_id.clone());
    const SessionId A = alice.session_id(), B = bob.session_id();

    SendOptions o;
    o.expiration_type = ExpirationType::delete_after_read;
    o.expiration_timer = std::chrono::seconds(2);
    auto sent = alice.send(B, "read me", o);
    REQUIRE(sent);
    auto in = receive_all(bob);
    REQUIRE(in.size() == 1);
    CHECK(in[0].expiry_ms > sent->timestamp_ms + 24 * 3600 * 1000);  // 14 days until read

    auto r = bob.mark_read(A, {sent->timestamp_ms});
    REQUIRE(r);
    CHECK_FALSE(r->expire_error);
    CHECK(r->shortened == std::vector<std::string>{in[0].hash});
    {
        auto observer = client_for(ln, bob_id.clone());
        auto all = observer.receive("");
        REQUIRE(all);
        REQUIRE(all->messages.size() == 1);
        CHECK(all->messages[0].expiry_ms <= bob.network().now_ms() + 2000);
    }
    // Its new expiry passes; the swarm drops it.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    ln.net->purge_expired();
    auto observer = client_for(ln, bob_id.clone());
    CHECK_FALSE(holds(observer, in[0].hash));

    SECTION("found in the swarm by a process that did not receive it") {
        auto sent2 = alice.send(B, "read me too", o);
        REQUIRE(sent2);
        auto other = client_for(ln, bob_id.clone());
        auto r2 = other.mark_read(A, {sent2->timestamp_ms});
        REQUIRE(r2);
        CHECK(r2->shortened.size() == 1);
    }
}

TEST_CASE("conversation: an unsend by someone else and malformed kinds are skipped with reasons",
          "[conversation][localnet]") {
    LocalNet ln;
    auto alice = client_for(ln, new_identity());
    auto mallory_id = new_identity();
    auto bob = client_for(ln, new_identity());
    const SessionId A = alice.session_id(), B = bob.session_id();

    auto sent = alice.send(B, "mine");
    REQUIRE(sent);
    send_raw(ln, mallory_id, B, detail::unsend_content(sent->timestamp_ms, A.hex()));
    auto typing = detail::typing_content(TypingAction::started, 1);
    typing.typing_message->action = static_cast<proto::TypingMessage::Action>(9);
    send_raw(ln, mallory_id, B, typing);
    auto receipt = detail::receipt_content(ReceiptType::read, {1});
    receipt.receipt_message->type = static_cast<proto::ReceiptMessage::Type>(4);
    send_raw(ln, mallory_id, B, receipt);
    // A kind missing a required field (TypingMessage.action) does not even decode.
    proto::Content broken;
    broken.unknown_fields = {0x32, 0x02, 0x08, 0x01};  // Content.typingMessage{timestamp = 1}
    send_raw(ln, mallory_id, B, broken);

    auto r = bob.receive("");
    REQUIRE(r);
    REQUIRE(r->messages.size() == 1);
    CHECK(r->messages[0].body == "mine");
    REQUIRE(r->skipped.size() == 4);
    CHECK(r->skipped[0].reason.code == Errc::receive_unsend_not_author);
    CHECK(r->skipped[1].reason.code == Errc::receive_malformed_kind);
    CHECK(r->skipped[1].reason.message.find("TypingMessage.action") != std::string::npos);
    CHECK(r->skipped[2].reason.code == Errc::receive_malformed_kind);
    CHECK(r->skipped[3].reason.code == Errc::envelope_bad_content);
}
