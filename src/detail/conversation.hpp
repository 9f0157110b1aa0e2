#pragma once
// conversation.hpp (private): the conversation kinds beyond text, for the Client.
//
//   * builders: the Content session-desktop builds for each control message (ReadReceiptMessage,
//     TypingMessage, UnsendMessage, MessageRequestResponse, ExpirationTimerUpdateMessage,
//     DataExtractionNotificationMessage); the sender pipeline adds sigTimestamp and, for the
//     expirable kinds, the conversation's disappearing setting;
//   * parse: a received Content's typed fields (conversation.hpp), or why the item is skipped;
//   * ConversationBook: what the Client remembers per peer (disappearing setting, who wrote first,
//     our own copies of what we sent, delete-after-read messages received), bounded;
//   * the signed `delete` and `expire` requests to our own swarm (storage-server.md §5.5, §5.9).
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "session/conversation.hpp"
#include "session/envelope.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/proto_wire.hpp"

namespace session::detail {

// ---- outgoing Contents (sigTimestamp and expiration are the pipeline's) -------------------------

/// ReadReceiptMessage: Content{receiptMessage{type READ, timestamp…}}.
proto::Content receipt_content(ReceiptType type, const std::vector<std::int64_t>& timestamps);
/// TypingMessage: Content{typingMessage{timestamp = the send time, action}}.
proto::Content typing_content(TypingAction action, std::int64_t timestamp_ms);
/// UnsendMessage: Content{unsendRequest{timestamp, author}}.
proto::Content unsend_content(std::int64_t timestamp_ms, const std::string& author);
/// MessageRequestResponse{isApproved = true, profile{displayName?, lastProfileUpdateSeconds}}.
proto::Content request_response_content(const std::string& display_name, std::int64_t timestamp_ms);
/// ExpirationTimerUpdateMessage: Content{dataMessage{flags = EXPIRATION_TIMER_UPDATE}} (the mode and
/// timer ride in Content.expirationType/expirationTimer, set by the pipeline).
proto::Content timer_update_content();
/// DataExtractionNotificationMessage: Content{dataExtractionNotification{type, timestamp}}.
proto::Content data_extraction_content(DataExtractionType type, std::int64_t referenced_timestamp_ms);

// ---- incoming -----------------------------------------------------------------------------------

/// The typed fields of one received message (each set only for its kind; quote on a text).
struct Parsed {
    std::optional<ReceiptInfo> receipt;
    std::optional<TypingAction> typing;
    std::optional<QuoteInfo> quote;
    std::optional<ReactionInfo> reaction;
    std::optional<UnsendInfo> unsend;
    std::optional<RequestResponseInfo> request_response;
    std::optional<DisappearingSetting> timer_update;
    std::optional<DataExtractionInfo> data_extraction;
};

/// Reads the kind's fields out of `content`. Errors: receive_malformed_kind (an enum value outside
/// the protocol's set, a timestamp above 2^63-1, a reaction without an emoji, a timer update whose
/// mode and timer disagree), receive_unsend_not_author (an UnsendRequest for a message whose author
/// is not the sender: nobody may unsend someone else's message).
[[nodiscard]] Result<Parsed> parse(const proto::Content& content, MessageKind kind, const SessionId& sender);

// ---- per-peer memory ----------------------------------------------------------------------------

/// A message we received and have not marked read yet: its hash and, for a delete-after-read
/// message, its timer (0 for any other message: nothing to shorten when it is read).
struct AfterRead {
    std::string hash;
    std::chrono::seconds timer{0};
    std::int64_t timestamp_ms = 0;  ///< its sent timestamp (set by take_after_read)
};

/// What the Client remembers about its conversations (in memory; thread-safe). Every map is
/// bounded (kMaxEntries, oldest dropped first) so a flood of messages cannot grow it without end.
class ConversationBook {
public:
    static constexpr std::size_t kMaxEntries = 100'000;

    DisappearingSetting setting(const SessionId& peer) const;
    void set_setting(const SessionId& peer, DisappearingSetting s);

    /// We wrote to `peer` (or accepted its request): it is no longer a message request.
    void note_outgoing(const SessionId& peer);
    /// A message from `sender` arrived; returns true when it is a message request (we never wrote
    /// to the sender). With `wrote` (a visible message), remembers that the sender wrote first.
    bool note_incoming(const SessionId& sender, bool wrote);
    /// `peer` wrote first and we have neither written nor accepted: our first reply accepts.
    bool needs_accept(const SessionId& peer) const;

    /// Hashes, in our own swarm, of the copies of our message (peer, timestamp).
    void note_own_copy(const SessionId& peer, std::int64_t timestamp_ms, std::string hash);
    std::vector<std::string> take_own_copies(const SessionId& peer, std::int64_t timestamp_ms);

    void note_after_read(const SessionId& sender, std::int64_t timestamp_ms, AfterRead m);
    /// Removes and returns the remembered messages of `sender` at `timestamps`.
    std::vector<AfterRead> take_after_read(const SessionId& sender, const std::vector<std::int64_t>& timestamps);

private:
    using Key = std::pair<std::string, std::int64_t>;
    template <class Map>
    void bound(Map& map, std::deque<typename Map::key_type>& order);

    mutable std::mutex mu_;
    std::map<std::string, DisappearingSetting> settings_;
    std::deque<std::string> settings_order_;
    std::set<std::string> outgoing_;
    std::deque<std::string> outgoing_order_;
    std::set<std::string> wrote_first_;
    std::deque<std::string> wrote_first_order_;
    std::map<Key, std::vector<std::string>> own_;
    std::deque<Key> own_order_;
    std::map<Key, AfterRead> after_read_;
    std::deque<Key> after_read_order_;
};

// ---- our own swarm: signed delete / expire --------------------------------------------------------

/// The bytes signed for `delete` (storage-server.md §4.5): "delete" || hashes in request order.
std::string delete_signature_message(const std::vector<std::string>& hashes);
/// The bytes signed for a shortening `expire`: "expire" || "shorten" || expiry || hashes.
std::string expire_shorten_signature_message(std::int64_t expiry_ms, const std::vector<std::string>& hashes);

/// Deletes `hashes` from our own swarm (namespace-independent, recursive across the swarm). Returns
/// the hashes some member reported deleted (sorted, unique). Errors: invalid_argument (no hashes,
/// or one that is not a 43-character hash), net_* (no member accepted the request), net_bad_response.
[[nodiscard]] Result<std::vector<std::string>> delete_own(network::Network& net, const Identity& self,
                                                          const std::vector<std::string>& hashes);
/// Shortens the expiry of `hashes` in our own swarm to `expiry_ms` (messages that already expire
/// sooner are left alone). Returns the hashes some member reported updated. Errors: as delete_own.
[[nodiscard]] Result<std::vector<std::string>> shorten_own(network::Network& net, const Identity& self,
                                                           const std::vector<std::string>& hashes,
                                                           std::int64_t expiry_ms);

}  // namespace session::detail
