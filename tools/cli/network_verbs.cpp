// network_verbs.cpp: `session-cli send`, `receive` and `watch`: the Client facade from a shell.
// Without --network they use the Session mainnet; with --network FILE, the local network that
// session-localnet described in FILE.
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli.hpp"
#include "session/client.hpp"

namespace session::cli {
namespace {

using ojson = nlohmann::ordered_json;

int fail(const Failure& f) {
    report(f.message);
    return f.exit_code;
}

Expected<Client, Failure> make_client(const Args& args, Identity identity, std::string display_name = {}) {
    ClientOptions options;
    if (const std::string* file = args.get("network")) {
        if (file->empty()) return Unexpected<Failure>(Failure{kUsage, "--network needs a file name"});
        options.network = *file;
    }
    options.display_name = std::move(display_name);
    if (const std::string* state = args.get("state")) {
        if (state->empty()) return Unexpected<Failure>(Failure{kUsage, "--state needs a file name"});
        options.state_path = *state;
    }
    auto client = Client::create(std::move(identity), std::move(options));
    if (!client) {
        const auto code = client.error().code;
        // A missing or malformed network file is the user's input, not a network failure.
        const int exit = (code == Errc::io_error || code == Errc::net_config || code == Errc::invalid_argument)
                             ? kUsage
                             : exit_code_for(code);
        const bool state_file = client.error().message.rfind("client: state file", 0) == 0;  // names its file
        std::string where = args.has("network") && !state_file ? "--network " + *args.get("network") + ": " : "";
        return Unexpected<Failure>(Failure{exit, where + client.error().message});
    }
    return std::move(*client);
}

void print_message(const ReceivedMessage& m, Format format) {
    if (format == Format::json) {
        ojson o;
        o["hash"] = m.hash;
        o["sender_session_id"] = m.sender.hex();
        o["kind"] = std::string(to_string(m.kind));
        o["body"] = m.body;
        o["timestamp"] = m.sent_timestamp_ms;
        o["stored_timestamp"] = m.stored_timestamp_ms;
        o["expiry_ms"] = m.expiry_ms;
        o["expire_seconds"] = m.expiration_timer.count();
        o["expire_after_read"] = m.expiration_type == ExpirationType::delete_after_read;
        o["expiry"] = std::string(expiry_json_name(m.expiration_type));
        if (m.display_name) o["display_name"] = *m.display_name;
        // A sync copy (sent by our own account from another device) names its real recipient here.
        if (m.content.data_message && m.content.data_message->sync_target)
            o["sync_target"] = *m.content.data_message->sync_target;
        o["attachments"] = ojson::parse(attachments_json(m.attachments));
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
        return;
    }
    std::string head = iso_time(m.sent_timestamp_ms) + " " + m.sender.hex();
    if (m.display_name) head += " (" + *m.display_name + ")";
    head += " [" + std::string(to_string(m.kind)) + "]";
    if (m.expiration_timer.count())
        head += " (disappears " + std::to_string(m.expiration_timer.count()) + " s after " +
                (m.expiration_type == ExpirationType::delete_after_read ? "reading" : "sending") + ")";
    std::string line = head + ": " + m.body;
    for (const auto& a : m.attachments)
        line += "\n    attachment: " + a.file_name.value_or("(no name)") + " " + a.content_type.value_or("") + " " +
                std::to_string(a.size.value_or(0)) + " bytes " + a.url.value_or("");
    emit(line);
}

void print_skipped(const SkippedItem& s, Format format) {
    if (format == Format::json) {
        ojson o;
        o["hash"] = s.hash;
        o["stored_timestamp"] = s.stored_timestamp_ms;
        o["error"] = s.reason.message;
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
    } else {
        report("skipped " + s.hash + ": " + s.reason.message);
    }
}

Expected<std::string, Failure> initial_last_hash(const Args& args) {
    const std::string* h = args.get("last-hash");
    if (!h) return std::string();
    if (h->size() != retrieve::kHashLength)
        return Unexpected<Failure>(Failure{kUsage, "--last-hash: expected a " + std::to_string(retrieve::kHashLength) +
                                                       "-character message hash, got " + std::to_string(h->size()) +
                                                       " characters"});
    return *h;
}

// What receive and watch start from: the account's Client, and where to resume (--last-hash when
// given, else where the --state file says the last receive stopped).
struct Receiver {
    Client client;
    std::string since;
};

Expected<Receiver, Failure> open_receiver(const Args& args) {
    auto last_hash = initial_last_hash(args);
    if (!last_hash) return Unexpected<Failure>(last_hash.error());
    auto self = load_identity(args, StdinUse::free);
    if (!self) return Unexpected<Failure>(self.error());
    auto client = make_client(args, std::move(*self));
    if (!client) return Unexpected<Failure>(client.error());
    std::string since = std::move(*last_hash);
    if (!args.has("last-hash")) {
        since = client->resume_hash();
        if (!since.empty()) report("resuming after " + since + " (from --state)");
    }
    return Receiver{std::move(*client), std::move(since)};
}

void print_page(const ReceivedPage& page, Format format) {
    for (const auto& m : page.messages) print_message(m, format);
    for (const auto& s : page.skipped) print_skipped(s, format);
}

// Set by SIGINT/SIGTERM; watch finishes its current poll and exits. A second signal exits at once.
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int sig) {
    if (g_stop) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
    g_stop = 1;
}

}  // namespace

int cmd_send(const Args& args) {
    if (auto ok = check_usage(args, {"phrase-file", "network", "expire-after-send", "expire-after-read", "display-name"},
                              1, 2);
        !ok)
        return fail(ok.error());
    auto to = parse_recipient("recipient", args.positional[0]);
    if (!to) return fail(to.error());
    auto settings = read_message_settings(args);
    if (!settings) return fail(settings.error());
    const bool text_on_stdin = args.positional.size() == 1;
    std::string text;
    if (!text_on_stdin) {
        text = args.positional[1];
        if (text.size() > kMaxTextBytes)
            return fail({kUsage, "message text is larger than " + std::to_string(kMaxTextBytes) + " bytes"});
        if (auto at = invalid_utf8_at(text))
            return fail({kUsage, "message text is not valid UTF-8 (first bad byte at offset " + std::to_string(*at) + ")"});
    }
    auto self = load_identity(args, text_on_stdin ? StdinUse::data : StdinUse::free);
    if (!self) return fail(self.error());
    if (text_on_stdin) {
        auto read = read_message_text(std::cin);
        if (!read) return fail(read.error());
        text = std::move(*read);
    }
    if (text.empty()) report("warning: sending an empty message: Session apps do not display it");
    auto client = make_client(args, std::move(*self), settings->display_name.value_or(""));
    if (!client) return fail(client.error());

    SendOptions options;
    options.expiration_type = settings->expiration_type;
    options.expiration_timer = settings->expiration_timer;
    auto sent = client->send(*to, text, options);
    if (!sent) {
        if (sent.error().code == Errc::key_invalid) return fail({kUsage, "recipient: " + sent.error().message});
        return fail({exit_code_for(sent.error().code), "send: " + sent.error().message});
    }
    if (args.format == Format::json) {
        ojson o;
        o["to"] = to->hex();
        o["hash"] = sent->hash;
        o["timestamp"] = sent->timestamp_ms;
        o["expiry_ms"] = sent->expiry_ms;
        o["confirmed"] = sent->confirmed();
        o["swarm_members"] = sent->nodes.size();
        emit(o.dump());
    } else {
        emit(sent->hash);
        report("sent to " + to->hex() + " at " + iso_time(sent->timestamp_ms) + ": stored by " +
               std::to_string(sent->confirmed()) + " of " + std::to_string(sent->nodes.size()) + " swarm members");
    }
    return kOk;
}

int cmd_receive(const Args& args) {
    if (auto ok = check_usage(args, {"phrase-file", "network", "last-hash", "state"}, 0, 0); !ok)
        return fail(ok.error());
    auto rx = open_receiver(args);
    if (!rx) return fail(rx.error());
    const Format format = args.format.value_or(Format::text);
    // A page at a time: output starts with the first page and memory stays at one page however
    // large the backlog.
    auto got = rx->client.receive_pages(rx->since, [&](ReceivedPage& page) {
        print_page(page, format);
        return true;
    });
    if (!got) return fail({exit_code_for(got.error().code), "receive: " + got.error().message});
    if (format == Format::text || got->skipped > 0)
        report("receive: " + std::to_string(got->messages) + " new message(s), " + std::to_string(got->skipped) +
               " skipped; next time pass --last-hash " +
               (got->last_hash.empty() ? std::string("(none yet)") : got->last_hash));
    return kOk;
}

int cmd_watch(const Args& args) {
    if (auto ok = check_usage(args, {"phrase-file", "network", "last-hash", "interval", "count", "state"}, 0, 0); !ok)
        return fail(ok.error());
    std::uint64_t interval_s = 5;
    if (args.has("interval")) {
        auto v = parse_uint_option(args, "interval", 86'400);
        if (!v) return fail(v.error());
        if (*v == 0) return fail({kUsage, "--interval: expected at least 1 second, got 0"});
        interval_s = *v;
    }
    std::optional<std::uint64_t> count;
    if (args.has("count")) {
        auto v = parse_uint_option(args, "count", 1'000'000'000);
        if (!v) return fail(v.error());
        if (*v == 0) return fail({kUsage, "--count: expected at least 1 poll, got 0"});
        count = *v;
    }
    auto rx = open_receiver(args);
    if (!rx) return fail(rx.error());

    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a signal interrupts the sleep at once
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const Format format = args.format.value_or(Format::text);
    std::string cursor = rx->since;
    std::uint64_t polls = 0, failures = 0;
    while (!g_stop && (!count || polls < *count)) {
        ++polls;
        auto got = rx->client.receive_pages(cursor, [&](ReceivedPage& page) {
            print_page(page, format);
            cursor = page.last_hash;  // printed: resume after it, even if a signal stops us here
            return !g_stop;
        });
        if (!got) {
            ++failures;
            report("watch: poll " + std::to_string(polls) + " failed (will retry): " + got.error().message);
        } else {
            cursor = got->last_hash;
        }
        if (count && polls >= *count) break;
        // Sleep in short steps so a signal ends the wait promptly.
        for (std::uint64_t waited = 0; waited < interval_s * 10 && !g_stop; ++waited)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    report("watch: stopped after " + std::to_string(polls) + " poll(s)" +
           (cursor.empty() ? std::string() : "; resume with --last-hash " + cursor));
    if (failures == polls && polls > 0) return kNetwork;  // not one poll reached the swarm
    return kOk;
}

}  // namespace session::cli
