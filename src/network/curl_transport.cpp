// curl_transport.cpp: the libcurl Transport (network.hpp curl_transport()).
//
// Requests in flight are events, not threads: each I/O thread owns one libcurl multi handle and
// drives every transfer added to it (curl_multi_perform / curl_multi_poll; curl_multi_wakeup when a
// request is submitted or the transport stops). post_async() prepares an easy handle on the calling
// thread, queues it for the I/O thread chosen by the request's host (host:port), and returns; the
// I/O thread adds it, and on completion maps the outcome and calls `done` there (callers keep it
// short: Caller hands its continuation to the Executor). post() is post_async() plus a wait.
//
// Connection reuse: a multi handle keeps one connection cache for all its transfers, so the TLS
// connection to a guard opened by one request is reused by the next request to that guard (the same
// host always goes to the same I/O thread). TLS sessions and DNS answers are shared between the I/O
// threads (a CURLSH with lock callbacks), so a new connection to a known peer resumes its session.
// Idle easy handles are kept per I/O thread and reset before reuse.
//
// Lifetime: each I/O thread's state is shared with the thread, so the transport may be destroyed on
// one of its own I/O threads (from a completion callback holding the last reference): that thread is
// then detached and exits by itself. Otherwise the destructor joins. Requests still queued or in
// flight when it stops complete with net_path_failed ("transport stopped").
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
#include <pthread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "detail/handle.hpp"
#include "session/network.hpp"

namespace session::network {

namespace {

using CurlEasy = session::detail::Handle<CURL, curl_easy_cleanup>;
using CurlShare = session::detail::Handle<CURLSH, curl_share_cleanup>;
using CurlHeaders = session::detail::Handle<curl_slist, curl_slist_free_all>;
using CurlMulti = session::detail::Handle<CURLM, curl_multi_cleanup>;

/// Replies larger than this are refused (the storage server's own request limit is 10 MiB; an
/// onion reply is base64 of at most that plus overhead).
constexpr std::size_t kMaxReplyBytes = 16 * 1024 * 1024;
/// Idle easy handles kept for reuse, per I/O thread.
constexpr std::size_t kMaxIdleHandles = 64;
/// The I/O threads' name (as top and /proc/<pid>/task/<tid>/comm show it).
constexpr const char* kIoThreadName = "session-io";
/// The longest curl_multi_poll wait when libcurl asks for none shorter (a wakeup ends it sooner).
constexpr int kMaxPollMs = 1000;

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

std::string host_of(const std::string& url) {
    auto p = url.find("://");
    auto start = p == std::string::npos ? 0 : p + 3;
    auto end = url.find('/', start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// The TLS sessions and DNS answers the I/O threads share (outlives every easy handle using it).
struct Shared {
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
    CurlShare share;

    static void lock_cb(CURL*, curl_lock_data data, curl_lock_access, void* userptr) {
        static_cast<Shared*>(userptr)->locks.at(static_cast<std::size_t>(data)).lock();
    }
    static void unlock_cb(CURL*, curl_lock_data data, void* userptr) {
        static_cast<Shared*>(userptr)->locks.at(static_cast<std::size_t>(data)).unlock();
    }
};

/// One request from submission to completion. `req` points at `owned` (post_async) or at the
/// caller's request (post(), which waits), so the body is not copied for a blocking call.
struct Job {
    HttpRequest owned;
    const HttpRequest* req = nullptr;
    Transport::Done done;
    std::string host;
    CurlEasy easy;
    CurlHeaders headers;
    Sink sink;
    std::array<char, CURL_ERROR_SIZE> errbuf{};
};

/// The outcome of a finished transfer (or of one that could not start).
Result<HttpResponse> outcome(Job& job, CURLcode rc) {
    CURL* h = job.easy.get();
    if (rc != CURLE_OK) {
        std::string what = job.errbuf[0] ? std::string(job.errbuf.data()) : std::string(curl_easy_strerror(rc));
        std::string msg = "network: POST " + job.host + ": " + what;
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
            if (job.sink.too_large)
                return unexpected(Errc::net_too_large, "network: reply from " + job.host + " exceeds " +
                                                           std::to_string(kMaxReplyBytes) + " bytes");
            return unexpected(Errc::net_path_failed, msg);
        default:
            // Empty reply, reset, partial body: the peer closed without a complete answer.
            return unexpected(Errc::net_path_failed, msg);
        }
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    const char* ctype = nullptr;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    HttpResponse out;
    out.status = static_cast<int>(status);
    if (ctype) out.content_type = ctype;
    out.body = std::move(job.sink.data);
    return out;
}

/// Sets every option of `job` on its easy handle. An error means the request cannot be made.
Result<void> prepare(Job& job, CURLSH* share) {
    const HttpRequest& req = *job.req;
    CURL* h = job.easy.get();
    for (const auto& header : req.headers) {
        std::string line = header.first + ": " + header.second;
        curl_slist* next = curl_slist_append(job.headers.get(), line.c_str());
        if (!next) return unexpected(Errc::net_init, "network: curl_slist_append failed");
        (void)job.headers.release();
        job.headers.reset(next);
    }
    {
        // No "Expect: 100-continue" round trip for larger bodies.
        curl_slist* next = curl_slist_append(job.headers.get(), "Expect:");
        if (!next) return unexpected(Errc::net_init, "network: curl_slist_append failed");
        (void)job.headers.release();
        job.headers.reset(next);
    }
    curl_easy_setopt(h, CURLOPT_SHARE, share);
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.empty() ? "" : reinterpret_cast<const char*>(req.body.data()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, job.headers.get());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    job.sink.easy = h;
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &job.sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, job.errbuf.data());
    curl_easy_setopt(h, CURLOPT_PRIVATE, &job);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

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
    return {};
}

/// One I/O thread: a multi handle, the queue of submitted jobs, the jobs in flight.
class IoLoop {
public:
    /// Timers by due time, then in the order they were set.
    using Timers = std::multimap<std::chrono::steady_clock::time_point, std::function<void()>>;

    IoLoop(std::shared_ptr<Shared> shared, CurlMulti multi) : shared_(std::move(shared)), multi_(std::move(multi)) {}

    /// Queues `job` (prepared) for the loop; completes it at once if the loop has stopped.
    void submit(std::unique_ptr<Job> job) {
        {
            std::lock_guard lk(m_);
            if (!stopped_) {
                queue_.push_back(std::move(job));
                curl_multi_wakeup(multi_.get());
                return;
            }
        }
        finish_stopped(*job);
    }

    /// An easy handle for a new job: an idle one (reset) or a new one.
    CurlEasy take_easy() {
        {
            std::lock_guard lk(m_);
            if (!idle_.empty()) {
                CurlEasy e = std::move(idle_.back());
                idle_.pop_back();
                curl_easy_reset(e.get());
                return e;
            }
        }
        return CurlEasy{curl_easy_init()};
    }

    void stop() {
        std::lock_guard lk(m_);
        stopped_ = true;
        curl_multi_wakeup(multi_.get());
    }

    /// Queues `fn` to run on this loop's thread at `when` (at once if the loop has stopped).
    void at(std::chrono::steady_clock::time_point when, std::function<void()> fn) {
        {
            std::lock_guard lk(m_);
            if (!stopped_) {
                timers_.emplace(when, std::move(fn));
                curl_multi_wakeup(multi_.get());
                return;
            }
        }
        fn();
    }

    /// The thread's body: runs until stop(), then fails what is left.
    void run() {
        std::vector<std::unique_ptr<Job>> fresh;
        for (;;) {
            bool stopping = false;
            {
                std::lock_guard lk(m_);
                stopping = stopped_;
                for (auto& j : queue_) fresh.push_back(std::move(j));
                queue_.clear();
            }
            if (stopping) break;
            for (auto& j : fresh) {
                CURL* h = j->easy.get();
                if (curl_multi_add_handle(multi_.get(), h) != CURLM_OK) {
                    auto failed = std::move(j);
                    complete(*failed, unexpected(Errc::net_init, "network: POST " + failed->host +
                                                                     ": curl_multi_add_handle failed"));
                    continue;
                }
                running_.emplace(h, std::move(j));
            }
            fresh.clear();
            int still = 0;
            curl_multi_perform(multi_.get(), &still);
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
                if (msg->msg != CURLMSG_DONE) continue;
                CURL* h = msg->easy_handle;
                const CURLcode rc = msg->data.result;
                auto it = running_.find(h);
                if (it == running_.end()) continue;
                auto job = std::move(it->second);
                running_.erase(it);
                curl_multi_remove_handle(multi_.get(), h);
                auto result = outcome(*job, rc);
                complete(*job, std::move(result));
            }
            curl_multi_poll(multi_.get(), nullptr, 0, run_due_timers(), nullptr);
        }
        // Stopped: what is queued or in flight ends here.
        for (auto& [h, job] : running_) {
            curl_multi_remove_handle(multi_.get(), h);
            fresh.push_back(std::move(job));
        }
        running_.clear();
        {
            std::lock_guard lk(m_);
            for (auto& j : queue_) fresh.push_back(std::move(j));
            queue_.clear();
        }
        for (auto& j : fresh) finish_stopped(*j);
        Timers timers;
        {
            std::lock_guard lk(m_);
            timers.swap(timers_);
        }
        for (auto& [when, fn] : timers) fn();  // their waits end early: nothing will run them later
        std::lock_guard lk(m_);
        idle_.clear();  // before the share (held by shared_) may go
    }

private:
    /// Detaches the job's pointers from its easy handle, keeps the handle for reuse, calls done.
    void complete(Job& job, Result<HttpResponse> result) {
        if (job.easy) {
            CURL* h = job.easy.get();
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
            curl_easy_setopt(h, CURLOPT_PRIVATE, nullptr);
            std::lock_guard lk(m_);
            if (!stopped_ && idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(job.easy));
        }
        job.easy.reset();
        auto done = std::move(job.done);
        done(std::move(result));
    }

    /// Runs the timers that are due (outside the lock: one may queue another) and returns how long
    /// the next poll may wait: until the next timer, kMaxPollMs at most.
    int run_due_timers() {
        std::vector<std::function<void()>> due;
        int wait_ms = kMaxPollMs;
        {
            std::lock_guard lk(m_);
            const auto now = std::chrono::steady_clock::now();
            while (!timers_.empty() && timers_.begin()->first <= now) {
                due.push_back(std::move(timers_.begin()->second));
                timers_.erase(timers_.begin());
            }
            if (!timers_.empty()) {
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first - now).count();
                wait_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, kMaxPollMs));
            }
        }
        for (auto& fn : due) fn();
        if (!due.empty()) return 0;  // what they started (a queued job, another timer) is looked at next
        return wait_ms;
    }

    void finish_stopped(Job& job) {
        complete(job, unexpected(Errc::net_path_failed, "network: POST " + job.host + ": transport stopped"));
    }

    std::shared_ptr<Shared> shared_;  // outlives multi_ and every easy handle below
    CurlMulti multi_;
    std::mutex m_;
    bool stopped_ = false;
    std::deque<std::unique_ptr<Job>> queue_;
    std::vector<CurlEasy> idle_;
    std::unordered_map<CURL*, std::unique_ptr<Job>> running_;  // the I/O thread's only
    Timers timers_;
};

class CurlTransport final : public Transport {
public:
    explicit CurlTransport(LogFn log) : log_(std::move(log)) {}

    Result<void> init(std::size_t io_threads) {
        if (io_threads == 0) return unexpected(Errc::invalid_argument, "network: curl_transport: io_threads must be at least 1");
        if (global_init_result() != CURLE_OK) return unexpected(Errc::net_init, "network: curl_global_init failed");
        auto shared = std::make_shared<Shared>();
        shared->share.reset(curl_share_init());
        CURLSH* sh = shared->share.get();
        if (!sh) return unexpected(Errc::net_init, "network: curl_share_init returned null");
        curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &Shared::lock_cb);
        curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &Shared::unlock_cb);
        curl_share_setopt(sh, CURLSHOPT_USERDATA, shared.get());
        // TLS sessions and DNS only: connections stay with their multi handle's cache.
        if (curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
            curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
            return unexpected(Errc::net_init, "network: libcurl cannot share TLS sessions and DNS");
        shared_ = shared;
        for (std::size_t i = 0; i < io_threads; ++i) {
            CurlMulti multi{curl_multi_init()};
            if (!multi) return unexpected(Errc::net_init, "network: curl_multi_init returned null");
            loops_.push_back(std::make_shared<IoLoop>(shared, std::move(multi)));
        }
        for (auto& loop : loops_) {
            // The thread shares its loop: it may outlive the transport (see the top of this file).
            threads_.emplace_back([loop] {
                pthread_setname_np(pthread_self(), kIoThreadName);  // for diagnostics (ps, top, bench_e2e)
                loop->run();
            });
        }
        return {};
    }

    ~CurlTransport() override {
        for (auto& loop : loops_) loop->stop();
        for (auto& t : threads_) {
            if (t.get_id() == std::this_thread::get_id()) t.detach();  // destroyed from its own callback
            else if (t.joinable()) t.join();
        }
    }

    void post_async(HttpRequest request, Done done) override {
        auto job = std::make_unique<Job>();
        job->owned = std::move(request);
        job->req = &job->owned;
        job->done = std::move(done);
        start(std::move(job));
    }

    void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
        // Timers share the first loop's thread: the I/O threads stay as many as asked for.
        loops_.front()->at(std::chrono::steady_clock::now() + std::max(delay, std::chrono::milliseconds(0)), std::move(fn));
    }

    Result<HttpResponse> post(const HttpRequest& request) override {
        // Shared with the callback: set_value may still be returning when get() does.
        auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
        auto future = promise->get_future();
        auto job = std::make_unique<Job>();
        job->req = &request;  // the caller waits below, so its request outlives the job's use of it
        job->done = [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); };
        start(std::move(job));
        return future.get();
    }

private:
    void start(std::unique_ptr<Job> job) {
        const HttpRequest& req = *job->req;
        job->host = host_of(req.url);
        // 0 means "never" to libcurl: a request without a bound is refused.
        if (req.timeout.count() <= 0 || req.connect_timeout.count() <= 0) {
            auto done = std::move(job->done);
            done(unexpected(Errc::invalid_argument, "network: POST " + job->host +
                                                        ": timeout and connect_timeout must be more than 0 ms"));
            return;
        }
        IoLoop& loop = *loops_[std::hash<std::string>{}(job->host) % loops_.size()];
        job->easy = loop.take_easy();
        if (!job->easy) {
            auto done = std::move(job->done);
            done(unexpected(Errc::net_init, "network: curl_easy_init returned null"));
            return;
        }
        if (auto ok = prepare(*job, shared_->share.get()); !ok) {
            auto done = std::move(job->done);
            done(unexpected(ok.error()));
            return;
        }
        loop.submit(std::move(job));
    }

    LogFn log_;
    std::shared_ptr<Shared> shared_;
    std::vector<std::shared_ptr<IoLoop>> loops_;
    std::vector<std::thread> threads_;
};

}  // namespace

Result<std::shared_ptr<Transport>> curl_transport(LogFn log, std::size_t io_threads) {
    auto t = std::make_shared<CurlTransport>(std::move(log));
    auto ok = t->init(io_threads);
    if (!ok) return unexpected(ok.error());
    return std::shared_ptr<Transport>(std::move(t));
}

Result<std::shared_ptr<Transport>> curl_transport(LogFn log) { return curl_transport(std::move(log), 1); }

}  // namespace session::network
