#pragma once
// attachments_client.hpp (private): the Client's attachments and profile picture, end to end
// (protocol.md §3.5, §6, §6.1):
//
//   upload:   source (path | bytes | stream) → size check → Encryptor (cbc_hmac: desktop's default;
//             or stream) piece by piece into one blob → POST /file over onion v4 to the network's
//             file server → {"id"} → AttachmentPointer{url, key, digest, size, …}
//   download: URL → the server it names (the network's file server, or a `#p=` key) → GET
//             /file/<id> over onion v4 → Decryptor → memory, or a temp file renamed into place
//   avatar:   ClientOptions' picture, AES-256-GCM with a random profile key, uploaded on first use
//             and again before the server's expiry; sent in LokiProfile with DataMessage.profileKey
//
// Thread-safe: uploads and downloads may run concurrently; the avatar state has its own lock.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "session/attachment.hpp"
#include "session/client.hpp"
#include "session/executor.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/proto_wire.hpp"
#include "session/rng.hpp"

namespace session::detail {

/// How long before the file server's expiry an avatar is uploaded again (desktop refreshes its
/// avatar well before the 3-week expiry).
inline constexpr std::int64_t kAvatarRefreshMarginMs = 24LL * 60 * 60 * 1000;
/// Plaintext read per piece while encrypting or decrypting.
inline constexpr std::size_t kFilePieceBytes = 64 * 1024;

/// The server a download URL names: the configured file server when scheme, host and port match
/// (a `#p=` key must then be one of its keys: X25519, Ed25519 or another X25519 it answers to); a
/// host it does not know only with a `#p=` key, read as the X25519 key (libsession's reading).
/// Errors: attachment_unknown_server.
[[nodiscard]] Result<network::HttpServer> server_for_url(const attachment::DownloadUrl& url,
                                                         const std::optional<network::FileServerConfig>& known);

/// The onion destination of a configured file server (its URL split into protocol, host, port).
/// Errors: attachment_unknown_server (none configured), net_config (a URL that is not http(s)://host[:port]).
[[nodiscard]] Result<network::HttpServer> upload_server(const std::optional<network::FileServerConfig>& known);

/// Reads a file server's answer to POST /file: {"id": 1..64 of [A-Za-z0-9_-], "expires"?: seconds}.
struct UploadReply {
    std::string id;
    std::optional<std::int64_t> expires_ms;
};
[[nodiscard]] Result<UploadReply> parse_upload_reply(const network::ServerReply& reply);

class Attachments {
public:
    Attachments(const Identity& self, std::shared_ptr<network::Network> net, std::shared_ptr<Rng> rng,
                network::LogFn log);

    [[nodiscard]] Result<proto::AttachmentPointer> upload(const AttachmentSource& file, const AttachmentOptions& options,
                                                          std::size_t index = 0) const;
    /// Every file's size is checked before the first upload; uploads run `parallel_uploads` at a time.
    [[nodiscard]] Result<std::vector<proto::AttachmentPointer>> upload_all(const std::vector<AttachmentSource>& files,
                                                                           const AttachmentOptions& options,
                                                                           Executor& executor) const;

    [[nodiscard]] Result<Bytes> download(const proto::AttachmentPointer& pointer, const ProgressFn& progress) const;
    [[nodiscard]] Result<DownloadResult> download_to(const proto::AttachmentPointer& pointer, const std::string& path,
                                                     const ProgressFn& progress) const;
    [[nodiscard]] Result<Bytes> download_avatar(std::string_view url, ByteView profile_key) const;

    /// The avatar to send (ClientOptions::avatar_path / avatar_bytes).
    void set_avatar(std::string path, std::optional<Bytes> bytes);
    bool has_avatar() const { return has_avatar_; }
    struct AvatarRef {
        std::string url;
        Bytes profile_key;
    };
    /// The uploaded avatar's URL and key, uploading it first when it never was or expires soon.
    /// Errors: as upload (the caller sends without a picture and logs it).
    [[nodiscard]] Result<AvatarRef> avatar();

private:
    struct Fetched;
    Result<Fetched> fetch(const proto::AttachmentPointer& pointer, const ProgressFn& progress) const;
    void say(network::LogLevel level, const std::string& line) const;

    const Identity& self_;
    std::shared_ptr<network::Network> net_;
    std::shared_ptr<Rng> rng_;
    network::LogFn log_;

    bool has_avatar_ = false;
    std::string avatar_path_;
    std::optional<Bytes> avatar_bytes_;
    std::mutex avatar_mu_;
    std::optional<AvatarRef> avatar_;
    std::int64_t avatar_refresh_at_ms_ = 0;
    std::optional<Secret<32>> profile_key_;
};

}  // namespace session::detail
