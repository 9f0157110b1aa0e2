// file_server.cpp: the local network's Session file server (protocol.md §6; session-file-server
// fileserver/routes.py and onion_req.py), on 127.0.0.1 over plain HTTP:
//
//   POST /file              raw body; Content-Disposition filename and X-FS-TTL optional
//                           → {"id": <44 chars>, "uploaded": s, "expires": s}
//   GET  /file/<id>         → the bytes (application/octet-stream)
//   GET  /file/<id>/info    → {"size", "uploaded", "expires"}
//   POST /file/<id>/extend  X-FS-TTL optional → {"size", "uploaded", "expires"}
//   POST /files             legacy {"file": <base64>} → {"result": <id>, "status_code": 200}
//   GET  /files/<id>        legacy → {"status_code": 200, "result": <base64>}
//   POST /oxen/v4/lsrpc     an onion request's last layer (len32 || blob || trailer JSON) as a node
//                           forwards it: decrypt with the server's X25519 key (aes-gcm or xchacha20,
//                           as the trailer says), run the v4 subrequest, answer its encryption
//   POST /loki/v3/lsrpc, /oxen/v3/lsrpc   the same for the deprecated JSON v3 requests
//
// Ids are content-derived: URL-safe base64 of BLAKE2b-33(body; salt = "SessionFileSvr\0\0"), so a
// re-upload of the same bytes refreshes the stored file's upload time and expiry. Errors are JSON
// {"status_code": N} with HTTP status N, as the real server answers. Times ("uploaded", "expires")
// are seconds since the epoch as floats, as desktop reads them. Every byte a client sends is
// hostile: bodies are capped per endpoint before they are read, JSON depth is checked before parsing.
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "localnet/internal.hpp"
#include "detail/onion_node.hpp"
#include "session/onion.hpp"

namespace session::localnet {

using detail::json;

namespace {

using FileRequest = Network::Impl::FileRequest;
using FileResponse = Network::Impl::FileResponse;

constexpr std::size_t kFileIdHashBytes = 33;  // 44 base64 characters, no padding
constexpr unsigned char kFileIdSalt[crypto_generichash_blake2b_SALTBYTES] = {'S', 'e', 's', 's', 'i', 'o', 'n', 'F',
                                                                             'i', 'l', 'e', 'S', 'v', 'r', 0,   0};
constexpr std::size_t kMaxIdChars = 64;
constexpr std::size_t kMaxFilenameBytes = 255;
constexpr std::size_t kSmallBodyBytes = 64 * 1024;  // endpoints that take no real body (extend, GET)
constexpr std::size_t kTtlDigits = 10;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

const std::string* header(const FileRequest& req, std::string_view name) {
    for (const auto& [n, v] : req.headers)
        if (lower(n) == name) return &v;
    return nullptr;
}

FileResponse json_reply(int status, const json& j) {
    return FileResponse{status, {{"content-type", "application/json"}}, detail::dump(j)};
}
FileResponse error_reply(int status) { return json_reply(status, json{{"status_code", status}}); }

double seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

bool valid_id(std::string_view id) {
    return !id.empty() && id.size() <= kMaxIdChars && std::all_of(id.begin(), id.end(), [](unsigned char c) {
               return std::isalnum(c) || c == '-' || c == '_';
           });
}

std::string file_id(ByteView data) {
    ByteArray<kFileIdHashBytes> h{};
    crypto_generichash_blake2b_salt_personal(h.data(), h.size(), data.data(), data.size(), nullptr, 0, kFileIdSalt,
                                             nullptr);
    std::string id = base64_encode(h);
    for (auto& c : id) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    return id;
}


// X-FS-TTL: whole seconds ≥ 1; more than the server's expiry is cut to it. nullopt: malformed.
std::optional<std::int64_t> ttl_ms(const FileRequest& req, std::int64_t default_ms) {
    const std::string* v = header(req, "x-fs-ttl");
    if (!v) return default_ms;
    if (v->empty() || v->size() > kTtlDigits || !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    const std::int64_t s = std::stoll(*v);
    if (s < 1) return std::nullopt;
    return std::min(s * 1000, default_ms);
}

// The file name of `Content-Disposition: attachment; filename="…"` (or filename=token), without
// control characters, at most 255 bytes; empty when there is none.
std::string disposition_filename(const FileRequest& req) {
    const std::string* v = header(req, "content-disposition");
    if (!v) return {};
    const std::string l = lower(*v);
    std::size_t at = l.find("filename=");
    while (at != std::string::npos && at > 0 && l[at - 1] == '*') at = l.find("filename=", at + 1);
    if (at == std::string::npos) return {};
    std::size_t i = at + 9;
    std::string name;
    if (i < v->size() && (*v)[i] == '"') {
        for (++i; i < v->size() && (*v)[i] != '"'; ++i) {
            if ((*v)[i] == '\\' && i + 1 < v->size()) ++i;
            name.push_back((*v)[i]);
        }
    } else {
        for (; i < v->size() && (*v)[i] != ';'; ++i) name.push_back((*v)[i]);
    }
    std::string clean;
    for (unsigned char c : name)
        if (c >= 0x20 && c != 0x7f && clean.size() < kMaxFilenameBytes) clean.push_back(static_cast<char>(c));
    return clean;
}

// RFC 5987 encoding for a content-disposition filename*.
std::string percent_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

// Which endpoint a path is, and its id.
enum class Route { upload, download, info, extend, legacy_upload, legacy_download, onion_v4, onion_v3, unknown };
struct Routed {
    Route route = Route::unknown;
    std::string id;
    const char* method = "";  // the one method the route accepts
};
Routed route_of(std::string_view path) {
    if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    if (path == "/file") return {Route::upload, {}, "POST"};
    if (path == "/files") return {Route::legacy_upload, {}, "POST"};
    if (path == "/oxen/v4/lsrpc") return {Route::onion_v4, {}, "POST"};
    if (path == "/loki/v3/lsrpc" || path == "/oxen/v3/lsrpc") return {Route::onion_v3, {}, "POST"};
    if (path.starts_with("/files/")) return {Route::legacy_download, std::string(path.substr(7)), "GET"};
    if (path.starts_with("/file/")) {
        std::string_view rest = path.substr(6);
        if (rest.ends_with("/info")) return {Route::info, std::string(rest.substr(0, rest.size() - 5)), "GET"};
        if (rest.ends_with("/extend")) return {Route::extend, std::string(rest.substr(0, rest.size() - 7)), "POST"};
        return {Route::download, std::string(rest), "GET"};
    }
    return {};
}

}  // namespace

// ---- the API ---------------------------------------------------------------------------------

Network::Impl::FileResponse Network::Impl::handle_file_request(const FileRequest& req) {
    detail::FileServer& fs = *files;
    const std::int64_t now = base_now();
    const std::int64_t expiry_ms = std::chrono::duration_cast<std::chrono::milliseconds>(opt.file_expiry).count();
    const Routed r = route_of(req.path);
    auto counted = [&](FileResponse res) {
        fs.count([&](FileServerCounters& c) {
            if (res.status == 404) ++c.not_found;
            else if (res.status >= 400 && res.status < 500) ++c.rejected;
        });
        return res;
    };
    if (r.route == Route::unknown) return counted(error_reply(404));
    if (req.method != r.method) return counted(error_reply(405));
    const bool has_id = r.route == Route::download || r.route == Route::info || r.route == Route::extend ||
                        r.route == Route::legacy_download;
    if (has_id && !valid_id(r.id)) return counted(error_reply(404));

    auto store = [&](ByteView body, bool legacy) -> FileResponse {
        if (body.empty() || body.size() > fs.max_upload_bytes) return counted(error_reply(413));
        auto ttl = ttl_ms(req, expiry_ms);
        if (!ttl) return counted(error_reply(400));
        const std::string id = file_id(body);
        const detail::FileMeta meta = fs.store->put(id, body, disposition_filename(req), now, now + *ttl);
        fs.count([](FileServerCounters& c) { ++c.uploads; });
        if (legacy) return json_reply(200, json{{"result", id}, {"status_code", 200}});
        return json_reply(200, json{{"id", id}, {"uploaded", seconds(meta.uploaded)}, {"expires", seconds(meta.expiry)}});
    };

    switch (r.route) {
        case Route::upload:
            return store(as_bytes(req.body), false);
        case Route::legacy_upload: {
            const json j = detail::parse_json(req.body).value_or(json());
            if (!j.is_object() || !j.contains("file") || !j["file"].is_string())
                return counted(error_reply(400));
            auto data = base64_decode(j["file"].get_ref<const std::string&>());
            if (!data) return counted(error_reply(400));
            return store(*data, true);
        }
        case Route::download:
        case Route::legacy_download: {
            auto file = fs.store->get(r.id, now);
            if (!file) return counted(error_reply(404));
            fs.count([](FileServerCounters& c) { ++c.downloads; });
            if (r.route == Route::legacy_download)
                return json_reply(200, json{{"status_code", 200}, {"result", base64_encode(file->data)}});
            FileResponse res{200, {{"content-type", "application/octet-stream"}}, to_string(file->data)};
            if (!file->filename.empty())
                res.headers.emplace_back("content-disposition",
                                         "attachment; filename*=UTF-8''" + percent_encode(file->filename));
            return res;
        }
        case Route::info: {
            auto meta = fs.store->info(r.id, now);
            if (!meta) return counted(error_reply(404));
            return json_reply(200, json{{"size", meta->size}, {"uploaded", seconds(meta->uploaded)}, {"expires", seconds(meta->expiry)}});
        }
        case Route::extend: {
            auto ttl = ttl_ms(req, expiry_ms);
            if (!ttl) return counted(error_reply(400));
            auto meta = fs.store->extend(r.id, now, now + *ttl);
            if (!meta) return counted(error_reply(404));
            return json_reply(200, json{{"size", meta->size}, {"uploaded", seconds(meta->uploaded)}, {"expires", seconds(meta->expiry)}});
        }
        case Route::onion_v4:
        case Route::onion_v3:
            return handle_file_onion(req.body, r.route == Route::onion_v4);
        case Route::unknown:
            break;
    }
    return counted(error_reply(404));
}

// ---- onion requests (protocol.md §4.3, §4.5; session-file-server onion_req.py) ----------------

Network::Impl::FileResponse Network::Impl::handle_file_onion(std::string_view body, bool v4) {
    detail::FileServer& fs = *files;
    fs.count([](FileServerCounters& c) { ++c.onion_requests; });
    auto refused = [&] {
        fs.count([](FileServerCounters& c) { ++c.rejected; });
        // The real server aborts with 400 before anything can be encrypted to the client.
        return FileResponse{400, {{"content-type", "text/plain"}}, "Invalid onion request"};
    };
    auto entry = onion::parse_entry(as_bytes(body));
    if (!entry) return refused();
    X25519PublicKey own;
    own.bytes = fs.x_pk;
    auto peeled = onion::decrypt_layer(entry->info.enc_type, fs.x_sk, own, entry->info.ephemeral_key, entry->ciphertext);
    if (!peeled) return refused();

    // A subrequest never reaches the onion endpoints again (no nesting).
    auto run = [&](FileRequest sub) {
        if (const Routed r = route_of(sub.path); r.route == Route::onion_v3 || r.route == Route::onion_v4)
            return error_reply(404);
        fs.count([&](FileServerCounters& c) { ++c.endpoints["onion " + sub.method + " " + sub.path.substr(0, 80)]; });
        return handle_file_request(sub);
    };

    Bytes reply;
    if (v4) {
        auto req = onion::parse_v4_request(peeled->plaintext);
        if (!req) {
            fs.count([](FileServerCounters& c) { ++c.rejected; });
            reply = onion::v4_response(400, {{"content-type", "text/plain; charset=utf-8"}}, as_bytes("Invalid v4 onion request"));
        } else {
            FileRequest sub{req->method, req->endpoint, {}, req->body ? to_string(*req->body) : std::string()};
            for (const auto& [n, v] : req->headers) sub.headers.emplace_back(n, v);
            FileResponse r = run(std::move(sub));
            onion::Headers headers(r.headers.begin(), r.headers.end());
            reply = onion::v4_response(r.status, headers, as_bytes(r.body));
        }
    } else {
        // v3: JSON {"endpoint", "method", "body"?, "headers"?}; the reply is the body on 200, else
        // {"status_code": N}, encrypted and base64'd.
        const std::string text = to_string(peeled->plaintext);
        const json j = detail::parse_json(text).value_or(json());
        std::string out = detail::dump(json{{"status_code", 400}});
        if (j.is_object() && j.contains("endpoint") && j["endpoint"].is_string() && j.contains("method") &&
            j["method"].is_string()) {
            FileRequest sub{j["method"].get<std::string>(), j["endpoint"].get<std::string>(), {}, {}};
            if (!sub.path.starts_with("/")) sub.path.insert(sub.path.begin(), '/');
            if (auto b = j.find("body"); b != j.end() && b->is_string()) sub.body = b->get<std::string>();
            if (auto h = j.find("headers"); h != j.end() && h->is_object())
                for (auto& [n, v] : h->items())
                    if (v.is_string()) sub.headers.emplace_back(n, v.get<std::string>());
            FileResponse r = run(std::move(sub));
            out = r.status == 200 ? std::move(r.body) : detail::dump(json{{"status_code", r.status}});
        }
        reply = to_bytes(out);
    }
    auto sealed = onion::encrypt_reply(entry->info.enc_type, peeled->reply_key, reply, *system_rng());
    if (!sealed) return FileResponse{500, {{"content-type", "text/plain"}}, "Internal Server Error"};
    if (v4) return FileResponse{200, {{"content-type", "application/octet-stream"}}, to_string(*sealed)};
    return FileResponse{200, {{"content-type", "text/plain"}}, base64_encode(*sealed)};
}

// ---- the listener ----------------------------------------------------------------------------

void Network::Impl::corrupt_file_maybe(std::string& body) {
    if (body.empty() || !detail::chance(files->faults.corrupt_rate.load())) return;
    files->count([](FileServerCounters& c) { ++c.corrupted; });
    detail::corrupt_body(body);
}

Result<void> Network::Impl::start_file_listener() {
    detail::FileServer& fs = *files;
    std::lock_guard lock(fs.listener_mutex);
    if (fs.listener.server) return {};
    auto srv = std::make_unique<httplib::Server>();
    // The largest body any endpoint takes: a base64 upload, or an onion request.
    const std::size_t b64_cap = static_cast<std::size_t>((fs.max_upload_bytes + 2) / 3 * 4 + 1024);
    const std::size_t onion_cap = onion::kMaxPayloadBytes;
    const std::size_t upload_cap = static_cast<std::size_t>(fs.max_upload_bytes);
    srv->set_payload_max_length(std::max({b64_cap, onion_cap, upload_cap}));
    srv->set_tcp_nodelay(true);
    srv->set_keep_alive_timeout(2);
    srv->set_read_timeout(30, 0);
    srv->set_write_timeout(30, 0);
    srv->new_task_queue = [] { return new httplib::ThreadPool(8); };
    srv->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(detail::dump(json{{"status_code", res.status}}), "application/json");
        return httplib::Server::HandlerResponse::Handled;
    }));
    srv->set_pre_routing_handler([&fs](const httplib::Request& req, httplib::Response&) {
        fs.count([&](FileServerCounters& c) {
            ++c.http_requests;
            ++c.endpoints[req.path.substr(0, 120)];
        });
        return httplib::Server::HandlerResponse::Unhandled;
    });

    // Sleeps up to `ms`; false when the network or the file server stops meanwhile.
    auto wait = [this, &fs](std::int64_t ms) {
        std::unique_lock l(wake_mutex);
        return !wake_cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return stopping.load() || !fs.running.load(); });
    };
    // The body cap of an endpoint, decided from the path before a byte of the body is read.
    auto cap_for = [=](const std::string& path) -> std::size_t {
        switch (route_of(path).route) {
            case Route::upload: return upload_cap;
            case Route::legacy_upload: return b64_cap;
            case Route::onion_v4:
            case Route::onion_v3: return onion_cap;
            default: return kSmallBodyBytes;
        }
    };
    auto serve = [this, &fs, wait, cap_for](const httplib::Request& req, httplib::Response& res,
                                            const httplib::ContentReader* reader) {
        std::string body;
        if (reader) {
            if (req.is_multipart_form_data()) {
                res.status = 400;
                res.set_content(detail::dump(json{{"status_code", 400}}), "application/json");
                return;
            }
            const std::size_t cap = cap_for(req.path);
            bool too_large = false;
            const bool ok = (*reader)([&](const char* data, std::size_t len) {
                if (body.size() + len > cap) {
                    too_large = true;
                    return false;
                }
                body.append(data, len);
                return true;
            });
            if (!ok) {
                res.status = too_large || res.status == 413 ? 413 : 400;
                res.set_content(detail::dump(json{{"status_code", res.status}}), "application/json");
                fs.count([](FileServerCounters& c) { ++c.rejected; });
                return;
            }
        }
        if (auto lat = fs.faults.latency_ms.load(); lat > 0) {
            fs.count([](FileServerCounters& c) { ++c.delayed; });
            if (!wait(lat)) return detail::kill_connection(req);
        }
        if (detail::chance(fs.faults.drop_rate.load())) {
            if (fs.faults.drop_timeout.load()) {
                fs.count([](FileServerCounters& c) { ++c.hung; });
                wait(opt.hang_time.count());
            } else {
                fs.count([](FileServerCounters& c) { ++c.dropped; });
            }
            return detail::kill_connection(req);
        }
        FileRequest fr{req.method, req.path, {}, std::move(body)};
        for (const auto& [n, v] : req.headers) fr.headers.emplace_back(n, v);
        FileResponse r = handle_file_request(fr);
        corrupt_file_maybe(r.body);
        res.status = r.status;
        std::string content_type = "application/octet-stream";
        for (auto& [n, v] : r.headers) {
            if (n == "content-type") content_type = v;
            else res.set_header(n.c_str(), v);
        }
        res.set_content(std::move(r.body), content_type.c_str());
    };
    srv->Get(".*", [serve](const httplib::Request& req, httplib::Response& res) { serve(req, res, nullptr); });
    srv->Post(".*", [serve](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        serve(req, res, &reader);
    });
    auto not_allowed = [](const httplib::Request&, httplib::Response& res, const httplib::ContentReader&) {
        res.status = 405;
        res.set_content(detail::dump(json{{"status_code", 405}}), "application/json");
    };
    srv->Put(".*", not_allowed);
    srv->Delete(".*", not_allowed);
    srv->Patch(".*", not_allowed);
    if (fs.port == 0) {
        const int port = srv->bind_to_any_port("127.0.0.1");
        if (port <= 0) return unexpected(Errc::net_init, "localnet: cannot bind a file server port on 127.0.0.1");
        fs.port = static_cast<std::uint16_t>(port);
    } else if (!srv->bind_to_port("127.0.0.1", fs.port)) {
        return unexpected(Errc::net_init, "localnet: cannot bind the file server to 127.0.0.1:" + std::to_string(fs.port));
    }
    fs.listener.server = std::move(srv);
    fs.running = true;
    detail::run_listener(fs.listener);
    return {};
}

void Network::Impl::stop_file_listener() {
    detail::FileServer& fs = *files;
    std::lock_guard lock(fs.listener_mutex);
    fs.running = false;
    {
        std::lock_guard wl(wake_mutex);
    }
    wake_cv.notify_all();
    detail::stop_listener(fs.listener);
}

}  // namespace session::localnet
