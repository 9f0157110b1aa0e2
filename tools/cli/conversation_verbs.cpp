// conversation_verbs.cpp: session-cli's conversation verbs (react, unreact, mark-read, typing,
// reply, unsend, accept, disappearing) and the conversation fields of receive/watch JSON. Each verb
// names the conversation first (SESSION_ID) and a target message by the sent timestamp and author
// that `receive -o json` prints; each prints the stored hash and timestamp like `send`.
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "session/client.hpp"
#include "session/conversation.hpp"

namespace session::cli {
namespace {

using ojson = nlohmann::ordered_json;

Unexpected<Failure> usage(std::string message) { return Unexpected<Failure>(Failure{kUsage, std::move(message)}); }

Expected<std::int64_t, Failure> parse_ms(std::string_view what, std::string_view v) {
    std::uint64_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() ||
        out > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return usage(std::string(what) + ": expected a sent timestamp in Unix milliseconds, got \"" +
                     std::string(v.substr(0, 40)) + "\"");
    return static_cast<std::int64_t>(out);
}

// --timestamp T (required) of the target message.
Expected<std::int64_t, Failure> target_timestamp(const Args& args) {
    const std::string* t = args.get("timestamp");
    if (!t) return usage(args.verb + ": --timestamp is required (the target message's sent timestamp)");
    return parse_ms("--timestamp", *t);
}

// --author ID (required): the target message's author.
Expected<SessionId, Failure> target_author(const Args& args) {
    const std::string* a = args.get("author");
    if (!a) return usage(args.verb + ": --author is required (the target message's author)");
    return parse_recipient("--author", *a);
}

// The Client of the conversation verbs; the phrase may be typed (no verb reads data from stdin
// except reply without TEXT, which asks for StdinUse::data).
struct Session {
    SessionId peer;
    Client client;
};

Expected<Session, Failure> open_session(const Args& args, Feedback& feedback, StdinUse use = StdinUse::free) {
    auto peer = parse_recipient("argument 1", args.positional[0]);
    if (!peer) return Unexpected<Failure>(peer.error());
    auto self = load_identity(args, use);
    if (!self) return Unexpected<Failure>(self.error());
    const std::string* name = args.get("display-name");
    auto client = make_client(args, feedback, std::move(*self), name ? *name : std::string());
    if (!client) return Unexpected<Failure>(client.error());
    return Session{*peer, std::move(*client)};
}

// As send prints it: the hash (text) or {"to", "hash", "timestamp", "expiry_ms", "confirmed",
// "swarm_members"} plus the verb's own members (json).
int print_sent(const Args& args, const SessionId& to, const SendResult& sent, const ojson& extra = ojson::object()) {
    if (args.format == Format::json) {
        ojson o = sent_json(to, sent);
        for (const auto& [k, v] : extra.items()) o[k] = v;
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
    } else {
        emit(sent.hash);
        report(args.verb + ": sent to " + to.hex() + " at " + iso_time(sent.timestamp_ms) + " (timestamp " +
               std::to_string(sent.timestamp_ms) + "): stored by " + std::to_string(sent.confirmed()) + " of " +
               std::to_string(sent.nodes.size()) + " swarm members");
    }
    return kOk;
}

template <class R>
int finish(const Args& args, Feedback& feedback, const SessionId& to, const Result<R>& sent,
           const ojson& extra = ojson::object()) {
    if (!sent) {
        if (sent.error().code == Errc::invalid_argument || sent.error().code == Errc::key_invalid)
            return fail({kUsage, args.verb + ": " + sent.error().message});
        return fail({exit_code_for(sent.error().code), feedback.describe_failure(args.verb, sent.error())});
    }
    return print_sent(args, to, *sent, extra);
}

int reaction_verb(const Args& args, bool remove) {
    auto ts = target_timestamp(args);
    if (!ts) return fail(ts.error());
    auto author = target_author(args);
    if (!author) return fail(author.error());
    const std::string& emoji = args.positional[1];
    if (emoji.empty() || invalid_utf8_at(emoji)) return fail({kUsage, args.verb + ": EMOJI: expected UTF-8 text"});
    Feedback feedback(args);
    auto s = open_session(args, feedback);
    if (!s) return fail(s.error());
    const MessageRef target{*ts, author->hex()};
    auto sent = [&] {
        auto waiting = feedback.wait(args.verb + " to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return remove ? s->client.unreact(s->peer, target, emoji) : s->client.react(s->peer, target, emoji);
    }();
    return finish(args, feedback, s->peer, sent);
}

}  // namespace

// ---- receive / watch JSON ----------------------------------------------------------------------

void add_conversation_json(ojson& o, const ReceivedMessage& m) {
    o["message_request"] = m.message_request;
    if (m.quote) {
        ojson q{{"timestamp", m.quote->timestamp_ms}, {"author", m.quote->author}};
        if (m.quote->text) q["text"] = *m.quote->text;
        o["quote"] = q;
    }
    if (m.receipt)
        o["receipt"] = ojson{{"type", std::string(to_string(m.receipt->type))}, {"timestamps", m.receipt->timestamps}};
    if (m.typing) o["typing"] = std::string(to_string(*m.typing));
    if (m.reaction)
        o["reaction"] = ojson{{"timestamp", m.reaction->timestamp_ms},
                              {"author", m.reaction->author},
                              {"emoji", m.reaction->emoji},
                              {"action", m.reaction->remove ? "remove" : "react"}};
    if (m.unsend) o["unsend"] = ojson{{"timestamp", m.unsend->timestamp_ms}, {"author", m.unsend->author}};
    if (m.request_response) {
        ojson r{{"approved", m.request_response->approved}};
        if (m.request_response->display_name) r["display_name"] = *m.request_response->display_name;
        o["request_response"] = r;
    }
    if (m.timer_update)
        o["timer_update"] = ojson{{"expiry", std::string(expiry_json_name(m.timer_update->mode))},
                                  {"seconds", m.timer_update->timer.count()}};
    if (m.data_extraction) {
        ojson d{{"type", std::string(to_string(m.data_extraction->type))}};
        if (m.data_extraction->timestamp_ms) d["timestamp"] = *m.data_extraction->timestamp_ms;
        o["data_extraction"] = d;
    }
}

std::string conversation_text(const ReceivedMessage& m) {
    auto who = [](const std::string& author) { return author.substr(0, 10) + "…"; };
    std::string out;
    if (m.quote) out += "(quoting " + std::to_string(m.quote->timestamp_ms) + " by " + who(m.quote->author) + ") ";
    if (m.receipt)
        out += "(" + std::string(to_string(m.receipt->type)) + " receipt for " +
               std::to_string(m.receipt->timestamps.size()) + " message(s)) ";
    if (m.typing) out += "(typing " + std::string(to_string(*m.typing)) + ") ";
    if (m.reaction)
        out += std::string(m.reaction->remove ? "(removes " : "(reacts ") + m.reaction->emoji + " on " +
               std::to_string(m.reaction->timestamp_ms) + " by " + who(m.reaction->author) + ") ";
    if (m.unsend) out += "(unsends " + std::to_string(m.unsend->timestamp_ms) + ") ";
    if (m.request_response)
        out += std::string(m.request_response->approved ? "(accepted your message request) " : "(declined) ");
    if (m.timer_update)
        out += m.timer_update->mode == ExpirationType::none
                   ? std::string("(disappearing messages off) ")
                   : "(disappearing messages: " + std::to_string(m.timer_update->timer.count()) + " s after " +
                         (m.timer_update->mode == ExpirationType::delete_after_read ? "reading) " : "sending) ");
    if (m.data_extraction) out += "(" + std::string(to_string(m.data_extraction->type)) + ") ";
    if (!out.empty()) out.pop_back();
    return out;
}

// ---- verbs -------------------------------------------------------------------------------------

int cmd_react(const Args& args) { return reaction_verb(args, false); }
int cmd_unreact(const Args& args) { return reaction_verb(args, true); }

int cmd_mark_read(const Args& args) {
    std::vector<std::int64_t> timestamps;
    auto it = args.values.find("timestamp");
    if (it == args.values.end() || it->second.empty())
        return fail({kUsage, "mark-read: --timestamp is required (the sent timestamp of a message to mark read)"});
    for (const auto& v : it->second) {
        auto t = parse_ms("--timestamp", v);
        if (!t) return fail(t.error());
        timestamps.push_back(*t);
    }
    Feedback feedback(args);
    auto s = open_session(args, feedback);
    if (!s) return fail(s.error());
    auto sent = [&] {
        auto waiting = feedback.wait("mark-read to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return s->client.mark_read(s->peer, timestamps);
    }();
    ojson extra = ojson::object();
    if (sent) {
        extra["shortened"] = sent->shortened;
        if (sent->expire_error) {
            extra["expire_error"] = sent->expire_error->message;
            report("mark-read: the receipt was sent, but shortening the read messages' expiry failed: " +
                   sent->expire_error->message);
        }
    }
    return finish(args, feedback, s->peer, sent, extra);
}

int cmd_typing(const Args& args) {
    const std::string& what = args.positional[1];
    if (what != "started" && what != "stopped")
        return fail({kUsage, "typing: expected started or stopped, got \"" + what.substr(0, 40) + "\""});
    Feedback feedback(args);
    auto s = open_session(args, feedback);
    if (!s) return fail(s.error());
    auto sent = [&] {
        auto waiting = feedback.wait("typing to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return s->client.send_typing(s->peer, what == "started" ? TypingAction::started : TypingAction::stopped);
    }();
    return finish(args, feedback, s->peer, sent);
}

int cmd_reply(const Args& args) {
    auto ts = target_timestamp(args);
    if (!ts) return fail(ts.error());
    auto author = target_author(args);
    if (!author) return fail(author.error());
    const bool text_given = args.positional.size() == 2;
    std::string text;
    if (text_given) {
        auto t = message_text(args, 1);
        if (!t) return fail(t.error());
        text = std::move(*t);
    }
    std::optional<std::string> quote_text;
    if (const std::string* q = args.get("quote-text")) {
        if (invalid_utf8_at(*q)) return fail({kUsage, "--quote-text: expected UTF-8 text"});
        quote_text = *q;
    }
    Feedback feedback(args);
    auto s = open_session(args, feedback, text_given ? StdinUse::free : StdinUse::data);
    if (!s) return fail(s.error());
    if (!text_given) {
        auto t = message_text(args, 1);
        if (!t) return fail(t.error());
        text = std::move(*t);
    }
    auto sent = [&] {
        auto waiting = feedback.wait("reply to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return s->client.reply(s->peer, text, QuoteInfo{*ts, author->hex(), quote_text});
    }();
    return finish(args, feedback, s->peer, sent);
}

int cmd_unsend(const Args& args) {
    auto ts = target_timestamp(args);
    if (!ts) return fail(ts.error());
    Feedback feedback(args);
    auto s = open_session(args, feedback);
    if (!s) return fail(s.error());
    auto sent = [&] {
        auto waiting = feedback.wait("unsend to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return s->client.unsend(s->peer, *ts);
    }();
    ojson extra = ojson::object();
    if (sent) {
        extra["deleted"] = sent->deleted;
        if (sent->delete_error) {
            extra["delete_error"] = sent->delete_error->message;
            report("unsend: the request was sent, but deleting our own copies failed: " + sent->delete_error->message);
        } else if (args.format != Format::json) {
            report("unsend: deleted " + std::to_string(sent->deleted.size()) + " copies from your swarm");
        }
    }
    return finish(args, feedback, s->peer, sent, extra);
}

int cmd_accept(const Args& args) {
    Feedback feedback(args);
    auto s = open_session(args, feedback);
    if (!s) return fail(s.error());
    auto sent = [&] {
        auto waiting = feedback.wait("accept to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return s->client.accept_request(s->peer);
    }();
    return finish(args, feedback, s->peer, sent);
}

int cmd_disappearing(const Args& args) {
    const std::string& mode = args.positional[1];
    DisappearingSetting setting;
    if (mode == "off") {
        if (args.positional.size() == 3) return fail({kUsage, "disappearing: off takes no SECONDS"});
    } else if (mode == "after-read" || mode == "after-send") {
        if (args.positional.size() != 3) return fail({kUsage, "disappearing: " + mode + " needs SECONDS"});
        auto secs = parse_ms("SECONDS", args.positional[2]);
        if (!secs) return fail(secs.error());
        if (*secs <= 0 || *secs > std::numeric_limits<std::uint32_t>::max())
            return fail({kUsage, "disappearing: SECONDS: expected 1.." +
                                     std::to_string(std::numeric_limits<std::uint32_t>::max()) + ", got " +
                                     args.positional[2]});
        setting.mode = mode == "after-read" ? ExpirationType::delete_after_read : ExpirationType::delete_after_send;
        setting.timer = std::chrono::seconds(*secs);
    } else {
        return fail({kUsage, "disappearing: expected off, after-read or after-send, got \"" + mode.substr(0, 40) + "\""});
    }
    Feedback feedback(args);
    auto s = open_session(args, feedback);
    if (!s) return fail(s.error());
    auto sent = [&] {
        auto waiting = feedback.wait("disappearing to " + s->peer.hex().substr(0, 10) + "…", &s->client.network());
        return s->client.set_disappearing(s->peer, setting);
    }();
    return finish(args, feedback, s->peer, sent,
                  ojson{{"expiry", std::string(expiry_json_name(setting.mode))}, {"seconds", setting.timer.count()}});
}

}  // namespace session::cli
