// attachments_client.cpp: the Client's attachments and profile picture (see attachments_client.hpp).
#include "detail/attachments_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>

#include "detail/file_read.hpp"
#include "detail/json_limited.hpp"
#include "detail/onion_wire.hpp"

namespace session::detail {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// "scheme://host[:port]" of a configured URL, as DownloadUrl::base_url() spells it.
Result<attachment::DownloadUrl> parse_base(const std::string& base) {
    // A base URL is a download URL without the file: borrow the parser with a dummy id.
    auto u = attachment::parse_download_url(base + "/file/x");
    if (!u) return unexpected(Errc::net_config, "client: file server url \"" + base + "\": " + u.error().message);
    return u;
}

std::string sys_error(const std::string& what, const std::string& path) {
    return "client: " + what + " " + path + ": " + std::strerror(errno);
}

bool valid_file_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
               return std::isalnum(c) || c == '-' || c == '_';
           });
}

void report(const ProgressFn& p, std::size_t index, std::uint64_t done, std::uint64_t total, AttachmentProgress::Stage s) {
    if (!p) return;
    try {
        p(AttachmentProgress{index, done, total, s});
    } catch (...) {
        // A progress callback must not break the transfer.
    }
}

/// One pass over a source's bytes, in pieces.
using Sink = std::function<Result<void>(ByteView piece)>;

/// A source: its size (known before any reading) and a way to read it once or twice.
struct Source {
    std::uint64_t size = 0;
    std::function<Result<void>(const Sink&)> read;
};

Result<Source> open_source(const AttachmentSource& f) {
    const int given = (f.path.empty() ? 0 : 1) + (f.data ? 1 : 0) + (f.stream ? 1 : 0);
    if (given != 1)
        return unexpected(Errc::invalid_argument, "client: attachment: expected exactly one of path, data, stream; got " +
                                                      std::to_string(given));
    auto too_large = [](std::uint64_t n, const std::string& what) {
        return unexpected(Errc::attachment_too_large, "client: attachment " + what + ": " + std::to_string(n) +
                                                          " bytes, expected at most " +
                                                          std::to_string(attachment::kMaxPlaintextBytes));
    };
    if (f.data) {
        if (f.data->size() > attachment::kMaxPlaintextBytes) return too_large(f.data->size(), "(bytes)");
        const Bytes* d = &*f.data;
        return Source{d->size(), [d](const Sink& sink) -> Result<void> {
                          for (std::size_t off = 0; off < d->size(); off += kFilePieceBytes) {
                              auto ok = sink(ByteView(*d).subspan(off, std::min(kFilePieceBytes, d->size() - off)));
                              if (!ok) return ok;
                          }
                          return {};
                      }};
    }
    if (!f.path.empty()) {
        std::error_code ec;
        const auto st = fs::status(f.path, ec);
        if (ec || !fs::exists(st))
            return unexpected(Errc::io_error, "client: attachment " + f.path + ": cannot read: " +
                                                  (ec ? ec.message() : std::string("no such file")));
        if (!fs::is_regular_file(st))
            return unexpected(Errc::invalid_argument, "client: attachment " + f.path + ": expected a regular file");
        const std::uint64_t n = fs::file_size(f.path, ec);
        if (ec) return unexpected(Errc::io_error, "client: attachment " + f.path + ": " + ec.message());
        if (n > attachment::kMaxPlaintextBytes) return too_large(n, f.path);
        const std::string path = f.path;
        return Source{n, [path, n](const Sink& sink) -> Result<void> {
                          auto in = InputFile::open(path, ReadRules{attachment::kMaxPlaintextBytes, false}, "attachment");
                          if (!in) return unexpected(in.error());
                          std::optional<Error> failed;
                          std::uint64_t got = 0;
                          auto r = in->read_all([&](std::string_view chunk) {
                              if (failed) return;
                              got += chunk.size();
                              auto ok = sink(as_bytes(chunk));
                              if (!ok) failed = ok.error();
                          });
                          if (failed) return unexpected(*failed);
                          if (!r) return r;
                          if (got != n)
                              return unexpected(Errc::io_error, "client: attachment " + path + ": changed while read (" +
                                                                    std::to_string(n) + " bytes, then " +
                                                                    std::to_string(got) + ")");
                          return {};
                      }};
    }
    // A stream: its size from seeking, else read it whole (bounded).
    std::istream& is = *f.stream;
    auto stream = f.stream;
    const auto start = is.tellg();
    bool seekable = start != std::streampos(-1) && static_cast<bool>(is.seekg(0, std::ios::end));
    std::uint64_t n = 0;
    if (seekable) {
        const auto end = is.tellg();
        seekable = end != std::streampos(-1) && static_cast<bool>(is.seekg(start));
        if (seekable) n = static_cast<std::uint64_t>(end - start);
    }
    if (!seekable) {
        is.clear();
        auto buf = std::make_shared<Bytes>();
        std::vector<char> piece(kFilePieceBytes);
        while (is) {
            is.read(piece.data(), static_cast<std::streamsize>(piece.size()));
            const auto got = static_cast<std::size_t>(is.gcount());
            if (buf->size() + got > attachment::kMaxPlaintextBytes) return too_large(buf->size() + got, "(stream)");
            buf->insert(buf->end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(got));
        }
        if (is.bad()) return unexpected(Errc::io_error, "client: attachment (stream): read failed");
        return Source{buf->size(), [buf](const Sink& sink) -> Result<void> {
                          for (std::size_t off = 0; off < buf->size(); off += kFilePieceBytes) {
                              auto ok = sink(ByteView(*buf).subspan(off, std::min(kFilePieceBytes, buf->size() - off)));
                              if (!ok) return ok;
                          }
                          return {};
                      }};
    }
    if (n > attachment::kMaxPlaintextBytes) return too_large(n, "(stream)");
    return Source{n, [stream, start, n](const Sink& sink) -> Result<void> {
                      std::istream& s = *stream;
                      s.clear();
                      if (!s.seekg(start)) return unexpected(Errc::io_error, "client: attachment (stream): cannot rewind");
                      std::vector<char> piece(kFilePieceBytes);
                      std::uint64_t left = n;
                      while (left > 0) {
                          const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(left, piece.size()));
                          s.read(piece.data(), want);
                          if (s.gcount() != want)
                              return unexpected(Errc::io_error, "client: attachment (stream): ended early");
                          auto ok = sink(ByteView(reinterpret_cast<const std::uint8_t*>(piece.data()),
                                                  static_cast<std::size_t>(want)));
                          if (!ok) return ok;
                          left -= static_cast<std::uint64_t>(want);
                      }
                      return {};
                  }};
}

Secret<32> seed_of(const Identity& self) {
    return Secret<32>(self.ed25519_secret().reveal().first<32>());
}

struct Blob {
    Bytes bytes;
    attachment::Sealed sealed;
};

/// Encrypts a source into one blob (the file is never held whole beside it).
Result<Blob> encrypt(const Source& src, attachment::Scheme scheme, attachment::Domain domain, const Identity& self,
                     Rng& rng, const Secret<32>* gcm_key, const ProgressFn& progress, std::size_t index) {
    std::optional<attachment::Encryptor> enc;
    if (scheme == attachment::Scheme::stream) {
        attachment::StreamKeyHasher hasher(seed_of(self), domain);
        auto hashed = src.read([&](ByteView piece) -> Result<void> {
            hasher.update(piece);
            return {};
        });
        if (!hashed) return unexpected(hashed.error());
        auto key = hasher.finish();
        auto e = attachment::Encryptor::stream(key, src.size);
        if (!e) return unexpected(e.error());
        enc.emplace(std::move(*e));
    } else if (scheme == attachment::Scheme::gcm) {
        auto e = attachment::Encryptor::gcm(*gcm_key, src.size, rng);
        if (!e) return unexpected(e.error());
        enc.emplace(std::move(*e));
    } else {
        auto e = attachment::Encryptor::cbc_hmac(src.size, rng);
        if (!e) return unexpected(e.error());
        enc.emplace(std::move(*e));
    }
    Blob out;
    // Room after the blob for the v4 framing and the onion layers, which are added in this buffer.
    out.bytes.reserve(static_cast<std::size_t>(enc->blob_size()) + onion_wire::kOnionRoomBytes);
    std::uint64_t done = 0;
    auto ok = src.read([&](ByteView piece) -> Result<void> {
        auto u = enc->update(piece, out.bytes);
        if (!u) return u;
        done += piece.size();
        report(progress, index, done, src.size, AttachmentProgress::Stage::encrypting);
        return {};
    });
    if (!ok) return unexpected(ok.error());
    auto sealed = enc->finish(out.bytes);
    if (!sealed) return unexpected(sealed.error());
    out.sealed = std::move(*sealed);
    return out;
}

/// POST /file with the blob (consumed: the request is built in its buffer); the file id (and
/// expiry) from the answer.
Result<UploadReply> post_file(network::Network& net, const network::HttpServer& server, Bytes&& blob) {
    network::ServerRequest req;
    req.server = server;
    req.method = "POST";
    req.endpoint = "/file";
    req.headers = {{"Content-Type", "application/octet-stream"}, {"Content-Disposition", "attachment"}};
    auto reply = net.server_request(req, std::move(blob));
    if (!reply) return unexpected(reply.error());
    return parse_upload_reply(*reply);
}

std::string quote_body(ByteView body) {
    std::string s = to_string(body.first(std::min<std::size_t>(body.size(), 120)));
    for (auto& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return "\"" + s + (body.size() > 120 ? "…\"" : "\"");
}

/// GET a file: its blob, or why not.
Result<network::ServerReply> get_file(network::Network& net, const network::HttpServer& server,
                                      const attachment::DownloadUrl& url) {
    network::ServerRequest req;
    req.server = server;
    req.method = "GET";
    req.endpoint = url.endpoint();
    auto reply = net.server_request(req);
    if (!reply) return unexpected(reply.error());
    if (reply->status == 404)
        return unexpected(Errc::attachment_not_found, "client: download " + url.base_url() + url.endpoint() +
                                                          ": the file server has no such file (404: expired or never uploaded)");
    if (reply->status != 200)
        return unexpected(Errc::net_http_status, "client: download " + url.base_url() + url.endpoint() +
                                                     ": the file server answered " + std::to_string(reply->status) + ": " +
                                                     quote_body(reply->body));
    if (reply->body.size() > attachment::kMaxBlobBytes)
        return unexpected(Errc::attachment_too_large, "client: download " + url.base_url() + url.endpoint() + ": " +
                                                          std::to_string(reply->body.size()) +
                                                          " bytes, expected at most " +
                                                          std::to_string(attachment::kMaxBlobBytes));
    return reply;
}

/// Removes a temp file unless released.
struct TempFile {
    std::string path;
    int fd = -1;
    bool keep = false;
    ~TempFile() {
        if (fd >= 0) ::close(fd);
        if (!keep && !path.empty()) ::unlink(path.c_str());
    }
};

}  // namespace

// ---- servers ---------------------------------------------------------------------------------

Result<network::HttpServer> upload_server(const std::optional<network::FileServerConfig>& known) {
    if (!known)
        return unexpected(Errc::attachment_unknown_server,
                          "client: upload: this network has no file server (a network file needs \"file_server\")");
    auto base = parse_base(known->url);
    if (!base) return unexpected(base.error());
    network::HttpServer s;
    s.host = base->host;
    s.protocol = base->scheme;
    s.port = base->port;
    s.x25519 = known->x25519;
    return s;
}

Result<network::HttpServer> server_for_url(const attachment::DownloadUrl& url,
                                           const std::optional<network::FileServerConfig>& known) {
    if (known) {
        auto base = parse_base(known->url);
        if (base && base->scheme == url.scheme && base->host == url.host && base->port == url.port) {
            network::HttpServer s;
            s.host = url.host;
            s.protocol = url.scheme;
            s.port = url.port;
            s.x25519 = known->x25519;
            if (url.server_pubkey) {
                const auto& p = *url.server_pubkey;
                bool ours = p == known->x25519.bytes || (known->ed25519 && p == known->ed25519->bytes);
                for (const auto& k : known->other_x25519) {
                    if (p == k.bytes) {
                        ours = true;
                        s.x25519 = k;
                    }
                }
                if (!ours)
                    return unexpected(Errc::attachment_unknown_server,
                                      "client: download: " + url.base_url() + " with key " + to_hex(p).substr(0, 16) +
                                          "…: not a key of this network's file server");
            }
            return s;
        }
    }
    if (url.server_pubkey) {
        network::HttpServer s;
        s.host = url.host;
        s.protocol = url.scheme;
        s.port = url.port;
        s.x25519.bytes = *url.server_pubkey;
        return s;
    }
    return unexpected(Errc::attachment_unknown_server,
                      "client: download: " + url.base_url() + ": not this network's file server" +
                          (known ? " (" + known->url + ")" : std::string(" (none configured)")) +
                          ", and the URL names no key (#p=)");
}

Result<UploadReply> parse_upload_reply(const network::ServerReply& reply) {
    if (reply.status == 413)
        return unexpected(Errc::attachment_too_large, "client: upload: the file server refused the size (413)");
    if (reply.status != 200)
        return unexpected(Errc::net_http_status, "client: upload: the file server answered " +
                                                     std::to_string(reply.status) + ": " + quote_body(reply.body));
    if (reply.body.size() > 64 * 1024)
        return unexpected(Errc::net_bad_response, "client: upload: the file server's answer is " +
                                                      std::to_string(reply.body.size()) + " bytes, expected a small JSON");
    auto j = parse_limited_or_none(to_string(reply.body));
    if (!j || !j->is_object())
        return unexpected(Errc::net_bad_response,
                          "client: upload: the file server's answer is not a JSON object: " + quote_body(reply.body));
    UploadReply out;
    auto id = j->find("id");
    if (id != j->end() && id->is_number_unsigned()) out.id = std::to_string(id->get<std::uint64_t>());  // legacy ids
    else if (id != j->end() && id->is_string()) out.id = id->get<std::string>();
    if (!valid_file_id(out.id))
        return unexpected(Errc::net_bad_response,
                          "client: upload: the file server's answer has no valid \"id\": " + quote_body(reply.body));
    if (auto e = j->find("expires"); e != j->end() && e->is_number()) {
        const double s = e->get<double>();
        if (s > 0 && s < 1e12) out.expires_ms = static_cast<std::int64_t>(s * 1000.0);
    }
    return out;
}

// ---- Attachments -----------------------------------------------------------------------------

Attachments::Attachments(const Identity& self, std::shared_ptr<network::Network> net, std::shared_ptr<Rng> rng,
                         network::LogFn log)
        : self_(self), net_(std::move(net)), rng_(std::move(rng)), log_(std::move(log)) {}

void Attachments::say(network::LogLevel level, const std::string& line) const {
    if (log_) log_(level, line);
}

Result<proto::AttachmentPointer> Attachments::upload(const AttachmentSource& file, const AttachmentOptions& options,
                                                     std::size_t index) const {
    if (options.scheme == attachment::Scheme::gcm)
        return unexpected(Errc::invalid_argument, "client: attachment: scheme gcm is for profile pictures only");
    auto src = open_source(file);
    if (!src) return unexpected(src.error());
    auto server = upload_server(net_->config().file_server);
    if (!server) return unexpected(server.error());
    auto blob = encrypt(*src, options.scheme, attachment::Domain::attachment, self_, *rng_, nullptr, options.progress,
                        index);
    if (!blob) return unexpected(blob.error());
    const std::size_t blob_size = blob->bytes.size();
    report(options.progress, index, 0, blob_size, AttachmentProgress::Stage::uploading);
    auto up = post_file(*net_, *server, std::move(blob->bytes));
    if (!up) return unexpected(up.error());
    report(options.progress, index, blob_size, blob_size, AttachmentProgress::Stage::uploaded);

    proto::AttachmentPointer p;
    p.id = 0;
    p.content_type = file.content_type.empty() ? std::string("application/octet-stream") : file.content_type;
    const ByteView key = blob->sealed.key.bytes();
    p.key = Bytes(key.begin(), key.end());
    p.size = static_cast<std::uint32_t>(blob->sealed.size);
    if (blob->sealed.digest) p.digest = Bytes(blob->sealed.digest->begin(), blob->sealed.digest->end());
    std::string name = file.file_name;
    if (name.empty() && !file.path.empty()) name = fs::path(file.path).filename().string();
    if (!name.empty()) p.file_name = name;
    if (file.voice_note) p.flags = proto::AttachmentPointer::kFlagVoiceMessage;
    p.width = file.width;
    p.height = file.height;
    p.url = attachment::download_url(net_->config().file_server->url, up->id, std::nullopt,
                                     options.scheme == attachment::Scheme::stream);
    say(network::LogLevel::debug, "client: uploaded " + std::to_string(blob_size) + " bytes as " + *p.url);
    return p;
}

Result<std::vector<proto::AttachmentPointer>> Attachments::upload_all(const std::vector<AttachmentSource>& files,
                                                                      const AttachmentOptions& options,
                                                                      Executor& executor) const {
    // Every size (and readability) before the first upload.
    for (const auto& f : files) {
        if (f.stream) continue;  // read once, by its upload
        auto s = open_source(f);
        if (!s) return unexpected(s.error());
    }
    std::vector<std::optional<Result<proto::AttachmentPointer>>> slots(files.size());
    parallel_for(
        executor, files.size(), [&](std::size_t i) { slots[i].emplace(upload(files[i], options, i)); },
        std::max<std::size_t>(1, options.parallel_uploads));
    std::vector<proto::AttachmentPointer> out;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        auto& r = *slots[i];
        if (!r) {
            auto e = r.error();
            e.message += " (file " + std::to_string(i + 1) + " of " + std::to_string(files.size()) + ")";
            return unexpected(std::move(e));
        }
        out.push_back(std::move(*r));
    }
    return out;
}

struct Attachments::Fetched {
    network::ServerReply reply;
    attachment::Scheme scheme;
    std::string name;  // for messages
};

Result<Attachments::Fetched> Attachments::fetch(const proto::AttachmentPointer& p, const ProgressFn& progress) const {
    if (!p.url || p.url->empty()) return unexpected(Errc::attachment_bad_url, "client: download: the pointer has no url");
    auto url = attachment::parse_download_url(*p.url);
    if (!url) return unexpected(url.error());
    auto server = server_for_url(*url, net_->config().file_server);
    if (!server) return unexpected(server.error());
    const std::size_t key_size = p.key ? p.key->size() : 0;
    attachment::Scheme scheme = url->deterministic || key_size == attachment::kStreamKeyBytes
                                    ? attachment::Scheme::stream
                                    : attachment::Scheme::cbc_hmac;
    const std::size_t want = scheme == attachment::Scheme::stream ? attachment::kStreamKeyBytes : attachment::kCbcKeyBytes;
    if (key_size != want)
        return unexpected(Errc::attachment_bad_key, "client: download: key: expected " + std::to_string(want) +
                                                        " bytes for " + std::string(attachment::to_string(scheme)) +
                                                        ", got " + std::to_string(key_size));
    if (scheme == attachment::Scheme::cbc_hmac && (!p.digest || p.digest->empty()))
        return unexpected(Errc::attachment_missing_digest, "client: download: the pointer has no digest (refused, as desktop does)");
    report(progress, 0, 0, 0, AttachmentProgress::Stage::downloading);
    auto reply = get_file(*net_, *server, *url);
    if (!reply) return unexpected(reply.error());
    report(progress, 0, reply->body.size(), reply->body.size(), AttachmentProgress::Stage::downloading);
    return Fetched{std::move(*reply), scheme, url->base_url() + url->endpoint()};
}

namespace {
attachment::DecryptParams params_of(const proto::AttachmentPointer& p, attachment::Scheme scheme) {
    attachment::DecryptParams d;
    d.scheme = scheme;
    d.key = ByteView(*p.key);
    if (p.digest) d.digest = ByteView(*p.digest);
    if (p.size) d.size = *p.size;
    return d;
}
Error in_download(Error e, const std::string& name) {
    e.message = "client: download " + name + ": " + e.message;
    return e;
}
}  // namespace

Result<Bytes> Attachments::download(const proto::AttachmentPointer& p, const ProgressFn& progress) const {
    auto got = fetch(p, progress);
    if (!got) return unexpected(got.error());
    auto plain = attachment::decrypt(params_of(p, got->scheme), got->reply.body);
    if (!plain) return unexpected(in_download(plain.error(), got->name));
    report(progress, 0, plain->size(), plain->size(), AttachmentProgress::Stage::done);
    return plain;
}

Result<DownloadResult> Attachments::download_to(const proto::AttachmentPointer& p, const std::string& path,
                                                const ProgressFn& progress) const {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec)))
        return unexpected(Errc::io_error, "client: download: " + path + " exists (not overwritten)");
    auto got = fetch(p, progress);
    if (!got) return unexpected(got.error());
    const Bytes& blob = got->reply.body;
    auto dec = attachment::Decryptor::create(params_of(p, got->scheme), blob.size());
    if (!dec) return unexpected(in_download(dec.error(), got->name));

    // Decrypt into a temp file beside the target; it becomes the target only once verified.
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    TempFile tmp;
    std::string templ = (dir / ("." + target.filename().string() + ".part-XXXXXX")).string();
    tmp.fd = ::mkstemp(templ.data());
    if (tmp.fd < 0) return unexpected(Errc::io_error, sys_error("download: cannot create a temporary file in", dir.string()));
    tmp.path = templ;
    Bytes out;
    out.reserve(kFilePieceBytes + attachment::kStreamChunkBytes);
    std::uint64_t written = 0;
    auto flush = [&]() -> Result<void> {
        std::size_t off = 0;
        while (off < out.size()) {
            const ssize_t w = ::write(tmp.fd, out.data() + off, out.size() - off);
            if (w < 0) {
                if (errno == EINTR) continue;
                return unexpected(Errc::io_error, sys_error("download: cannot write", tmp.path));
            }
            off += static_cast<std::size_t>(w);
        }
        written += out.size();
        out.clear();
        return {};
    };
    // The streaming Decryptor decrypts cbc_hmac before its MAC is checked at the end, so a wrong
    // key shows as bad padding first. On a failure, the whole-blob check names the real cause
    // (MAC, then digest); only then, so a good download never holds a second copy.
    const auto failed = [&](const Error& e) {
        if (got->scheme == attachment::Scheme::cbc_hmac)
            if (auto precise = attachment::decrypt(params_of(p, got->scheme), blob); !precise)
                return unexpected(in_download(precise.error(), got->name));
        return unexpected(in_download(e, got->name));
    };
    for (std::size_t off = 0; off < blob.size(); off += kFilePieceBytes) {
        auto u = dec->update(ByteView(blob).subspan(off, std::min(kFilePieceBytes, blob.size() - off)), out);
        if (!u) return failed(u.error());
        if (auto f = flush(); !f) return unexpected(f.error());
        report(progress, 0, off, blob.size(), AttachmentProgress::Stage::decrypting);
    }
    auto fin = dec->finish(out);
    if (!fin) return failed(fin.error());
    if (auto f = flush(); !f) return unexpected(f.error());
    if (::fsync(tmp.fd) != 0) return unexpected(Errc::io_error, sys_error("download: cannot sync", tmp.path));
    ::close(tmp.fd);
    tmp.fd = -1;
    // link() never replaces an existing file (a race with another writer is an error, not a loss).
    if (::link(tmp.path.c_str(), path.c_str()) != 0)
        return unexpected(Errc::io_error, sys_error("download: cannot create", path) + " (not overwritten)");
    report(progress, 0, written, written, AttachmentProgress::Stage::done);
    return DownloadResult{written, path};
}

Result<Bytes> Attachments::download_avatar(std::string_view url_text, ByteView profile_key) const {
    auto url = attachment::parse_download_url(url_text);
    if (!url) return unexpected(url.error());
    auto server = server_for_url(*url, net_->config().file_server);
    if (!server) return unexpected(server.error());
    auto reply = get_file(*net_, *server, *url);
    if (!reply) return unexpected(reply.error());
    attachment::DecryptParams d;
    d.scheme = url->deterministic ? attachment::Scheme::stream : attachment::Scheme::gcm;
    d.key = url->encryption_key ? ByteView(*url->encryption_key) : profile_key;
    auto plain = attachment::decrypt(d, reply->body);
    if (!plain) return unexpected(in_download(plain.error(), url->base_url() + url->endpoint()));
    return plain;
}

// ---- the avatar ------------------------------------------------------------------------------

void Attachments::set_avatar(std::string path, std::optional<Bytes> bytes) {
    has_avatar_ = !path.empty() || bytes.has_value();
    avatar_path_ = std::move(path);
    avatar_bytes_ = std::move(bytes);
}

Result<Attachments::AvatarRef> Attachments::avatar() {
    std::lock_guard lock(avatar_mu_);
    const std::int64_t now = net_->now_ms();
    if (avatar_ && now < avatar_refresh_at_ms_) return *avatar_;
    AttachmentSource f;
    if (avatar_bytes_) f.data = *avatar_bytes_;
    else f.path = avatar_path_;
    auto src = open_source(f);
    if (!src) return unexpected(src.error());
    auto server = upload_server(net_->config().file_server);
    if (!server) return unexpected(server.error());
    if (!profile_key_) {
        ByteArray<32> k{};
        rng_->fill(k);
        profile_key_.emplace(std::span<const std::uint8_t, 32>(k));
        session::detail::wipe(k.data(), k.size());
    }
    auto blob = encrypt(*src, attachment::Scheme::gcm, attachment::Domain::profile_picture, self_, *rng_, &*profile_key_,
                        {}, 0);
    if (!blob) return unexpected(blob.error());
    auto up = post_file(*net_, *server, std::move(blob->bytes));
    if (!up) return unexpected(up.error());
    const auto key = profile_key_->reveal();
    avatar_ = AvatarRef{attachment::download_url(net_->config().file_server->url, up->id, std::nullopt, false),
                        Bytes(key.begin(), key.end())};
    // Re-upload a day before the server's expiry (3 weeks on the real server); without an expiry
    // in the answer, after 13 days.
    const std::int64_t expires = up->expires_ms.value_or(now + 14LL * 24 * 60 * 60 * 1000);
    avatar_refresh_at_ms_ = std::max(now + 60'000, expires - kAvatarRefreshMarginMs);
    say(network::LogLevel::info, "client: profile picture uploaded as " + avatar_->url);
    return *avatar_;
}

}  // namespace session::detail
