#pragma once
// conversation.hpp: what a 1:1 conversation carries besides text, as typed values: read receipts,
// typing indicators, quotes, reactions, unsend requests, message-request responses, disappearing
// timer updates and data-extraction notices (protocol.md §3.3–3.5). The Client sends them
// (Client::mark_read, send_typing, reply, react, unreact, unsend, accept_request, set_disappearing,
// send_data_extraction) and surfaces them on ReceivedMessage. Pure values; no I/O.
//
// A message is named in the protocol by its author and its sent timestamp (ms): quotes, reactions,
// receipts and unsends all point at a message that way (MessageRef).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/proto_wire.hpp"

namespace session {

/// A message, as the protocol names it: its sent timestamp and its author's Session ID (hex).
struct MessageRef {
    std::int64_t timestamp_ms = 0;
    std::string author;
    bool operator==(const MessageRef&) const = default;
};

/// ReceiptMessage.type: DELIVERY (0, libsession only) or READ (1).
enum class ReceiptType : std::int32_t { delivery = 0, read = 1 };
/// "delivery" / "read".
std::string_view to_string(ReceiptType type) noexcept;
struct ReceiptInfo {
    ReceiptType type = ReceiptType::read;
    std::vector<std::int64_t> timestamps;  ///< sent timestamps of the messages it acknowledges
    bool operator==(const ReceiptInfo&) const = default;
};

/// TypingMessage.action.
enum class TypingAction : std::int32_t { started = 0, stopped = 1 };
/// "started" / "stopped".
std::string_view to_string(TypingAction action) noexcept;

/// DataMessage.quote: the quoted message, and the text shown for it when the sender sent one.
struct QuoteInfo {
    std::int64_t timestamp_ms = 0;
    std::string author;
    std::optional<std::string> text;
    bool operator==(const QuoteInfo&) const = default;
};

/// DataMessage.reaction: an emoji added to (or removed from) a message.
struct ReactionInfo {
    std::int64_t timestamp_ms = 0;  ///< the reacted message's sent timestamp
    std::string author;             ///< the reacted message's author
    std::string emoji;
    bool remove = false;            ///< Reaction.action REMOVE (1); false = REACT (0)
    bool operator==(const ReactionInfo&) const = default;
};

/// UnsendRequest: the sender asks that its message (timestamp, author) be deleted. Surfaced only
/// when author is the sender (anything else is a SkippedItem, receive_unsend_not_author).
struct UnsendInfo {
    std::int64_t timestamp_ms = 0;
    std::string author;
    bool operator==(const UnsendInfo&) const = default;
};

/// MessageRequestResponse: the peer accepted (or declined) our message request.
struct RequestResponseInfo {
    bool approved = false;
    std::optional<std::string> display_name;     ///< profile.displayName
    std::optional<std::string> profile_picture;  ///< profile.profilePicture (URL)
    bool operator==(const RequestResponseInfo&) const = default;
};

/// A conversation's disappearing-messages setting (also a received timer update's content).
struct DisappearingSetting {
    ExpirationType mode = ExpirationType::none;
    std::chrono::seconds timer{0};  ///< 0 exactly when mode is none
    bool operator==(const DisappearingSetting&) const = default;
};

/// DataExtractionNotification.type.
enum class DataExtractionType : std::int32_t { screenshot = 1, media_saved = 2 };
/// "screenshot" / "media_saved".
std::string_view to_string(DataExtractionType type) noexcept;
struct DataExtractionInfo {
    DataExtractionType type = DataExtractionType::screenshot;
    std::optional<std::int64_t> timestamp_ms;  ///< the message screenshotted / saved, when sent
    bool operator==(const DataExtractionInfo&) const = default;
};

/// Typing indicators live 20 s in the swarm (session-desktop TTL_DEFAULT.TYPING_MESSAGE).
inline constexpr std::chrono::milliseconds kTypingMessageTtl{20'000};

}  // namespace session
