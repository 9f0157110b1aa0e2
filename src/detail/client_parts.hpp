#pragma once
// client_parts.hpp (private): what the Client's conversation calls (client_conversation.cpp) use of
// its state, so they live in their own unit while Client::Impl stays in client.cpp.
#include <string>

#include "detail/conversation.hpp"
#include "detail/sender.hpp"
#include "session/client.hpp"
#include "session/retrieve.hpp"

namespace session {

struct Client::Parts {
    const Identity& self;
    const SessionId& id;
    std::string display_name;  // a copy: set_display_name may change it meanwhile
    network::Network& net;
    retrieve::SwarmReader& reader;
    detail::Sender& sender;
    detail::ConversationBook& book;
    const network::LogFn& log;
};

}  // namespace session

namespace session::detail {

/// What every visible message (a DataMessage to `to`) needs before it is sealed, sent directly or
/// through the outbox: the conversation's disappearing setting when `options` has none (and
/// `conversation_setting`), and the automatic accept of a message request. Returns the spec to
/// send with.
[[nodiscard]] Result<SendSpec> prepare_visible(Client::Parts p, const SessionId& to, SendOptions options,
                                               bool conversation_setting = true);

/// Sends a visible message the way every visible kind goes: prepare_visible, the pipeline, then
/// what the book must remember (we wrote; our own copies).
[[nodiscard]] Result<SendResult> send_visible(Client::Parts p, const SessionId& to, const ContentBuilder& build,
                                              SendOptions options, bool conversation_setting = true);

/// Fills a received message's typed conversation fields and updates the book (message requests,
/// timer updates, delete-after-read messages, sync copies). Returns why the item must be skipped
/// instead, when its kind is malformed or an unsend names another author.
[[nodiscard]] std::optional<Error> annotate(ConversationBook& book, const SessionId& self, ReceivedMessage& m);

}  // namespace session::detail
