// client_conversation.cpp: the Client's conversation calls (receipts, typing, replies, reactions,
// unsend, message requests, disappearing messages, data-extraction notices) and the typed fields
// of what it receives. Every send goes through detail::Sender, like Client::send.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "detail/client_parts.hpp"
#include "detail/conversation.hpp"
#include "detail/sender.hpp"
#include "detail/text.hpp"
#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/retrieve.hpp"

namespace session {

namespace detail {

namespace {

void say(const Client::Parts& p, network::LogLevel level, const std::string& line) {
    if (p.log) p.log(level, line);
}

// A control message session-desktop builds as a plain ContentMessage: no disappearing fields.
Result<SendResult> send_control(Client::Parts& p, const SessionId& to, const ContentBuilder& build,
                                std::chrono::milliseconds ttl = kDefaultMessageTtl) {
    SendSpec spec;
    spec.ttl = ttl;
    spec.expirable = false;
    return p.sender.send(to, build, spec);
}

// An expirable control message (data extraction): the conversation's disappearing setting.
Result<SendResult> send_expirable(Client::Parts& p, const SessionId& to, const ContentBuilder& build) {
    SendOptions options;
    const auto s = p.book.setting(to);
    options.expiration_type = s.mode;
    options.expiration_timer = s.timer;
    auto spec = spec_for(options);
    if (!spec) return unexpected(std::move(spec).error());
    return p.sender.send(to, build, *spec);
}

Result<SendResult> send_accept(Client::Parts& p, const SessionId& to) {
    const std::string name = p.display_name;
    auto sent = send_control(p, to, [name](std::int64_t t) { return request_response_content(name, t); });
    if (sent) p.book.note_outgoing(to);
    return sent;
}

// The signed send time of an opened message (as Client::receive reads it), or -1.
std::int64_t signed_ms(const envelope::Message& m) {
    if (m.sig_timestamp_ms && *m.sig_timestamp_ms > 0) return *m.sig_timestamp_ms;
    if (m.content.data_message && m.content.data_message->timestamp &&
        *m.content.data_message->timestamp <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(*m.content.data_message->timestamp);
    return -1;
}

struct Found {
    std::string hash;
    envelope::Message message;
};

// Reads our whole swarm namespace 0 once (one member, bounded like a receive) and returns the
// items `keep` selects. For what the book does not remember (another process sent or received it).
template <class Keep>
Result<std::vector<Found>> scan_own_swarm(Client::Parts& p, const Keep& keep) {
    retrieve::NodeCursor cursor;
    retrieve::PollOptions o;
    o.want_answers = 1;
    o.budget.max_bytes = kDefaultReceiveMaxBytes;
    o.budget.max_items = kDefaultReceiveMaxItems;
    auto polled = retrieve::poll(p.self, p.reader, cursor, "", o);
    if (!polled) return unexpected(std::move(polled).error());
    std::vector<Found> out;
    for (auto& s : polled->messages) {
        auto m = envelope::open(p.self, s.data);
        if (!m || !keep(*m)) continue;
        out.push_back(Found{s.hash, std::move(*m)});
    }
    return out;
}

Result<void> check_ref(std::string_view author, std::int64_t timestamp_ms, const char* what) {
    if (author.empty() || author.size() > 66)
        return unexpected(Errc::invalid_argument, std::string("client: ") + what +
                                                      ": author: expected a Session ID, got " +
                                                      std::to_string(author.size()) + " characters");
    if (invalid_utf8_at(author))
        return unexpected(Errc::invalid_argument, std::string("client: ") + what + ": author: expected UTF-8");
    if (timestamp_ms < 0)
        return unexpected(Errc::invalid_argument, std::string("client: ") + what +
                                                      ": timestamp: expected >= 0 ms, got " + std::to_string(timestamp_ms));
    return {};
}

}  // namespace

Result<SendSpec> prepare_visible(Client::Parts p, const SessionId& to, SendOptions options, bool conversation_setting) {
    if (conversation_setting && options.expiration_type == ExpirationType::none &&
        options.expiration_timer.count() == 0) {
        const auto s = p.book.setting(to);
        options.expiration_type = s.mode;
        options.expiration_timer = s.timer;
    }
    auto spec = spec_for(options);
    if (!spec) return unexpected(std::move(spec).error());
    // session-desktop: the first message to someone whose request we have not accepted sends the
    // approval (MessageRequestResponse) first.
    if (!(to == p.id) && p.book.needs_accept(to)) {
        auto accepted = send_accept(p, to);
        if (!accepted) return unexpected(std::move(accepted).error());
        say(p, network::LogLevel::info, "client: accepted the message request of " + to.hex().substr(0, 10) + "…");
    }
    return spec;
}

Result<SendResult> send_visible(Client::Parts p, const SessionId& to, const ContentBuilder& build, SendOptions options,
                                bool conversation_setting) {
    auto spec = prepare_visible(p, to, std::move(options), conversation_setting);
    if (!spec) return unexpected(std::move(spec).error());
    auto sent = p.sender.send(to, build, *spec);
    if (!sent) return sent;
    p.book.note_outgoing(to);
    if (to == p.id) p.book.note_own_copy(to, sent->timestamp_ms, sent->hash);
    else if (sent->sync_hash) p.book.note_own_copy(to, sent->timestamp_ms, *sent->sync_hash);
    return sent;
}

std::optional<Error> annotate(ConversationBook& book, const SessionId& self, ReceivedMessage& m) {
    auto parsed = parse(m.content, m.kind, m.sender);
    if (!parsed) return std::move(parsed).error();
    m.receipt = std::move(parsed->receipt);
    m.typing = parsed->typing;
    m.quote = std::move(parsed->quote);
    m.reaction = std::move(parsed->reaction);
    m.unsend = std::move(parsed->unsend);
    m.request_response = std::move(parsed->request_response);
    m.timer_update = parsed->timer_update;
    m.data_extraction = parsed->data_extraction;

    const auto* d = m.content.data_message ? &*m.content.data_message : nullptr;
    if (m.sender == self) {
        // Our other device wrote to its sync target: that conversation is ours, with its timer.
        if (d && d->sync_target) {
            if (auto target = SessionId::parse(*d->sync_target)) {
                book.note_outgoing(*target);
                if (m.timer_update) book.set_setting(*target, *m.timer_update);
            }
        }
        return std::nullopt;
    }
    const bool visible = m.kind == MessageKind::text || m.kind == MessageKind::reaction ||
                         m.kind == MessageKind::expiration_timer_update;
    m.message_request = book.note_incoming(m.sender, visible);
    if (m.timer_update) book.set_setting(m.sender, *m.timer_update);
    if (m.request_response && m.request_response->approved) book.note_outgoing(m.sender);
    // Remembered until marked read; only a delete-after-read one has a timer to start then.
    if (d) {
        const bool after_read = m.expiration_type == ExpirationType::delete_after_read && m.expiration_timer.count() > 0;
        book.note_after_read(m.sender, m.sent_timestamp_ms,
                             AfterRead{m.hash, after_read ? m.expiration_timer : std::chrono::seconds(0), 0});
    }
    return std::nullopt;
}

}  // namespace detail

// ---- Client calls -------------------------------------------------------------------------------

#define SESSION_CLIENT_OPEN()                                                                        \
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");                \
    auto p = parts()

Result<MarkReadResult> Client::mark_read(const SessionId& to, const std::vector<std::int64_t>& timestamps) {
    SESSION_CLIENT_OPEN();
    if (timestamps.empty() || timestamps.size() > 10'000)
        return unexpected(Errc::invalid_argument, "client: mark_read: timestamps: expected 1..10000, got " +
                                                      std::to_string(timestamps.size()));
    for (auto t : timestamps)
        if (t < 0) return unexpected(Errc::invalid_argument, "client: mark_read: timestamp " + std::to_string(t) + " is negative");
    auto sent = detail::send_control(
            p, to, [&](std::int64_t) { return detail::receipt_content(ReceiptType::read, timestamps); });
    if (!sent) return unexpected(std::move(sent).error());
    MarkReadResult out;
    static_cast<SendResult&>(out) = std::move(*sent);

    // Delete-after-read messages start their timer now: shorten their expiry in our swarm.
    // What this Client received is remembered; the rest (received by another process) is looked
    // up in our swarm.
    auto known = p.book.take_after_read(to, timestamps);
    std::vector<std::int64_t> missing;
    for (auto t : timestamps)
        if (std::none_of(known.begin(), known.end(), [t](const detail::AfterRead& k) { return k.timestamp_ms == t; }))
            missing.push_back(t);
    if (!missing.empty()) {
        auto found = detail::scan_own_swarm(p, [&](const envelope::Message& m) {
            return m.sender == to && m.expiration_type == ExpirationType::delete_after_read &&
                   m.expiration_timer.count() > 0 &&
                   std::find(missing.begin(), missing.end(), detail::signed_ms(m)) != missing.end();
        });
        if (!found) out.expire_error = std::move(found).error();
        else
            for (auto& f : *found)
                known.push_back(detail::AfterRead{f.hash, f.message.expiration_timer, detail::signed_ms(f.message)});
    }
    std::map<std::int64_t, std::vector<std::string>> by_timer;
    for (auto& k : known)
        if (k.timer.count() > 0) by_timer[k.timer.count()].push_back(std::move(k.hash));
    const std::int64_t now = p.net.now_ms();
    for (auto& [timer, hashes] : by_timer) {
        auto done = detail::shorten_own(p.net, p.self, hashes, now + timer * 1000);
        if (!done) {
            out.expire_error = std::move(done).error();
            continue;
        }
        out.shortened.insert(out.shortened.end(), done->begin(), done->end());
    }
    return out;
}

Result<SendResult> Client::send_typing(const SessionId& to, TypingAction action) {
    SESSION_CLIENT_OPEN();
    return detail::send_control(
            p, to, [action](std::int64_t t) { return detail::typing_content(action, t); }, kTypingMessageTtl);
}

Result<SendResult> Client::reply(const SessionId& to, std::string_view text, const QuoteInfo& quoted,
                                 const SendOptions& options) {
    SESSION_CLIENT_OPEN();
    if (auto bad = detail::invalid_utf8_at(text))
        return unexpected(Errc::invalid_argument,
                          "client: text: expected UTF-8, got an invalid sequence at byte " + std::to_string(*bad));
    if (auto ok = detail::check_ref(quoted.author, quoted.timestamp_ms, "reply"); !ok) return unexpected(ok.error());
    if (quoted.text && detail::invalid_utf8_at(*quoted.text))
        return unexpected(Errc::invalid_argument, "client: reply: quote text: expected UTF-8");
    const std::string name = p.display_name;
    const auto build = [&](std::int64_t timestamp_ms) {
        envelope::OutgoingMessage m;
        m.body = std::string(text);
        m.timestamp_ms = timestamp_ms;
        if (!name.empty()) m.display_name = name;
        m.attachments = options.attachments;
        proto::Quote q;
        q.id = static_cast<std::uint64_t>(quoted.timestamp_ms);
        q.author = quoted.author;
        m.quote = q;
        auto c = envelope::build_content(m);
        // Quote.text: the quoted message's text, when the caller gives it (older apps show it).
        if (quoted.text) c.data_message->quote->text = quoted.text;
        return c;
    };
    return detail::send_visible(p, to, build, options);
}

namespace {
Result<SendResult> send_reaction(Client::Parts p, const SessionId& to, const MessageRef& target,
                                 std::string_view emoji, bool remove) {
    if (auto ok = detail::check_ref(target.author, target.timestamp_ms, remove ? "unreact" : "react"); !ok)
        return unexpected(ok.error());
    if (emoji.empty() || emoji.size() > 64 || detail::invalid_utf8_at(emoji))
        return unexpected(Errc::invalid_argument, std::string("client: ") + (remove ? "unreact" : "react") +
                                                      ": emoji: expected 1..64 bytes of UTF-8, got " +
                                                      std::to_string(emoji.size()) + " bytes");
    const std::string name = p.display_name;
    const auto build = [&](std::int64_t timestamp_ms) {
        envelope::OutgoingMessage m;
        m.timestamp_ms = timestamp_ms;
        if (!name.empty()) m.display_name = name;
        proto::Reaction r;
        r.id = static_cast<std::uint64_t>(target.timestamp_ms);
        r.author = target.author;
        r.emoji = std::string(emoji);
        r.action = remove ? proto::Reaction::Action::remove : proto::Reaction::Action::react;
        m.reaction = std::move(r);
        return envelope::build_content(m);
    };
    return detail::send_visible(p, to, build, SendOptions{});
}
}  // namespace

Result<SendResult> Client::react(const SessionId& to, const MessageRef& target, std::string_view emoji) {
    SESSION_CLIENT_OPEN();
    return send_reaction(p, to, target, emoji, false);
}

Result<SendResult> Client::unreact(const SessionId& to, const MessageRef& target, std::string_view emoji) {
    SESSION_CLIENT_OPEN();
    return send_reaction(p, to, target, emoji, true);
}

Result<UnsendResult> Client::unsend(const SessionId& to, std::int64_t timestamp_ms) {
    SESSION_CLIENT_OPEN();
    if (timestamp_ms < 0)
        return unexpected(Errc::invalid_argument, "client: unsend: timestamp: expected >= 0 ms, got " +
                                                      std::to_string(timestamp_ms));
    const std::string me = p.id.hex();
    auto sent = detail::send_control(p, to, [&](std::int64_t) { return detail::unsend_content(timestamp_ms, me); });
    if (!sent) return unexpected(std::move(sent).error());
    UnsendResult out;
    static_cast<SendResult&>(out) = std::move(*sent);

    auto copies = p.book.take_own_copies(to, timestamp_ms);
    if (copies.empty()) {
        const bool self_note = to == p.id;
        auto found = detail::scan_own_swarm(p, [&](const envelope::Message& m) {
            if (!(m.sender == p.id) || detail::signed_ms(m) != timestamp_ms || !m.content.data_message) return false;
            const auto& target = m.content.data_message->sync_target;
            return self_note ? !target.has_value() : target && *target == to.hex();
        });
        if (!found) {
            out.delete_error = std::move(found).error();
            return out;
        }
        for (auto& f : *found) copies.push_back(f.hash);
    }
    if (copies.empty()) return out;  // no copy of ours in our swarm (sent without sync_copy)
    auto deleted = detail::delete_own(p.net, p.self, copies);
    if (deleted) out.deleted = std::move(*deleted);
    else out.delete_error = std::move(deleted).error();
    return out;
}

Result<SendResult> Client::accept_request(const SessionId& to) {
    SESSION_CLIENT_OPEN();
    return detail::send_accept(p, to);
}

Result<SendResult> Client::set_disappearing(const SessionId& to, DisappearingSetting setting) {
    SESSION_CLIENT_OPEN();
    SendOptions options;
    options.expiration_type = setting.mode;
    options.expiration_timer = setting.timer;
    options.sync_copy = true;  // desktop syncs the change to our other devices
    auto sent = detail::send_visible(p, to, [](std::int64_t) { return detail::timer_update_content(); }, options,
                                     /*conversation_setting=*/false);
    if (sent) p.book.set_setting(to, setting);
    return sent;
}

DisappearingSetting Client::disappearing(const SessionId& peer) const {
    if (!impl_) throw std::logic_error("client: used after move");
    return const_cast<Client*>(this)->parts().book.setting(peer);
}

Result<SendResult> Client::send_data_extraction(const SessionId& to, DataExtractionType type,
                                                std::int64_t referenced_timestamp_ms) {
    SESSION_CLIENT_OPEN();
    const auto t = static_cast<std::int32_t>(type);
    if (t != 1 && t != 2)
        return unexpected(Errc::invalid_argument, "client: send_data_extraction: type: expected 1 or 2, got " +
                                                      std::to_string(t));
    if (referenced_timestamp_ms < 0)
        return unexpected(Errc::invalid_argument, "client: send_data_extraction: timestamp is negative");
    return detail::send_expirable(
            p, to, [&](std::int64_t) { return detail::data_extraction_content(type, referenced_timestamp_ms); });
}

#undef SESSION_CLIENT_OPEN

}  // namespace session
