// sender.cpp: the Client's send pipeline (see sender.hpp).
#include "detail/sender.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "session/retrieve.hpp"

namespace session::detail {

namespace {
// More than sealing adds to a padded Content: the sealed box (48), sender key and signature (96),
// the Envelope (type, timestamp, sourceDevice, proSig: under 90) and the WebSocket wrapper (under
// 20), with room for the expiration and sigTimestamp fields the pipeline sets (under 20).
constexpr std::size_t kSealOverheadBound = 512;
}  // namespace

Result<SendSpec> spec_for(const SendOptions& options) {
    const auto timer = options.expiration_timer.count();
    if (options.expiration_type == ExpirationType::none && timer != 0)
        return unexpected(Errc::invalid_argument, "client: expiration_timer: expected 0 when expiration is none, got " +
                                                      std::to_string(timer) + " s");
    if (options.expiration_type != ExpirationType::none && (timer <= 0 || timer > UINT32_MAX))
        return unexpected(Errc::invalid_argument, "client: expiration_timer: expected 1.." +
                                                      std::to_string(UINT32_MAX) + " s for " +
                                                      std::string(to_string(options.expiration_type)) + ", got " +
                                                      std::to_string(timer) + " s");
    SendSpec spec;
    spec.expiration_type = options.expiration_type;
    spec.expiration_timer = options.expiration_timer;
    spec.sync_copy = options.sync_copy;
    if (options.ttl) {
        spec.ttl = *options.ttl;
    } else if (options.expiration_type == ExpirationType::delete_after_send) {
        // session-desktop stores disappear-after-send messages with the timer as TTL.
        spec.ttl = std::clamp<std::chrono::milliseconds>(options.expiration_timer, kMinMessageTtl, kDefaultMessageTtl);
    }
    if (spec.ttl < kMinMessageTtl || spec.ttl > kDefaultMessageTtl)
        return unexpected(Errc::invalid_argument, "client: ttl: expected " + std::to_string(kMinMessageTtl.count()) +
                                                      ".." + std::to_string(kDefaultMessageTtl.count()) +
                                                      " ms, got " + std::to_string(spec.ttl.count()) + " ms");
    return spec;
}

Sender::Sender(const Identity& self, std::shared_ptr<network::Network> net, network::LogFn log)
        : self_(self), id_(self.session_id()), net_(std::move(net)), log_(std::move(log)) {}

void Sender::say(network::LogLevel level, const std::string& line) const {
    if (log_) log_(level, line);
}

std::int64_t Sender::next_timestamp() {
    const std::int64_t now = net_->now_ms();
    std::int64_t prev = last_sent_ms_.load();
    std::int64_t next;
    do {
        // Strictly increasing while the clock moves forward or back a little. When it moves back
        // by more than kMaxTimestampLead (a future-dated offset voted out by a resync), follow it:
        // staying ahead of it would stamp every later message in the future for the Client's life.
        next = (prev - now >= kMaxTimestampLead.count()) ? now : std::max(now, prev + 1);
    } while (!last_sent_ms_.compare_exchange_weak(prev, next));
    return next;
}

void Sender::ensure_network_time(const network::Swarm& swarm) const {
    if (net_->clock_known() || swarm.nodes.empty()) return;
    if (auto asked = net_->info(swarm.nodes.front()); !asked)
        say(network::LogLevel::warning, "client: network time unknown, using the local clock: " + asked.error().message);
}

Result<Sealed> Sender::seal(const SessionId& to, const ContentBuilder& build, const SendSpec& spec,
                            std::int64_t timestamp_ms) const {
    proto::Content content = build(timestamp_ms);
    if (spec.expirable) envelope::set_expiration(content, spec.expiration_type, spec.expiration_timer);
    // ContentMessage.ts: sigTimestamp = the send time, the same value as Envelope.timestamp.
    content.sig_timestamp = static_cast<std::uint64_t>(timestamp_ms);
    auto sealed = envelope::seal(self_, to, content, timestamp_ms);
    if (!sealed) return unexpected(std::move(sealed).error());
    std::string data = envelope::to_swarm_data(*sealed);
    if (data.size() > network::kMaxStoreDataChars)
        return unexpected(Errc::envelope_too_large,
                          "client: message too large: expected at most " + std::to_string(network::kMaxStoreDataChars) +
                              " base64 characters stored (" + std::to_string(network::kMaxStoreDataBytes) +
                              " bytes), got " + std::to_string(data.size()));
    return Sealed{to, timestamp_ms, std::move(data), std::move(content)};
}

Result<network::StoreResult> Sender::store(const Sealed& sealed, const SendSpec& spec) const {
    return net_->store(sealed.to, retrieve::kDefaultNamespace, sealed.data, spec.ttl.count());
}

Result<SendResult> Sender::send(const SessionId& to, const ContentBuilder& build, const SendSpec& spec) {
    // A message too large for any swarm is bad input whatever the network does: found before the
    // first request. Sealing adds a bounded overhead to the padded Content (sealed box, signature,
    // sender key, Envelope and WebSocket framing: under kSealOverheadBound bytes), so only a Content
    // near the limit needs a provisional seal to be sure; the real one below has the final timestamp.
    const std::int64_t provisional = net_->now_ms();
    const std::size_t content_bytes = build(provisional).encode().size();
    if (content_bytes + envelope::kPaddingBlockBytes + kSealOverheadBound > network::kMaxStoreDataBytes) {
        if (auto probe = seal(to, build, spec, provisional); !probe) return unexpected(std::move(probe).error());
    }

    // Resolve the recipient's swarm, and know network time, before taking the timestamp: a
    // get_swarm answer carries the node's time `t`; a swarm placed locally (from the pool's swarm
    // ids) brings none, and then one member is asked its time. So even the first message of a process
    // is stamped with network time, not a local clock that may be off.
    auto swarm = net_->get_swarm(to);
    if (!swarm) return unexpected(std::move(swarm).error());
    ensure_network_time(*swarm);

    // The network calls `data` once, and again only when a 406/425 resync moved network time and no
    // attempt can have stored the first data: the message is then stamped and sealed again with the
    // corrected time (and a new timestamp). Otherwise the first data goes again, as it is.
    std::optional<Sealed> sealed;
    const network::Network::DataBuilder data = [&](std::int64_t) -> Result<std::string> {
        auto built = seal(to, build, spec, next_timestamp());
        if (!built) return unexpected(std::move(built).error());
        sealed = std::move(*built);
        return sealed->data;
    };
    auto stored = net_->store(to, retrieve::kDefaultNamespace, data, spec.ttl.count());
    if (!stored) return unexpected(std::move(stored).error());

    SendResult out;
    if (spec.sync_copy && !(to == id_) && sealed->content.data_message) {
        // Same Content and timestamp, plus syncTarget, sealed for ourselves (desktop's sync message).
        const auto with_target = [&](std::int64_t) {
            proto::Content copy = sealed->content;
            copy.data_message->sync_target = to.hex();
            return copy;
        };
        auto copy = seal(id_, with_target, spec, sealed->timestamp_ms);
        if (!copy) {
            out.sync_error = std::move(copy).error();
        } else {
            auto synced = store(*copy, spec);
            if (synced) out.sync_hash = synced->hash;
            else out.sync_error = std::move(synced).error();
        }
        if (out.sync_error) say(network::LogLevel::warning, "client: sync copy failed: " + out.sync_error->message);
    }
    out.hash = stored->hash;
    out.timestamp_ms = sealed->timestamp_ms;
    out.expiry_ms = stored->expiry_ms;
    out.nodes = std::move(stored->nodes);
    say(network::LogLevel::debug, "client: sent " + out.hash + " to " + to.hex().substr(0, 10) + "…, " +
                                      std::to_string(out.confirmed()) + " member(s) confirmed");
    return out;
}

}  // namespace session::detail
