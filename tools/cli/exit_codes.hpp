#pragma once
// exit_codes.hpp: session-cli's exit codes and the one table that maps every library error kind
// (session::Errc) onto them. Header-only, std + session/error.hpp: the examples (send_dm,
// echo_bot) include it too, so a script sees the same codes from every program of this project.
// docs/cli.md ("Exit codes"), `session-cli --help` and the man page print kExitCodes.
#include <string_view>

#include "session/error.hpp"

namespace session::cli {

enum Exit : int {
    kOk = 0,
    kInternal = 1,  // a bug: an unexpected exception or an impossible state
    kUsage = 2,     // bad command line or bad input (option, phrase, Session ID, input file, message)
    kCrypto = 3,    // a message that does not decode, decrypt, verify or parse
    kNetwork = 4,   // the network (or local network) could not complete the request
    kLocal = 5,     // a local file could not be written or used (permissions, missing directory, disk full)
};

struct ExitCodeDoc {
    int code;
    std::string_view meaning;
};

/// The documented exit codes, in order (help, man page, docs/cli.md).
inline constexpr ExitCodeDoc kExitCodes[] = {
    {kOk, "success"},
    {kInternal, "internal error (a bug; please report it with the message)"},
    {kUsage, "usage error or bad input: unknown verb or option, missing or malformed value, bad phrase, bad "
             "Session ID, an input file that is unreadable, of the wrong type or too large (phrase, network, "
             "config, state), message text not UTF-8, empty without --allow-empty, or too large to store"},
    {kCrypto, "crypto or parse failure: a message that does not decode, decrypt, verify or parse (open)"},
    {kNetwork, "network failure: the network is unreachable (no seed or node answered, timeouts) or the swarm "
               "refused the request"},
    {kLocal, "local error: a file could not be written (the --state file's directory is missing or "
             "read-only, the disk is full) or the system refused a resource"},
};

/// The exit code for a library error kind. One switch over every Errc, without a default, so a new
/// error kind does not compile (-Werror=switch) until it is given its code here.
constexpr int exit_code_for(Errc code) noexcept {
    switch (code) {
        // Input the user gave: a phrase, a Session ID, a value, a file's content, a message.
        case Errc::invalid_argument:
        case Errc::hex_invalid:
        case Errc::base64_invalid:
        case Errc::mnemonic_word_count:
        case Errc::mnemonic_unknown_word:
        case Errc::mnemonic_bad_checksum:
        case Errc::mnemonic_overflow:
        case Errc::session_id_invalid:
        case Errc::session_id_wrong_prefix:
        case Errc::key_invalid:        // a Session ID whose key cannot receive (low-order point)
        case Errc::envelope_too_large: // a message larger than a swarm stores
        case Errc::net_config:         // a network file that does not describe a network
            return kUsage;
        // A message's bytes.
        case Errc::proto_truncated:
        case Errc::proto_varint_overflow:
        case Errc::proto_wire_type:
        case Errc::proto_length:
        case Errc::proto_nesting:
        case Errc::proto_missing_required:
        case Errc::proto_invalid_value:
        case Errc::envelope_not_request:
        case Errc::envelope_no_body:
        case Errc::envelope_bad_type:
        case Errc::envelope_no_content:
        case Errc::envelope_too_short:
        case Errc::envelope_decrypt_failed:
        case Errc::envelope_bad_signature:
        case Errc::envelope_bad_sender_key:
        case Errc::envelope_bad_padding:
        case Errc::envelope_bad_content:
        case Errc::envelope_timestamp_mismatch:
        case Errc::envelope_malformed:
        case Errc::envelope_bad_source:
        case Errc::envelope_bad_pro_sig:
            return kCrypto;
        // The network and what it answered.
        case Errc::onion_bad_enc_type:
        case Errc::onion_bad_payload:
        case Errc::onion_bad_json:
        case Errc::onion_decrypt_failed:
        case Errc::onion_encrypt_failed:
        case Errc::onion_bad_response:
        case Errc::onion_bad_path:
        case Errc::onion_truncated:
        case Errc::onion_too_large:
        case Errc::onion_too_short:
        case Errc::onion_missing_field:
        case Errc::onion_bad_key:
        case Errc::bencode_invalid:
        case Errc::net_connect:
        case Errc::net_timeout:
        case Errc::net_tls:
        case Errc::net_http_status:
        case Errc::net_bad_response:
        case Errc::net_too_large:
        case Errc::net_no_nodes:
        case Errc::net_no_path:
        case Errc::net_node_not_found:
        case Errc::net_swarm_moved:
        case Errc::net_clock_skew:
        case Errc::net_path_failed:
        case Errc::net_unauthorized:
        case Errc::retrieve_bad_response:
            return kNetwork;
        // An item the swarm holds that is not a genuine new message for us (reported as skipped).
        case Errc::retrieve_hash_mismatch:
        case Errc::receive_no_signed_time:
        case Errc::receive_too_old:
        case Errc::receive_too_new:
        case Errc::receive_replayed:
        case Errc::receive_malformed_kind:
        case Errc::receive_unsend_not_author:
            return kCrypto;
        // An attachment: the size or URL the user gave is bad input; a blob that does not decrypt
        // or verify is a crypto failure, like a message.
        case Errc::attachment_too_large:
        case Errc::attachment_bad_url:
        case Errc::attachment_unknown_server:  // a URL for a server this network does not know
            return kUsage;
        case Errc::attachment_not_found:  // the file server has no such file (expired)
            return kNetwork;
        case Errc::attachment_truncated:
        case Errc::attachment_bad_key:
        case Errc::attachment_bad_mac:
        case Errc::attachment_missing_digest:
        case Errc::attachment_bad_digest:
        case Errc::attachment_decrypt_failed:
        case Errc::attachment_bad_format:
        case Errc::attachment_size_mismatch:
            return kCrypto;
        // This machine.
        case Errc::net_init:  // libcurl could not start
        case Errc::io_error:
        case Errc::attachment_crypto:  // an OpenSSL or libsodium call failed
        case Errc::store_full:
        case Errc::store_read_only:
        case Errc::store_busy:
            return kLocal;
        case Errc::store_corrupt:  // a data file that is not ours or is damaged: bad input
        case Errc::store_too_new:
            return kUsage;
        case Errc::client_closed:  // a Client used after a move: our bug
            return kInternal;
    }
    return kInternal;
}

/// The exit code for a failed Client::create: as exit_code_for, except that a network file the
/// library cannot read is bad input (2), like a malformed one, not a local failure (its messages
/// start with "network:"; a state file's start with "client: state file").
inline int exit_code_for_create(const Error& error) noexcept {
    if (error.code == Errc::io_error && error.message.rfind("network:", 0) == 0) return kUsage;
    return exit_code_for(error.code);
}

/// Errors that mean "nothing answered": after every attempt, no seed, path or node could be
/// reached in time. session-cli turns them into "the network is unreachable" with a hint.
constexpr bool is_unreachable(Errc code) noexcept {
    return code == Errc::net_connect || code == Errc::net_timeout || code == Errc::net_no_nodes ||
           code == Errc::net_no_path || code == Errc::net_path_failed;
}

}  // namespace session::cli
