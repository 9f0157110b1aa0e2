#pragma once
// sender.hpp (private): the Client's send pipeline, one path for every kind of message it sends
// (a text, a receipt, a reaction, an unsend, …):
//
//   recipient's swarm (network time) → timestamp → Content{…, expiration, sigTimestamp = t}
//   → envelope::seal → size check → network store (namespace 0, ttl) → [sync copy to our swarm]
//
// The Client's public calls build the Content of their kind and hand it here; an outbox can take
// the sealed bytes (seal()) and store them later (store()), since the same bytes always hash the
// same. Thread-safe: sends may run concurrently.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/proto_wire.hpp"

namespace session::detail {

/// How one message is sent, apart from its Content.
struct SendSpec {
    std::chrono::milliseconds ttl = kDefaultMessageTtl;  ///< how long the swarm keeps it
    ExpirationType expiration_type = ExpirationType::none;
    std::chrono::seconds expiration_timer{0};
    /// Also store a copy in our own swarm with DataMessage.syncTarget = recipient (DataMessage
    /// contents only; ignored for Note to Self).
    bool sync_copy = false;
    /// Whether Content.expirationType/expirationTimer are written. Control messages session-desktop
    /// builds as plain ContentMessages (receipts, typing, unsend, request responses) carry neither.
    bool expirable = true;
};

/// Checks SendOptions' TTL and disappearing setting and turns them into a SendSpec: the TTL
/// defaults to 14 days, or to the timer for delete_after_send (as session-desktop stores those).
/// Errors: invalid_argument naming the option.
[[nodiscard]] Result<SendSpec> spec_for(const SendOptions& options);

/// Builds the Content of a message for its send timestamp (the timestamp is part of some contents,
/// e.g. LokiProfile.lastProfileUpdateSeconds). The pipeline sets sigTimestamp and the expiration.
using ContentBuilder = std::function<proto::Content(std::int64_t timestamp_ms)>;

/// A message sealed for its recipient: exactly the bytes a swarm stores.
struct Sealed {
    SessionId to;
    std::int64_t timestamp_ms;  ///< Envelope.timestamp = Content.sigTimestamp
    std::string data;           ///< base64 swarm data (<= network::kMaxStoreDataChars)
    proto::Content content;     ///< as sealed (for a sync copy)
};

class Sender {
public:
    Sender(const Identity& self, std::shared_ptr<network::Network> net, network::LogFn log);

    /// How far ahead of network time our last timestamp may be before next_timestamp() follows the
    /// clock back (see next_timestamp()).
    static constexpr std::chrono::milliseconds kMaxTimestampLead{2'000};

    /// A strictly increasing network timestamp, unless network time moved back by more than
    /// kMaxTimestampLead since the last one (a future-dated clock sample voted out): then network
    /// time itself, so one outlier cannot pin every later timestamp in the future. A message's
    /// timestamp is its id in the protocol (quotes, reactions, unsend and read receipts name
    /// messages by sender + timestamp), so ours strictly increase even when sends race or the
    /// learned clock offset moves back a little.
    std::int64_t next_timestamp();

    /// Makes sure network time is known before a message is stamped: when no node's time has been
    /// seen yet (the swarm was placed locally, so no request came first), a member of `swarm`
    /// (the first) is asked `info`, whose `t` teaches the
    /// clock, as a get_swarm answer would have. A failure is logged and the local clock used (a
    /// 406 on the store then resyncs and re-seals).
    void ensure_network_time(const network::Swarm& swarm) const;

    /// Builds, stamps and seals one message for `to` at `timestamp_ms`.
    /// Errors: envelope_too_large (over the storage server's limit), key_invalid, invalid_argument.
    [[nodiscard]] Result<Sealed> seal(const SessionId& to, const ContentBuilder& build, const SendSpec& spec,
                                      std::int64_t timestamp_ms) const;

    /// Stores sealed bytes in the recipient's swarm (the same bytes give the same hash, so storing
    /// them again after a failure or a crash never duplicates the message). Errors: net_*.
    [[nodiscard]] Result<network::StoreResult> store(const Sealed& sealed, const SendSpec& spec) const;

    /// The whole pipeline: the recipient's swarm first (when it is not cached, its lookup brings the
    /// network time), then a fresh timestamp, seal, store and, with spec.sync_copy, the sync copy
    /// (whose failure does not fail the send: SendResult::sync_error).
    /// Errors: as seal() and store(); net_* from the swarm lookup.
    [[nodiscard]] Result<SendResult> send(const SessionId& to, const ContentBuilder& build, const SendSpec& spec);

private:
    void say(network::LogLevel level, const std::string& line) const;

    const Identity& self_;
    SessionId id_;
    std::shared_ptr<network::Network> net_;
    network::LogFn log_;
    std::atomic<std::int64_t> last_sent_ms_{0};
};

}  // namespace session::detail
