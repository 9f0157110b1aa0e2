// message_verbs.cpp: `session-cli seal` and `session-cli open` (offline): the exact bytes a swarm
// stores for a 1:1 message, without a network. Both read their data from stdin, so the phrase comes
// from SESSION_MNEMONIC or --phrase-file.
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <ctime>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "session/envelope.hpp"
#include "session/keys.hpp"
#include "session/retrieve.hpp"
#include "session/rng.hpp"

namespace session::cli {
namespace {

using ojson = nlohmann::ordered_json;

// The longest `data` line open() reads: base64 of envelope::kMaxMessageBytes, plus slack for
// whitespace. Longer lines are skipped (reported as errors) without being held in memory.
constexpr std::size_t kMaxLineChars = envelope::kMaxMessageBytes / 3 * 4 + 1024;

// Reads stdin line by line with a bound on the line length.
class LineReader {
public:
    // Returns false at end of input. `too_long` is set when the line exceeded kMaxLineChars (its
    // content is then discarded up to the next newline).
    bool next(std::string& line, bool& too_long) {
        line.clear();
        too_long = false;
        bool any = false;
        for (;;) {
            if (pos_ == len_) {
                len_ = std::fread(buf_, 1, sizeof buf_, stdin);
                pos_ = 0;
                if (len_ == 0) return any;
            }
            any = true;
            const char* start = buf_ + pos_;
            const char* nl = static_cast<const char*>(std::memchr(start, '\n', len_ - pos_));
            const std::size_t n = nl ? static_cast<std::size_t>(nl - start) : len_ - pos_;
            if (!too_long) {
                if (line.size() + n > kMaxLineChars) {
                    too_long = true;
                    line.clear();
                    line.shrink_to_fit();
                } else {
                    line.append(start, n);
                }
            }
            pos_ += n;
            if (nl) {
                ++pos_;  // the newline
                return true;
            }
        }
    }

private:
    char buf_[1 << 16];
    std::size_t pos_ = 0, len_ = 0;
};

}  // namespace

// ---- shared with the network verbs (declared in cli.hpp) -------------------------------------

Expected<std::string, Failure> read_message_text(std::istream& in) {
    std::string text;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxTextBytes)
            return Unexpected<Failure>(Failure{kUsage, "message text is larger than " + std::to_string(kMaxTextBytes) +
                                                           " bytes"});
    }
    // One trailing newline is the shell's ("echo hi"), not the message's.
    if (text.ends_with("\r\n")) text.resize(text.size() - 2);
    else if (text.ends_with('\n')) text.pop_back();
    if (auto at = invalid_utf8_at(text))
        return Unexpected<Failure>(
            Failure{kUsage, "message text is not valid UTF-8 (first bad byte at offset " + std::to_string(*at) + ")"});
    return text;
}

Expected<std::string, Failure> message_text(const Args& args, std::size_t text_index) {
    const bool allow_empty = args.has("allow-empty");
    const std::string how = "; pass --allow-empty to allow an empty message (Session apps do not display it)";
    if (args.positional.size() > text_index) {
        const std::string& text = args.positional[text_index];
        if (text.size() > kMaxTextBytes)
            return Unexpected<Failure>(
                Failure{kUsage, "message text is larger than " + std::to_string(kMaxTextBytes) + " bytes"});
        if (auto at = invalid_utf8_at(text))
            return Unexpected<Failure>(Failure{
                kUsage, "message text is not valid UTF-8 (first bad byte at offset " + std::to_string(*at) + ")"});
        if (text.empty() && !allow_empty)
            return Unexpected<Failure>(Failure{kUsage, args.verb + ": the message TEXT is empty" + how});
        return text;
    }
    // A job started without input (cron, `<&-`, `</dev/null`) must not send a blank message.
    if (args.stdin_closed && !allow_empty)
        return Unexpected<Failure>(Failure{kUsage, args.verb + ": no message: stdin is closed and no TEXT was given" + how});
    if (::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO))
        report("type the message, then Ctrl-D at the start of a line");
    auto text = read_message_text(std::cin);
    if (!text) return Unexpected<Failure>(text.error());
    if (text->empty() && !allow_empty)
        return Unexpected<Failure>(Failure{kUsage, args.verb + ": no message: stdin is empty" +
                                                       (args.verb == "send" ? std::string(" and no TEXT was given")
                                                                            : std::string()) +
                                                       how});
    return text;
}

Expected<MessageSettings, Failure> read_message_settings(const Args& args) {
    MessageSettings s;
    if (args.has("expire-after-send") && args.has("expire-after-read"))
        return Unexpected<Failure>(Failure{kUsage, "--expire-after-send and --expire-after-read exclude each other"});
    for (const char* name : {"expire-after-send", "expire-after-read"}) {
        if (!args.has(name)) continue;
        auto secs = parse_uint_option(args, name, std::numeric_limits<std::uint32_t>::max());
        if (!secs) return Unexpected<Failure>(std::move(secs).error());
        if (*secs == 0)
            return Unexpected<Failure>(Failure{kUsage, std::string("--") + name + ": expected at least 1 second, got 0"});
        s.expiration_type = std::string_view(name) == "expire-after-send" ? ExpirationType::delete_after_send
                                                                          : ExpirationType::delete_after_read;
        s.expiration_timer = std::chrono::seconds(*secs);
    }
    if (args.has("timestamp")) {
        auto ts = parse_uint_option(args, "timestamp", static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
        if (!ts) return Unexpected<Failure>(std::move(ts).error());
        s.timestamp_ms = static_cast<std::int64_t>(*ts);
    }
    if (const std::string* name = args.get("display-name")) {
        if (auto at = invalid_utf8_at(*name))
            return Unexpected<Failure>(
                Failure{kUsage, "--display-name is not valid UTF-8 (first bad byte at offset " + std::to_string(*at) + ")"});
        s.display_name = *name;
    }
    s.legacy_padding = args.has("legacy-padding");
    return s;
}

Expected<SessionId, Failure> parse_recipient(std::string_view what, std::string_view text) {
    auto id = SessionId::parse(text);
    if (!id) return Unexpected<Failure>(Failure{kUsage, std::string(what) + ": " + id.error().message});
    return *id;
}

std::string iso_time(std::int64_t ms) {
    if (ms < 0) return std::to_string(ms) + " ms";
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    if (!gmtime_r(&secs, &tm)) return std::to_string(ms) + " ms";
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

std::string_view expiry_json_name(ExpirationType type) {
    switch (type) {
        case ExpirationType::delete_after_read: return "after_read";
        case ExpirationType::delete_after_send: return "after_send";
        case ExpirationType::none: break;
    }
    return "none";
}

std::string attachments_json(const std::vector<proto::AttachmentPointer>& list) { return attachments_json(list, {}); }

std::string attachments_json(const std::vector<proto::AttachmentPointer>& list,
                             const std::vector<AttachmentOutcome>& outcomes) {
    ojson out = ojson::array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& a = list[i];
        ojson o;
        o["url"] = a.url.value_or("");
        o["key"] = a.key ? ojson(to_hex(*a.key)) : ojson(nullptr);
        o["digest"] = a.digest ? ojson(to_hex(*a.digest)) : ojson(nullptr);
        o["size"] = a.size.value_or(0);
        o["content_type"] = a.content_type.value_or("");
        o["file_name"] = a.file_name.value_or("");
        o["width"] = a.width ? ojson(*a.width) : ojson(nullptr);
        o["height"] = a.height ? ojson(*a.height) : ojson(nullptr);
        const bool voice = a.flags && (*a.flags & proto::AttachmentPointer::kFlagVoiceMessage) != 0;
        o["voice_note"] = voice;
        o["voice_message"] = voice;  // the name before issue 12, kept for scripts that read it
        if (a.caption) o["caption"] = *a.caption;
        if (i < outcomes.size()) {
            if (outcomes[i].saved_to) o["saved_to"] = *outcomes[i].saved_to;
            if (outcomes[i].error) o["error"] = *outcomes[i].error;
        }
        out.push_back(std::move(o));
    }
    return out.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string attachments_text(const std::vector<proto::AttachmentPointer>& list,
                             const std::vector<AttachmentOutcome>& outcomes) {
    std::string out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& a = list[i];
        out += "\n    attachment: " + detail::escape_for_terminal(a.file_name.value_or("(no name)")) + " " +
               detail::escape_for_terminal(a.content_type.value_or("")) + " " + std::to_string(a.size.value_or(0)) +
               " bytes " + detail::escape_for_terminal(a.url.value_or(""));
        if (i >= outcomes.size()) continue;
        if (outcomes[i].saved_to) out += "\n      saved to " + detail::escape_for_terminal(*outcomes[i].saved_to);
        if (outcomes[i].error) out += "\n      not saved: " + detail::escape_for_terminal(*outcomes[i].error);
    }
    return out;
}

// ---- seal --------------------------------------------------------------------------------------

int cmd_seal(const Args& args) {
    const std::string* to_text = args.get("to");
    if (!to_text) return fail({kUsage, "seal needs --to SESSION_ID (the recipient)"});
    auto to = parse_recipient("--to", *to_text);
    if (!to) return fail(to.error());
    auto settings = read_message_settings(args);
    if (!settings) return fail(settings.error());
    auto self = load_identity(args, StdinUse::data);
    if (!self) return fail(self.error());
    auto text = message_text(args, 0);
    if (!text) return fail(text.error());

    envelope::OutgoingMessage m;
    m.body = std::move(*text);
    m.timestamp_ms = settings->timestamp_ms.value_or(system_clock()->now_ms());
    m.display_name = settings->display_name;
    m.expiration_type = settings->expiration_type;
    m.expiration_timer = settings->expiration_timer;
    const auto rule = settings->legacy_padding ? envelope::PaddingRule::legacy : envelope::PaddingRule::current;
    auto sealed = envelope::seal(*self, *to, envelope::build_content(m), m.timestamp_ms, rule);
    if (!sealed) {
        // A Session ID whose key cannot receive (a low-order point) is bad input, like a bad prefix.
        if (sealed.error().code == Errc::key_invalid) return fail({kUsage, "--to: " + sealed.error().message});
        return fail({exit_code_for(sealed.error().code), "seal: " + sealed.error().message});
    }
    const std::string data = envelope::to_swarm_data(*sealed);
    if (data.size() > kMaxSwarmDataChars)
        report("warning: the sealed message is " + std::to_string(data.size()) +
               " base64 characters; a storage server refuses more than " + std::to_string(kMaxSwarmDataChars) +
               " (" + std::to_string(retrieve::kMaxMessageBytes) + " bytes decoded), and send refuses it too");
    if (args.format == Format::json) {
        ojson o;
        o["to"] = to->hex();
        o["timestamp"] = m.timestamp_ms;
        o["data"] = data;
        emit(o.dump());
    } else {
        emit(data);
    }
    return kOk;
}

// ---- open --------------------------------------------------------------------------------------

std::string message_json(const envelope::Message& m) {
    ojson o;
    o["sender_session_id"] = m.sender.hex();
    o["kind"] = std::string(to_string(m.kind));
    o["body"] = m.body;
    o["timestamp"] = m.envelope_timestamp_ms;
    if (m.sig_timestamp_ms) o["sig_timestamp"] = *m.sig_timestamp_ms;
    o["expire_seconds"] = m.expiration_timer.count();
    o["expire_after_read"] = m.expiration_type == ExpirationType::delete_after_read;
    o["expiry"] = std::string(expiry_json_name(m.expiration_type));
    if (m.display_name) o["display_name"] = *m.display_name;
    // A sync copy (sent by our own account from another device) names its real recipient here.
    if (m.content.data_message && m.content.data_message->sync_target)
        o["sync_target"] = *m.content.data_message->sync_target;
    o["attachments"] = ojson::parse(attachments_json(m.attachments));
    return o.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

int cmd_open(const Args& args) {
    auto self = load_identity(args, StdinUse::data);
    if (!self) return fail(self.error());
    const bool json = args.format.value_or(Format::json) == Format::json;

    std::string line;
    bool too_long = false;
    std::size_t line_no = 0, opened = 0, failed = 0;
    auto reader = std::make_unique<LineReader>();
    while (reader->next(line, too_long)) {
        ++line_no;
        std::string_view data = line;
        while (!data.empty() && std::isspace(static_cast<unsigned char>(data.back()))) data.remove_suffix(1);
        while (!data.empty() && std::isspace(static_cast<unsigned char>(data.front()))) data.remove_prefix(1);
        if (data.empty() && !too_long) continue;  // blank lines separate nothing; skip them

        std::string error;
        Result<Bytes> bytes = too_long ? Result<Bytes>(unexpected(Errc::invalid_argument,
                                                                  "line is longer than " + std::to_string(kMaxLineChars) +
                                                                      " characters; not a swarm message"))
                                       : envelope::from_swarm_data(data);
        if (!bytes) {
            error = bytes.error().message;
        } else {
            auto message = envelope::open(*self, *bytes);
            if (!message) {
                error = message.error().message;
            } else {
                ++opened;
                if (json) {
                    auto o = ojson::parse(message_json(*message));
                    o["line"] = line_no;
                    emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
                } else {
                    std::string head = iso_time(message->envelope_timestamp_ms) + " " + message->sender.hex() +
                                       " [" + std::string(to_string(message->kind)) + "]";
                    if (message->expiration_timer.count())
                        head += " (disappears " + std::to_string(message->expiration_timer.count()) + " s after " +
                                (message->expiration_type == ExpirationType::delete_after_read ? "reading" : "sending") + ")";
                    emit(head + ": " + detail::escape_for_terminal(message->body, kContinuation) +
                         attachments_text(message->attachments));
                }
                continue;
            }
        }
        ++failed;
        if (json) {
            ojson o;
            o["line"] = line_no;
            o["error"] = error;
            emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
        } else {
            report("line " + std::to_string(line_no) + ": " + error);
        }
    }
    if (failed) {
        report("open: " + std::to_string(failed) + " of " + std::to_string(opened + failed) +
               " lines could not be opened");
        return kCrypto;
    }
    return kOk;
}

}  // namespace session::cli
