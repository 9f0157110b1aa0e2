// attachment_verbs.cpp: session-cli's attachments: `send --attach FILE…`, `receive`/`watch
// --download DIR` and the `download` verb (protocol.md §6; the library's Client::send_files,
// download_attachment_to).
//
// Saved files get safe names: the sender's file name without any directory part, control or
// path characters replaced, no leading dot, at most 120 bytes; "attachment" when nothing is left.
// An existing file is never overwritten: "name (1).ext", "name (2).ext", … are tried instead.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "session/attachment.hpp"
#include "session/client.hpp"

namespace session::cli {
namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr std::size_t kMaxNameBytes = 120;
constexpr int kMaxNameTries = 1000;
constexpr std::size_t kMaxAttachmentJsonBytes = 64 * 1024;

/// A name that is safe to create in the download directory, whatever the sender wrote.
std::string safe_name(std::string_view given) {
    if (auto slash = given.find_last_of("/\\"); slash != std::string_view::npos) given.remove_prefix(slash + 1);
    std::string s;
    for (unsigned char c : given) {
        if (c < 0x20 || c == 0x7f || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' || c == '|')
            s += '_';
        else
            s += static_cast<char>(c);
    }
    while (!s.empty() && (s.front() == '.' || s.front() == ' ' || s.front() == '-')) s.erase(s.begin());
    while (!s.empty() && (s.back() == ' ' || s.back() == '.')) s.pop_back();
    if (s.size() > kMaxNameBytes) {
        std::size_t cut = kMaxNameBytes;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // a whole UTF-8 sequence
        s.resize(cut);
    }
    if (detail::invalid_utf8_at(s)) {
        for (auto& c : s)
            if (static_cast<unsigned char>(c) >= 0x80) c = '_';
    }
    return s.empty() ? std::string("attachment") : s;
}

/// Saves one attachment into `dir` under a new safe name.
AttachmentOutcome save_one(Client& client, const proto::AttachmentPointer& a, const std::string& dir) {
    AttachmentOutcome out;
    const fs::path name(safe_name(a.file_name.value_or("attachment")));
    const std::string stem = name.stem().string().empty() ? name.string() : name.stem().string();
    const std::string ext = name.stem().string().empty() ? std::string() : name.extension().string();
    for (int k = 0; k < kMaxNameTries; ++k) {
        const std::string file = k == 0 ? name.string() : stem + " (" + std::to_string(k) + ")" + ext;
        const std::string path = (fs::path(dir) / file).string();
        std::error_code ec;
        if (fs::exists(fs::symlink_status(path, ec))) continue;
        auto r = client.download_attachment_to(a, path);
        if (r) {
            out.saved_to = path;
            return out;
        }
        if (r.error().code == Errc::io_error && fs::exists(fs::symlink_status(path, ec))) continue;  // raced
        out.error = r.error().message;
        out.error_code = r.error().code;
        return out;
    }
    out.error = "no free file name for " + name.string() + " in " + dir;
    return out;
}

/// A MIME type from the file name's extension (what desktop would put in contentType).
std::string content_type_for(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::pair<const char*, const char*> kTypes[] = {
        {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".png", "image/png"},   {".gif", "image/gif"},
        {".webp", "image/webp"}, {".mp4", "video/mp4"},  {".mov", "video/quicktime"}, {".mp3", "audio/mpeg"},
        {".aac", "audio/aac"},   {".m4a", "audio/mp4"},  {".ogg", "audio/ogg"},   {".pdf", "application/pdf"},
        {".txt", "text/plain"},  {".log", "text/plain"}, {".json", "application/json"}, {".zip", "application/zip"},
    };
    for (const auto& [e, t] : kTypes)
        if (ext == e) return t;
    return "application/octet-stream";
}

/// One progress line on a terminal for the parallel uploads.
class UploadLine {
public:
    UploadLine(bool enabled, std::size_t files) : enabled_(enabled), done_(files, 0), total_(files, 0) {}
    void update(const AttachmentProgress& p) {
        if (!enabled_ || p.index >= done_.size()) return;
        std::lock_guard lock(m_);
        total_[p.index] = p.total;
        done_[p.index] = p.stage == AttachmentProgress::Stage::encrypting ? p.done / 2
                         : p.stage == AttachmentProgress::Stage::uploaded  ? p.total
                                                                            : total_[p.index] / 2;
        std::uint64_t d = 0, t = 0;
        for (std::size_t i = 0; i < done_.size(); ++i) {
            d += done_[i];
            t += total_[i];
        }
        const unsigned pct = t == 0 ? 0 : static_cast<unsigned>(std::min<std::uint64_t>(100, d * 100 / t));
        std::lock_guard out(output_mutex());
        std::fprintf(stderr, "\r\x1b[Kuploading %zu file(s): %u%%", done_.size(), pct);
        std::fflush(stderr);
        drawn_ = true;
    }
    void clear() {
        std::lock_guard lock(m_);
        if (!drawn_) return;
        std::lock_guard out(output_mutex());
        std::fprintf(stderr, "\r\x1b[K");
        std::fflush(stderr);
        drawn_ = false;
    }

private:
    bool enabled_;
    std::mutex m_;
    std::vector<std::uint64_t> done_, total_;
    bool drawn_ = false;
};

}  // namespace

std::vector<AttachmentOutcome> save_attachments(Client& client, const ReceivedMessage& m, const std::string& dir) {
    std::vector<AttachmentOutcome> out;
    for (const auto& a : m.attachments) {
        out.push_back(save_one(client, a, dir));
        if (out.back().error) report("attachment " + a.file_name.value_or("(no name)") + " not saved: " + *out.back().error);
    }
    return out;
}

int send_with_attachments(const Args& args, const SessionId& to, const MessageSettings& settings) {
    const auto it = args.values.find("attach");
    const std::vector<std::string> paths = it == args.values.end() ? std::vector<std::string>{} : it->second;
    // Every file is checked before a phrase is asked for and before any upload.
    for (const auto& p : paths) {
        std::error_code ec;
        const auto st = fs::status(p, ec);
        if (ec || !fs::exists(st)) return fail({kUsage, "--attach " + p + ": no such file"});
        if (!fs::is_regular_file(st)) return fail({kUsage, "--attach " + p + ": expected a regular file"});
        const auto n = fs::file_size(p, ec);
        if (ec) return fail({kUsage, "--attach " + p + ": " + ec.message()});
        if (n > attachment::kMaxPlaintextBytes)
            return fail({exit_code_for(Errc::attachment_too_large),
                         "--attach " + p + ": " + std::to_string(n) + " bytes; the file server takes at most " +
                             std::to_string(attachment::kMaxPlaintextBytes)});
    }
    std::string caption;
    if (args.positional.size() == 2) {
        caption = args.positional[1];
        if (auto at = detail::invalid_utf8_at(caption))
            return fail({kUsage, "caption is not valid UTF-8 (first bad byte at offset " + std::to_string(*at) + ")"});
    }
    auto self = load_identity(args, StdinUse::free);
    if (!self) return fail(self.error());
    Feedback feedback(args);
    auto client = make_client(args, feedback, std::move(*self), settings.display_name.value_or(""));
    if (!client) return fail(client.error());

    std::vector<AttachmentSource> files;
    for (const auto& p : paths) {
        auto f = AttachmentSource::from_path(p);
        f.content_type = content_type_for(p);
        files.push_back(std::move(f));
    }
    UploadLine line(args.verbosity == Verbosity::normal && ::isatty(STDERR_FILENO) != 0, files.size());
    AttachmentOptions ao;
    ao.progress = [&line](const AttachmentProgress& p) { line.update(p); };
    auto sent = client->send_files(to, files, caption, ao, settings.send_options());
    line.clear();
    if (!sent) {
        if (sent.error().code == Errc::key_invalid) return fail({kUsage, "recipient: " + sent.error().message});
        return fail({exit_code_for(sent.error().code), feedback.describe_failure("send", sent.error())});
    }
    if (args.format == Format::json) {
        ojson o = sent_json(to, *sent);
        o["attachments"] = files.size();
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
    } else {
        emit(sent->hash);
        report("sent " + std::to_string(files.size()) + " attachment(s) to " + to.hex() + ": stored by " +
               std::to_string(sent->confirmed()) + " of " + std::to_string(sent->nodes.size()) + " swarm members");
    }
    return kOk;
}

int cmd_download(const Args& args) {
    std::string text;
    if (!args.positional.empty()) {
        text = args.positional[0];
    } else {
        std::string piece(4096, '\0');
        while (std::cin.read(piece.data(), static_cast<std::streamsize>(piece.size())) || std::cin.gcount() > 0) {
            text.append(piece.data(), static_cast<std::size_t>(std::cin.gcount()));
            if (text.size() > kMaxAttachmentJsonBytes) return fail({kUsage, "download: the attachment JSON is too large"});
        }
    }
    if (text.size() > kMaxAttachmentJsonBytes) return fail({kUsage, "download: the attachment JSON is too large"});
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail({kUsage, "download: expected one attachment as a JSON object ({\"url\", \"key\", …})"});
    proto::AttachmentPointer a;
    auto str = [&](const char* k) -> std::optional<std::string> {
        auto f = j.find(k);
        if (f == j.end() || !f->is_string()) return std::nullopt;
        return f->get<std::string>();
    };
    a.url = str("url");
    if (!a.url) return fail({kUsage, "download: \"url\": expected a string"});
    auto key_hex = str("key");
    if (!key_hex) return fail({kUsage, "download: \"key\": expected hex"});
    auto key = from_hex(*key_hex);
    if (!key) return fail({kUsage, "download: \"key\": expected hex"});
    a.key = std::move(*key);
    if (auto d = str("digest")) {
        auto digest = from_hex(*d);
        if (!digest) return fail({kUsage, "download: \"digest\": expected hex or null"});
        a.digest = std::move(*digest);
    }
    if (auto s = j.find("size"); s != j.end()) {
        if (!s->is_number_unsigned() || s->get<std::uint64_t>() > attachment::kMaxPlaintextBytes)
            return fail({kUsage, "download: \"size\": expected 0 … " + std::to_string(attachment::kMaxPlaintextBytes)});
        a.size = s->get<std::uint32_t>();
    }
    a.file_name = str("file_name");
    a.content_type = str("content_type");
    const std::string dir = args.get("download") ? *args.get("download") : std::string(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return fail({kUsage, "--download " + dir + ": not a directory"});

    auto self = load_identity(args, StdinUse::free);
    if (!self) return fail(self.error());
    Feedback feedback(args);
    auto client = make_client(args, feedback, std::move(*self));
    if (!client) return fail(client.error());
    auto outcome = [&] {
        auto waiting = feedback.wait("downloading", &client->network());
        return save_one(*client, a, dir);
    }();
    if (args.format == Format::json) {
        auto o = ojson::parse(attachments_json({a}, {outcome}))[0];
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
    } else if (outcome.saved_to) {
        emit(*outcome.saved_to);
    }
    if (outcome.error) {
        report("download: " + *outcome.error);
        return outcome.error_code ? exit_code_for(*outcome.error_code) : kLocal;
    }
    return kOk;
}

}  // namespace session::cli
