#pragma once
// error.hpp: the one error type of the library. Expected failures (bad input, a forged signature,
// a timeout, a 421) are values of Result<T>; only a caller's broken contract throws.
#include <cassert>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace session {

/// Every error kind, grouped by module. Codes are for programs; Error::message is for people and
/// never contains a secret (a phrase word, a seed, a key).
enum class Errc {
    // generic input
    invalid_argument,
    hex_invalid,
    base64_invalid,
    // mnemonic
    mnemonic_word_count,
    mnemonic_unknown_word,
    mnemonic_bad_checksum,
    mnemonic_overflow,
    // keys
    session_id_invalid,
    session_id_wrong_prefix,
    key_invalid,
    // proto_wire
    proto_truncated,
    proto_varint_overflow,
    proto_wire_type,
    proto_length,
    proto_nesting,
    proto_missing_required,
    proto_invalid_value,
    // envelope
    envelope_not_request,
    envelope_no_body,
    envelope_bad_type,
    envelope_no_content,
    envelope_too_short,
    envelope_decrypt_failed,
    envelope_bad_signature,
    envelope_bad_sender_key,
    envelope_bad_padding,
    envelope_bad_content,
    envelope_timestamp_mismatch,
    envelope_too_large,
    envelope_malformed,      // wrapper or Envelope protobuf does not parse
    envelope_bad_source,     // Envelope.source neither empty nor 66 hex characters
    envelope_bad_pro_sig,    // Envelope.proSig present but not 64 bytes
    // onion
    onion_bad_enc_type,
    onion_bad_payload,
    onion_bad_json,
    onion_decrypt_failed,
    onion_encrypt_failed,
    onion_bad_response,
    onion_bad_path,
    onion_truncated,      // shorter than the 4-byte length prefix
    onion_too_large,      // over the 10 MiB request limit
    onion_too_short,      // ciphertext shorter than IV/nonce + tag
    onion_missing_field,  // a required JSON key absent or of the wrong type
    onion_bad_key,        // a key that is not 64 hex digits, or a low-order X25519 point
    bencode_invalid,
    // network
    net_init,
    net_connect,
    net_timeout,
    net_tls,
    net_http_status,
    net_bad_response,
    net_too_large,
    net_no_nodes,
    net_no_path,
    net_node_not_found,
    net_swarm_moved,
    net_clock_skew,
    net_path_failed,
    net_unauthorized,
    net_config,
    // retrieve / client
    retrieve_bad_response,
    retrieve_hash_mismatch,  // an item's hash is not message_hash(account, namespace, data)
    receive_no_signed_time,  // an opened message carries no signed send time
    receive_too_old,         // signed longer ago than any message the swarm can still hold
    receive_too_new,         // signed too far in the future
    receive_replayed,        // the same sender and signed time as a message already received
    receive_malformed_kind,  // a conversation kind with a value outside the protocol (enum, timestamp, …)
    receive_unsend_not_author,  // an UnsendRequest for a message the sender did not write
    client_closed,
    // local storage / I/O
    io_error,
    // store (store.hpp)
    store_corrupt,    // not an SQLite file, damaged, or another program's database
    store_too_new,    // written by a newer schema version than this library knows
    store_full,       // disk full, or StoreOptions::max_size_bytes reached: nothing was written
    store_read_only,  // the file or its directory is not writable
    store_busy,       // locked by another Store or connection
    // attachment (attachment.hpp)
    attachment_too_large,       // plaintext over the upload limit, or a blob over kMaxBlobBytes
    attachment_truncated,       // a blob shorter than its format allows, or one that stops mid-block/mid-chunk
    attachment_bad_key,         // a key of the wrong length for the scheme
    attachment_bad_mac,         // cbc_hmac: HMAC-SHA256 does not verify (wrong key or changed bytes)
    attachment_missing_digest,  // cbc_hmac: the pointer carries no digest (desktop refuses these too)
    attachment_bad_digest,      // cbc_hmac: SHA-256 of the blob differs from the pointer's digest
    attachment_decrypt_failed,  // stream chunk or GCM tag does not verify; cbc PKCS#7 padding invalid
    attachment_bad_format,      // not the scheme's layout: no 'S', bad padding marker, FINAL misplaced
    attachment_size_mismatch,   // plaintext shorter than the pointer's size; fed more/fewer bytes than declared
    attachment_bad_url,         // not a file-server download URL
    attachment_crypto,          // an OpenSSL or libsodium call failed
    attachment_unknown_server,  // a download URL for a file server this network does not know
    attachment_not_found,       // the file server has no such file (404: expired or never uploaded)
};

struct Error {
    Errc code;
    std::string message;
};

template <class E>
class Unexpected {
public:
    explicit Unexpected(E e) : error_(std::move(e)) {}
    E& error() & { return error_; }
    E&& error() && { return std::move(error_); }
    const E& error() const& { return error_; }

private:
    E error_;
};

inline Unexpected<Error> unexpected(Error e) { return Unexpected<Error>(std::move(e)); }
inline Unexpected<Error> unexpected(Errc code, std::string message) {
    return Unexpected<Error>(Error{code, std::move(message)});
}

/// A minimal std::expected (C++23) for C++20: holds either a T or an E.
template <class T, class E = Error>
class [[nodiscard]] Expected {
public:
    using value_type = T;
    using error_type = E;

    Expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
    Expected(const T& v) : v_(std::in_place_index<0>, v) {}
    Expected(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
    template <class U>
        requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
                 !std::is_same_v<std::remove_cvref_t<U>, Expected> &&
                 !std::is_same_v<std::remove_cvref_t<U>, Unexpected<E>>)
    Expected(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
    Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u).error()) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { check(); return std::get<0>(v_); }
    const T& value() const& { check(); return std::get<0>(v_); }
    T&& value() && { check(); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const& {
        if (has_value()) throw std::logic_error("Expected::error() called on a value");
        return std::get<1>(v_);
    }
    E&& error() && {
        if (has_value()) throw std::logic_error("Expected::error() called on a value");
        return std::get<1>(std::move(v_));
    }

private:
    void check() const {
        if (!has_value()) throw std::logic_error("Expected::value() on an error: " + describe());
    }
    std::string describe() const {
        if constexpr (std::is_same_v<E, Error>) return std::get<1>(v_).message;
        else return "error";
    }
    std::variant<T, E> v_;
};

/// Result<void>: success or an error.
template <class E>
class [[nodiscard]] Expected<void, E> {
public:
    Expected() = default;
    Expected(Unexpected<E> u) : err_(std::move(u).error()), ok_(false) {}
    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const {
        if (!ok_) throw std::logic_error("Expected<void>::value() on an error");
    }
    const E& error() const& {
        if (ok_) throw std::logic_error("Expected::error() called on a value");
        return err_;
    }

private:
    E err_{};
    bool ok_ = true;
};

template <class T>
using Result = Expected<T, Error>;

}  // namespace session
