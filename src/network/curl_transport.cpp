// curl_transport.cpp: the libcurl Transport (network.hpp curl_transport()).
//
// Threads and connection reuse (libcurl's rules: an easy handle is used by one thread at a time, and a
// connection cache shared between handles used at the same time is unsupported): each easy handle
// keeps its own connection cache and is used by one request at a time; idle handles wait in a pool.
// A request takes the idle handle that last talked to its host (host:port), so the TLS connection to
// a guard node opened by one request is reused by the next one to that guard, on any thread. Only
// TLS sessions and DNS answers are shared between handles (a CURLSH with lock callbacks), so a new
// connection to a known peer resumes its TLS session.
//
// TLS (protocol.md §5.1, storage-server.md §9):
//   verify=false : storage nodes — self-signed certificates unrelated to their keys; no checks.
//   verify=true  : chain + host name/IP (VERIFYPEER=1, VERIFYHOST=2) against ca_pem only (the
//                  system CA path is cleared), optional CURLOPT_PINNEDPUBLICKEY, and an optional
//                  SHA-256 of the DER leaf certificate checked inside the OpenSSL handshake (an
//                  SSL_CTX verify callback), so a wrong certificate never receives the request body.
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <memory>
#include <mutex>
#include <vector>

#include "detail/handle.hpp"
#include "session/network.hpp"

namespace session::network {

namespace {

using CurlEasy = session::detail::Handle<CURL, curl_easy_cleanup>;
using CurlShare = session::detail::Handle<CURLSH, curl_share_cleanup>;
using CurlHeaders = session::detail::Handle<curl_slist, curl_slist_free_all>;

/// Replies larger than this are refused (the storage server's own request limit is 10 MiB; an
/// onion reply is base64 of at most that plus overhead).
constexpr std::size_t kMaxReplyBytes = 16 * 1024 * 1024;
/// Idle easy handles kept for reuse (each with its connection cache).
constexpr std::size_t kMaxIdleHandles = 16;
/// Connections one handle keeps open (CURLOPT_MAXCONNECTS).
constexpr long kMaxConnectsPerHandle = 4;

CURLcode global_init_result() {
    static std::once_flag once;
    static CURLcode rc = CURLE_OK;
    std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
    return rc;
}

// ---- certificate SHA-256 pin inside the handshake --------------------------------------------

void free_pin(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<ByteArray<32>*>(ptr); }

int pin_index() {
    static const int idx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_pin);
    return idx;
}

int verify_with_cert_pin(int preverify_ok, X509_STORE_CTX* store) {
    if (!preverify_ok) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (!ssl) return 0;
    auto* expected = static_cast<const ByteArray<32>*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_index()));
    if (!expected) return 0;
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32 ||
        CRYPTO_memcmp(md, expected->data(), 32) != 0) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    return 1;
}

CURLcode ssl_ctx_cb(CURL*, void* ssl_ctx, void* userptr) {
    auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
    const auto* pin = static_cast<const ByteArray<32>*>(userptr);
    auto* copy = new ByteArray<32>(*pin);  // owned by the SSL_CTX (freed by free_pin)
    if (pin_index() < 0 || SSL_CTX_set_ex_data(ctx, pin_index(), copy) != 1) {
        delete copy;
        return CURLE_SSL_CERTPROBLEM;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_with_cert_pin);
    return CURLE_OK;
}

// ---- the transport ---------------------------------------------------------------------------

/// A reply's Content-Length up to this is reserved before its first byte arrives (an onion reply
/// is at most the 10 MiB request limit plus its framing), so a large body is not copied as it grows.
constexpr curl_off_t kMaxReserveBytes = 10 * 1024 * 1024 + 64 * 1024;

struct Sink {
    CURL* easy = nullptr;
    Bytes data;
    bool reserved = false;
    bool too_large = false;
};

std::size_t write_cb(char* ptr, std::size_t size, std::size_t nmemb, void* userdata) {
    auto* sink = static_cast<Sink*>(userdata);
    std::size_t n = size * nmemb;
    if (!sink->reserved) {
        sink->reserved = true;
        curl_off_t length = -1;
        if (curl_easy_getinfo(sink->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0 &&
            length <= kMaxReserveBytes)
            sink->data.reserve(static_cast<std::size_t>(length));
    }
    if (sink->data.size() + n > kMaxReplyBytes) {
        sink->too_large = true;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    sink->data.insert(sink->data.end(), reinterpret_cast<std::uint8_t*>(ptr), reinterpret_cast<std::uint8_t*>(ptr) + n);
    return n;
}

class CurlTransport final : public Transport {
public:
    explicit CurlTransport(LogFn log) : log_(std::move(log)) {}

    Result<void> init() {
        if (global_init_result() != CURLE_OK) return unexpected(Errc::net_init, "network: curl_global_init failed");
        share_.reset(curl_share_init());
        if (!share_) return unexpected(Errc::net_init, "network: curl_share_init returned null");
        curl_share_setopt(share_.get(), CURLSHOPT_LOCKFUNC, &CurlTransport::lock_cb);
        curl_share_setopt(share_.get(), CURLSHOPT_UNLOCKFUNC, &CurlTransport::unlock_cb);
        curl_share_setopt(share_.get(), CURLSHOPT_USERDATA, this);
        // TLS sessions and DNS only: connections stay with their handle (see the top of this file).
        if (curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
            curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
            return unexpected(Errc::net_init, "network: libcurl cannot share TLS sessions and DNS");
        return {};
    }

    ~CurlTransport() override {
        // Handles first: they reference the share.
        std::lock_guard lk(pool_m_);
        idle_.clear();
    }

    Result<HttpResponse> post(const HttpRequest& req) override {
        // 0 means "never" to libcurl: a request without a bound is refused.
        if (req.timeout.count() <= 0 || req.connect_timeout.count() <= 0)
            return unexpected(Errc::invalid_argument, "network: POST " + host_of(req.url) +
                                                          ": timeout and connect_timeout must be more than 0 ms");
        const std::string host = host_of(req.url);
        CurlEasy easy = take(host);
        if (!easy) return unexpected(Errc::net_init, "network: curl_easy_init returned null");
        CURL* h = easy.get();
        Sink sink;
        sink.easy = h;
        char errbuf[CURL_ERROR_SIZE] = {0};
        CurlHeaders headers;
        for (const auto& [k, v] : req.headers) {
            std::string line = k + ": " + v;
            curl_slist* next = curl_slist_append(headers.get(), line.c_str());
            if (!next) return unexpected(Errc::net_init, "network: curl_slist_append failed");
            (void)headers.release();
            headers.reset(next);
        }
        {
            // No "Expect: 100-continue" round trip for larger bodies.
            curl_slist* next = curl_slist_append(headers.get(), "Expect:");
            if (!next) return unexpected(Errc::net_init, "network: curl_slist_append failed");
            (void)headers.release();
            headers.reset(next);
        }

        curl_easy_setopt(h, CURLOPT_SHARE, share_.get());
        curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.empty() ? "" : reinterpret_cast<const char*>(req.body.data()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_MAXCONNECTS, kMaxConnectsPerHandle);

        if (!req.tls.verify) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        } else {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
            if (!req.tls.ca_pem.empty()) {
                curl_blob blob{const_cast<char*>(req.tls.ca_pem.data()), req.tls.ca_pem.size(), CURL_BLOB_COPY};
                if (curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
                    return unexpected(Errc::net_tls, "network: this libcurl cannot take a CA from memory");
                // The pinned CA is the only trust anchor: no system CA directory.
                curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
            }
            if (!req.tls.pinned_public_key.empty() &&
                curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, req.tls.pinned_public_key.c_str()) != CURLE_OK)
                return unexpected(Errc::net_tls, "network: this libcurl cannot pin public keys");
            if (req.tls.cert_sha256) {
                if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) != CURLE_OK)
                    return unexpected(Errc::net_tls, "network: certificate pinning needs libcurl with OpenSSL");
                curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, &*req.tls.cert_sha256);
            }
        }

        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        const char* ctype = nullptr;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
        HttpResponse out;
        out.status = static_cast<int>(status);
        if (ctype) out.content_type = ctype;
        // Detach per-request pointers before the handle goes back to the pool.
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
        give_back(std::move(easy), host);

        if (rc != CURLE_OK) {
            std::string what = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
            std::string msg = "network: POST " + host_of(req.url) + ": " + what;
            switch (rc) {
            case CURLE_OPERATION_TIMEDOUT:
                return unexpected(Errc::net_timeout, msg);
            case CURLE_COULDNT_CONNECT:
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_COULDNT_RESOLVE_PROXY:
                return unexpected(Errc::net_connect, msg);
            case CURLE_SSL_CONNECT_ERROR:
            case CURLE_PEER_FAILED_VERIFICATION:
            case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            case CURLE_SSL_CERTPROBLEM:
            case CURLE_SSL_CACERT_BADFILE:
            case CURLE_SSL_ISSUER_ERROR:
            case CURLE_SSL_CIPHER:
                return unexpected(Errc::net_tls, msg);
            case CURLE_WRITE_ERROR:
                if (sink.too_large)
                    return unexpected(Errc::net_too_large, "network: reply from " + host_of(req.url) + " exceeds " +
                                                               std::to_string(kMaxReplyBytes) + " bytes");
                return unexpected(Errc::net_path_failed, msg);
            default:
                // Empty reply, reset, partial body: the peer closed without a complete answer.
                return unexpected(Errc::net_path_failed, msg);
            }
        }
        out.body = std::move(sink.data);
        return out;
    }

private:
    static std::string host_of(const std::string& url) {
        auto p = url.find("://");
        auto start = p == std::string::npos ? 0 : p + 3;
        auto end = url.find('/', start);
        return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }

    /// An idle handle, preferring the one that last talked to `host` (its connection may be open).
    CurlEasy take(const std::string& host) {
        {
            std::lock_guard lk(pool_m_);
            if (!idle_.empty()) {
                auto it = std::find_if(idle_.rbegin(), idle_.rend(), [&](const Idle& i) { return i.host == host; });
                auto pos = it == idle_.rend() ? std::prev(idle_.end()) : std::prev(it.base());
                CurlEasy e = std::move(pos->easy);
                idle_.erase(pos);
                curl_easy_reset(e.get());  // options only: its connections stay
                return e;
            }
        }
        return CurlEasy{curl_easy_init()};
    }

    void give_back(CurlEasy e, const std::string& host) {
        std::lock_guard lk(pool_m_);
        if (idle_.size() >= kMaxIdleHandles) idle_.erase(idle_.begin());  // the least recently used
        idle_.push_back(Idle{std::move(e), host});
    }

    static void lock_cb(CURL*, curl_lock_data data, curl_lock_access, void* userptr) {
        static_cast<CurlTransport*>(userptr)->locks_.at(static_cast<std::size_t>(data)).lock();
    }
    static void unlock_cb(CURL*, curl_lock_data data, void* userptr) {
        static_cast<CurlTransport*>(userptr)->locks_.at(static_cast<std::size_t>(data)).unlock();
    }

    LogFn log_;
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks_;
    CurlShare share_;  // destroyed after idle_ (declared before it)
    struct Idle {
        CurlEasy easy;
        std::string host;  // of its last request
    };
    std::mutex pool_m_;
    std::vector<Idle> idle_;  // least recently used first
};

}  // namespace

Result<std::shared_ptr<Transport>> curl_transport(LogFn log) {
    auto t = std::make_shared<CurlTransport>(std::move(log));
    auto ok = t->init();
    if (!ok) return unexpected(ok.error());
    return std::shared_ptr<Transport>(std::move(t));
}

}  // namespace session::network
