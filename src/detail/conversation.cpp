// conversation.cpp: the conversation kinds beyond text (see conversation.hpp).
#include "detail/conversation.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "detail/json_limited.hpp"
#include "session/retrieve.hpp"

namespace session {

std::string_view to_string(ReceiptType type) noexcept {
    switch (type) {
        case ReceiptType::delivery: return "delivery";
        case ReceiptType::read: return "read";
    }
    return "unknown";
}

std::string_view to_string(TypingAction action) noexcept {
    switch (action) {
        case TypingAction::started: return "started";
        case TypingAction::stopped: return "stopped";
    }
    return "unknown";
}

std::string_view to_string(DataExtractionType type) noexcept {
    switch (type) {
        case DataExtractionType::screenshot: return "screenshot";
        case DataExtractionType::media_saved: return "media_saved";
    }
    return "unknown";
}

}  // namespace session

namespace session::detail {

namespace {
std::uint64_t unsigned_ms(std::int64_t ms) {
    if (ms < 0) throw std::invalid_argument("conversation: negative timestamp");
    return static_cast<std::uint64_t>(ms);
}
}  // namespace

// ---- outgoing -----------------------------------------------------------------------------------

proto::Content receipt_content(ReceiptType type, const std::vector<std::int64_t>& timestamps) {
    proto::ReceiptMessage r;
    r.type = static_cast<proto::ReceiptMessage::Type>(type);
    for (auto t : timestamps) r.timestamp.push_back(unsigned_ms(t));
    proto::Content c;
    c.receipt_message = std::move(r);
    return c;
}

proto::Content typing_content(TypingAction action, std::int64_t timestamp_ms) {
    proto::TypingMessage t;
    t.timestamp = unsigned_ms(timestamp_ms);
    t.action = static_cast<proto::TypingMessage::Action>(action);
    proto::Content c;
    c.typing_message = std::move(t);
    return c;
}

proto::Content unsend_content(std::int64_t timestamp_ms, const std::string& author) {
    proto::UnsendRequest u;
    u.timestamp = unsigned_ms(timestamp_ms);
    u.author = author;
    proto::Content c;
    c.unsend_request = std::move(u);
    return c;
}

proto::Content request_response_content(const std::string& display_name, std::int64_t timestamp_ms) {
    proto::MessageRequestResponse r;
    r.is_approved = true;
    // MessageRequestResponse.ts: the profile as on a visible message (name, update time), the
    // profile key only with an avatar (we have none).
    proto::LokiProfile p;
    if (!display_name.empty()) p.display_name = display_name;
    p.last_profile_update_seconds = unsigned_ms(timestamp_ms) / 1000;
    r.profile = std::move(p);
    proto::Content c;
    c.message_request_response = std::move(r);
    return c;
}

proto::Content timer_update_content() {
    proto::DataMessage d;
    d.flags = proto::DataMessage::kFlagExpirationTimerUpdate;
    proto::Content c;
    c.data_message = std::move(d);
    return c;
}

proto::Content data_extraction_content(DataExtractionType type, std::int64_t referenced_timestamp_ms) {
    proto::DataExtractionNotification n;
    n.type = static_cast<proto::DataExtractionNotification::Type>(type);
    n.timestamp = unsigned_ms(referenced_timestamp_ms);
    proto::Content c;
    c.data_extraction_notification = std::move(n);
    return c;
}

// ---- incoming -----------------------------------------------------------------------------------

namespace {

Error malformed(std::string what) { return Error{Errc::receive_malformed_kind, "client: receive: " + std::move(what)}; }

std::optional<std::int64_t> ms_of(std::uint64_t v) {
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(v);
}

}  // namespace

Result<Parsed> parse(const proto::Content& c, MessageKind kind, const SessionId& sender) {
    Parsed out;
    const auto* d = c.data_message ? &*c.data_message : nullptr;
    if (d && d->quote && (kind == MessageKind::text || kind == MessageKind::sync)) {
        auto t = ms_of(d->quote->id);
        if (!t) return unexpected(malformed("Quote.id " + std::to_string(d->quote->id) + " is above 2^63-1"));
        out.quote = QuoteInfo{*t, d->quote->author, d->quote->text};
    }
    switch (kind) {
        case MessageKind::receipt: {
            const auto& r = *c.receipt_message;
            const auto type = static_cast<std::int32_t>(r.type);
            if (type != 0 && type != 1)
                return unexpected(malformed("ReceiptMessage.type: expected DELIVERY (0) or READ (1), got " +
                                            std::to_string(type)));
            ReceiptInfo info{static_cast<ReceiptType>(type), {}};
            // Bounded by the message itself (at most a few thousand varints in 76,800 bytes).
            for (std::size_t i = 0; i < r.timestamp.size(); ++i) {
                auto t = ms_of(r.timestamp[i]);
                if (!t)
                    return unexpected(malformed("ReceiptMessage.timestamp[" + std::to_string(i) + "] is above 2^63-1"));
                info.timestamps.push_back(*t);
            }
            out.receipt = std::move(info);
            break;
        }
        case MessageKind::typing: {
            const auto action = static_cast<std::int32_t>(c.typing_message->action);
            if (action != 0 && action != 1)
                return unexpected(malformed("TypingMessage.action: expected STARTED (0) or STOPPED (1), got " +
                                            std::to_string(action)));
            out.typing = static_cast<TypingAction>(action);
            break;
        }
        case MessageKind::reaction: {
            const auto& r = *d->reaction;
            const auto action = static_cast<std::int32_t>(r.action);
            if (action != 0 && action != 1)
                return unexpected(malformed("Reaction.action: expected REACT (0) or REMOVE (1), got " +
                                            std::to_string(action)));
            auto t = ms_of(r.id);
            if (!t) return unexpected(malformed("Reaction.id " + std::to_string(r.id) + " is above 2^63-1"));
            if (!r.emoji || r.emoji->empty()) return unexpected(malformed("Reaction.emoji: expected an emoji, got none"));
            out.reaction = ReactionInfo{*t, r.author, *r.emoji, action == 1};
            break;
        }
        case MessageKind::unsend: {
            const auto& u = *c.unsend_request;
            auto t = ms_of(u.timestamp);
            if (!t) return unexpected(malformed("UnsendRequest.timestamp " + std::to_string(u.timestamp) +
                                                " is above 2^63-1"));
            // session-desktop handleUnsendMessage: only the author may unsend its message.
            if (u.author != sender.hex())
                return unexpected(Errc::receive_unsend_not_author,
                                  "client: receive: UnsendRequest.author: expected the sender " +
                                      sender.hex().substr(0, 10) + "…, got " +
                                      (u.author.size() > 66 ? std::to_string(u.author.size()) + " bytes"
                                                            : "\"" + u.author.substr(0, 10) + "…\"") +
                                      ": only a message's author may unsend it");
            out.unsend = UnsendInfo{*t, u.author};
            break;
        }
        case MessageKind::message_request_response: {
            const auto& r = *c.message_request_response;
            RequestResponseInfo info;
            info.approved = r.is_approved;
            if (r.profile) {
                info.display_name = r.profile->display_name;
                info.profile_picture = r.profile->profile_picture;
            }
            out.request_response = std::move(info);
            break;
        }
        case MessageKind::expiration_timer_update: {
            const auto mode = static_cast<std::int32_t>(c.expiration_type.value_or(ExpirationType::none));
            if (mode < 0 || mode > 2)
                return unexpected(malformed("Content.expirationType: expected UNKNOWN (0), DELETE_AFTER_READ (1) or "
                                            "DELETE_AFTER_SEND (2), got " + std::to_string(mode)));
            const std::uint32_t timer = c.expiration_timer.value_or(0);
            DisappearingSetting s{static_cast<ExpirationType>(mode), std::chrono::seconds(timer)};
            // Off is a 0 timer (desktop sends UNKNOWN or its legacy mode with 0); a mode with 0 is off.
            if (timer == 0) s = DisappearingSetting{};
            else if (s.mode == ExpirationType::none)
                return unexpected(malformed("timer update: a timer of " + std::to_string(timer) +
                                            " s without a disappearing mode"));
            out.timer_update = s;
            break;
        }
        case MessageKind::data_extraction: {
            const auto& n = *c.data_extraction_notification;
            const auto type = static_cast<std::int32_t>(n.type);
            if (type != 1 && type != 2)
                return unexpected(malformed("DataExtractionNotification.type: expected SCREENSHOT (1) or "
                                            "MEDIA_SAVED (2), got " + std::to_string(type)));
            DataExtractionInfo info{static_cast<DataExtractionType>(type), std::nullopt};
            if (n.timestamp) {
                auto t = ms_of(*n.timestamp);
                if (!t) return unexpected(malformed("DataExtractionNotification.timestamp is above 2^63-1"));
                info.timestamp_ms = *t;
            }
            out.data_extraction = info;
            break;
        }
        default: break;
    }
    return out;
}

// ---- ConversationBook -----------------------------------------------------------------------------

template <class Map>
void ConversationBook::bound(Map& map, std::deque<typename Map::key_type>& order) {
    while (order.size() > kMaxEntries) {
        map.erase(order.front());
        order.pop_front();
    }
}

DisappearingSetting ConversationBook::setting(const SessionId& peer) const {
    std::lock_guard lock(mu_);
    auto it = settings_.find(peer.hex());
    return it == settings_.end() ? DisappearingSetting{} : it->second;
}

void ConversationBook::set_setting(const SessionId& peer, DisappearingSetting s) {
    std::lock_guard lock(mu_);
    auto [it, fresh] = settings_.insert_or_assign(peer.hex(), s);
    if (fresh) {
        settings_order_.push_back(it->first);
        bound(settings_, settings_order_);
    }
}

void ConversationBook::note_outgoing(const SessionId& peer) {
    std::lock_guard lock(mu_);
    if (outgoing_.insert(peer.hex()).second) {
        outgoing_order_.push_back(peer.hex());
        bound(outgoing_, outgoing_order_);
    }
}

bool ConversationBook::note_incoming(const SessionId& sender, bool wrote) {
    std::lock_guard lock(mu_);
    const auto hex = sender.hex();
    if (outgoing_.count(hex)) return false;
    if (wrote && wrote_first_.insert(hex).second) {
        wrote_first_order_.push_back(hex);
        bound(wrote_first_, wrote_first_order_);
    }
    return true;
}

bool ConversationBook::needs_accept(const SessionId& peer) const {
    std::lock_guard lock(mu_);
    const auto hex = peer.hex();
    return wrote_first_.count(hex) && !outgoing_.count(hex);
}

void ConversationBook::note_own_copy(const SessionId& peer, std::int64_t timestamp_ms, std::string hash) {
    std::lock_guard lock(mu_);
    Key k{peer.hex(), timestamp_ms};
    auto [it, fresh] = own_.try_emplace(k);
    if (std::find(it->second.begin(), it->second.end(), hash) == it->second.end() && it->second.size() < 8)
        it->second.push_back(std::move(hash));
    if (fresh) {
        own_order_.push_back(k);
        bound(own_, own_order_);
    }
}

std::vector<std::string> ConversationBook::take_own_copies(const SessionId& peer, std::int64_t timestamp_ms) {
    std::lock_guard lock(mu_);
    auto it = own_.find(Key{peer.hex(), timestamp_ms});
    if (it == own_.end()) return {};
    auto out = std::move(it->second);
    own_.erase(it);  // its key stays in own_order_ until it ages out (erasing a missing key is a no-op)
    return out;
}

void ConversationBook::note_after_read(const SessionId& sender, std::int64_t timestamp_ms, AfterRead m) {
    std::lock_guard lock(mu_);
    Key k{sender.hex(), timestamp_ms};
    if (after_read_.insert_or_assign(k, std::move(m)).second) {
        after_read_order_.push_back(k);
        bound(after_read_, after_read_order_);
    }
}

std::vector<AfterRead> ConversationBook::take_after_read(const SessionId& sender,
                                                         const std::vector<std::int64_t>& timestamps) {
    std::lock_guard lock(mu_);
    std::vector<AfterRead> out;
    for (auto t : timestamps) {
        auto it = after_read_.find(Key{sender.hex(), t});
        if (it == after_read_.end()) continue;
        out.push_back(std::move(it->second));
        out.back().timestamp_ms = t;
        after_read_.erase(it);
    }
    return out;
}

// ---- our own swarm ---------------------------------------------------------------------------------

std::string delete_signature_message(const std::vector<std::string>& hashes) {
    std::string m = "delete";
    for (const auto& h : hashes) m += h;
    return m;
}

std::string expire_shorten_signature_message(std::int64_t expiry_ms, const std::vector<std::string>& hashes) {
    std::string m = "expireshorten" + std::to_string(expiry_ms);
    for (const auto& h : hashes) m += h;
    return m;
}

namespace {

Result<void> check_hashes(const std::vector<std::string>& hashes, const char* what) {
    if (hashes.empty()) return unexpected(Errc::invalid_argument, std::string("client: ") + what + ": no message hashes");
    for (std::size_t i = 0; i < hashes.size(); ++i)
        if (!retrieve::is_message_hash(hashes[i]))
            return unexpected(Errc::invalid_argument, std::string("client: ") + what + ": hashes[" + std::to_string(i) +
                                                          "]: expected 43 base64 characters, got " +
                                                          std::to_string(hashes[i].size()) + " characters");
    return {};
}

// What a member signs over its part of the answer after "PUBKEY_HEX ‖ requested hashes"
// (storage-server.md §4.6): for delete, the deleted hashes; for expire, the expiry first, then the
// updated hashes and, with shorten, each unchanged hash with its expiry (sorted by hash).
using Signed = std::function<std::optional<std::string>(const nlohmann::json& member, const std::string& listed)>;

// The union of the `key` lists of the members of our swarm whose signature over their part checks
// ({"swarm": {ed25519 hex: {key: [hashes], "signature": b64, …} or {"failed": true, …}}}). A member
// outside our swarm, or with a bad signature, is not believed (a hostile entry node could claim any
// deletion); no believed member at all is net_bad_response.
Result<std::vector<std::string>> affected(network::Network& net, const Identity& self, std::string_view body,
                                          const char* key, const char* what, const std::string& requested,
                                          const Signed& signed_part) {
    const std::string where = std::string("client: ") + what + " reply";
    auto j = parse_limited(body, Errc::net_bad_response, where);
    if (!j) return unexpected(std::move(j).error());
    if (!j->is_object() || !j->contains("swarm") || !(*j)["swarm"].is_object())
        return unexpected(Errc::net_bad_response, where + ": expected a \"swarm\" object");
    auto swarm = net.get_swarm(self.session_id());
    if (!swarm) return unexpected(std::move(swarm).error());
    std::set<std::string> out;
    std::size_t members = 0, believed = 0;
    for (const auto& item : (*j)["swarm"].items()) {
        // Named, not a structured binding: the lambda below captures `node` (clang 14 cannot).
        const std::string& node = item.key();
        const auto& r = item.value();
        if (++members > 64) break;  // a swarm has fewer; a hostile answer is not read further
        if (!r.is_object() || !r.contains(key) || !r[key].is_array() || !r.contains("signature") ||
            !r["signature"].is_string())
            continue;
        const auto member = std::find_if(swarm->nodes.begin(), swarm->nodes.end(),
                                         [&](const network::Snode& s) { return s.ed25519_hex() == node; });
        if (member == swarm->nodes.end()) continue;
        std::vector<std::string> listed;
        std::string concat;
        for (const auto& h : r[key]) {
            if (listed.size() >= 10'000) break;
            if (!h.is_string()) continue;
            listed.push_back(h.get<std::string>());
            concat += listed.back();
        }
        auto part = signed_part(r, concat);
        if (!part) continue;
        auto sig = base64_decode(r["signature"].get<std::string>());
        const std::string msg = self.session_id().hex() + requested + *part;
        if (!sig || !verify(member->ed25519(), as_bytes(msg), *sig)) continue;
        ++believed;
        for (auto& h : listed)
            if (retrieve::is_message_hash(h)) out.insert(std::move(h));
    }
    if (believed == 0)
        return unexpected(Errc::net_bad_response, where + ": no member of our swarm signed its answer");
    return std::vector<std::string>(out.begin(), out.end());
}

nlohmann::json auth_params(const Identity& self, const std::vector<std::string>& hashes, const std::string& sig_msg) {
    const auto sig = self.sign(as_bytes(sig_msg));
    return nlohmann::json{{"pubkey", self.session_id().hex()},
                          {"pubkey_ed25519", to_hex(self.ed25519_public().view())},
                          {"messages", hashes},
                          {"signature", base64_encode(sig)}};
}

}  // namespace

Result<std::vector<std::string>> delete_own(network::Network& net, const Identity& self,
                                            const std::vector<std::string>& hashes) {
    if (auto ok = check_hashes(hashes, "delete"); !ok) return unexpected(std::move(ok).error());
    const network::ParamsBuilder params = [&](std::int64_t) -> Result<std::string> {
        return auth_params(self, hashes, delete_signature_message(hashes)).dump();
    };
    auto reply = net.swarm_rpc(self.session_id(), "delete", params);
    if (!reply) return unexpected(std::move(reply).error());
    std::string requested;
    for (const auto& h : hashes) requested += h;
    return affected(net, self, reply->body, "deleted", "delete", requested,
                    [](const nlohmann::json&, const std::string& listed) { return std::optional<std::string>(listed); });
}

Result<std::vector<std::string>> shorten_own(network::Network& net, const Identity& self,
                                             const std::vector<std::string>& hashes, std::int64_t expiry_ms) {
    if (auto ok = check_hashes(hashes, "expire"); !ok) return unexpected(std::move(ok).error());
    const network::ParamsBuilder params = [&](std::int64_t) -> Result<std::string> {
        auto p = auth_params(self, hashes, expire_shorten_signature_message(expiry_ms, hashes));
        p["expiry"] = expiry_ms;
        p["shorten"] = true;
        return p.dump();
    };
    auto reply = net.swarm_rpc(self.session_id(), "expire", params);
    if (!reply) return unexpected(std::move(reply).error());
    std::string requested;
    for (const auto& h : hashes) requested += h;
    // §4.6 expire: PUBKEY_HEX ‖ EXPIRY ‖ requested ‖ updated ‖ (hash ‖ expiry) for each unchanged.
    // The expiry comes first, so it is moved in front of the requested hashes here.
    return affected(net, self, reply->body, "updated", "expire", "",
                    [&](const nlohmann::json& r, const std::string& listed) -> std::optional<std::string> {
                        if (!r.contains("expiry") || !r["expiry"].is_number_integer()) return std::nullopt;
                        std::string part = std::to_string(r["expiry"].get<std::int64_t>()) + requested + listed;
                        if (r.contains("unchanged")) {
                            if (!r["unchanged"].is_object()) return std::nullopt;
                            for (const auto& [h, e] : r["unchanged"].items()) {  // sorted by hash
                                if (!e.is_number_integer()) return std::nullopt;
                                part += h + std::to_string(e.get<std::int64_t>());
                            }
                        }
                        return part;
                    });
}

}  // namespace session::detail
