// rpc.cpp: the storage server's client RPC methods at one node (storage-server.md §4-§6):
// parameter parsing with the server's exact error strings, the check order of every method, the
// swarm check (421), request signatures (§4.5), node signatures (§4.6), time windows (§4.7) and
// recursive (swarm-wide) requests (§4.9), run in-process against the node's swarm peers.
#include <sodium.h>

#include <algorithm>
#include <limits>
#include <shared_mutex>
#include <functional>
#include <future>

#include "localnet/internal.hpp"

namespace session::localnet {

using detail::Account;
using detail::json;
using detail::Node;
using detail::ParseError;
using detail::Reply;

namespace {

// ---- namespaces (§6.1) -------------------------------------------------------------------------

bool is_public_inbox(int ns) { return ns % 10 == 0; }
bool is_public_outbox(int ns) { return ns < 0 && (-ns) % 20 == 1; }
bool is_no_auth_retrieve(int ns) { return ns == -10 || is_public_outbox(ns); }
std::string ns_sig(int ns) { return ns == 0 ? std::string{} : std::to_string(ns); }
std::string ns_sig(std::optional<int> ns) { return ns ? ns_sig(*ns) : std::string("all"); }

// ---- parameter parsing (§4.2) ------------------------------------------------------------------

const json* field(const json& p, const char* name) {
    auto it = p.find(name);
    if (it == p.end() || it->is_null()) return nullptr;
    return &*it;
}

[[noreturn]] void bad_type(const char* name, const char* desc) {
    throw ParseError(std::string("Invalid value given for '") + name + "': expected " + desc);
}

std::optional<std::string> f_string(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    if (!v->is_string()) bad_type(name, "string");
    return v->get<std::string>();
}

std::optional<bool> f_bool(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) bad_type(name, "boolean");
    return v->get<bool>();
}

std::optional<std::int64_t> f_int(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) bad_type(name, "integer");
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        bad_type(name, "integer");
    return v->get<std::int64_t>();
}

std::int64_t check_ms(std::int64_t t, const char* name) {
    // Below 10^9 ms (10^6 s) the value was almost certainly given in seconds.
    if (t < 1'000'000'000)
        throw ParseError(std::string("Invalid timestamp for '") + name + "': timestamp must be in milliseconds");
    return t;
}

std::optional<std::int64_t> f_timestamp(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    if (!v->is_number_unsigned() || v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        bad_type(name, "integer timestamp (in milliseconds)");
    return check_ms(v->get<std::int64_t>(), name);
}

// `timestamp` and `ttl` of store may also be decimal strings (backwards compatibility).
std::optional<std::int64_t> f_stringified(const json& p, const char* name, bool timestamp) {
    auto v = field(p, name);
    if (v && v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        std::int64_t value = 0;
        bool ok = !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (ok) value = std::stoll(s);
        if (!ok) throw ParseError(std::string("Invalid value given for '") + name + "': " + detail::dump(*v));
        return value;
    }
    if (timestamp) {
        if (!v) return std::nullopt;
        if (!v->is_number_integer()) bad_type(name, "integer");
        return v->get<std::int64_t>();
    }
    if (!v) return std::nullopt;
    if (!v->is_number_unsigned()) bad_type(name, "positive integer");
    return v->get<std::int64_t>();
}

int check_ns_range(std::int64_t id, const char* name) {
    if (id < -32768 || id > 32767) throw ParseError(std::string("Invalid value given for '") + name + "': value out of range");
    return static_cast<int>(id);
}

std::optional<int> f_namespace(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) bad_type(name, "16-bit integer");
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > 32767) check_ns_range(40000, name);
    return check_ns_range(v->get<std::int64_t>(), name);
}

// A namespace or "all" (absent: namespace 0).
struct NsVar {
    bool all = false;
    int ns = 0;
    std::optional<int> value() const { return all ? std::nullopt : std::optional<int>(ns); }
};
NsVar f_namespace_var(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return NsVar{};
    if (v->is_number_integer()) {
        if (v->is_number_unsigned() && v->get<std::uint64_t>() > 32767) check_ns_range(40000, name);
        return NsVar{false, check_ns_range(v->get<std::int64_t>(), name)};
    }
    if (v->is_string() && v->get_ref<const std::string&>() == "all") return NsVar{true, 0};
    throw ParseError(std::string("Invalid value given for '") + name + "': expected integer or \"all\"");
}

std::optional<std::vector<std::string>> f_str_array(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    std::vector<std::string> out;
    if (v->is_string()) {
        out.push_back(v->get<std::string>());
        return out;
    }
    if (!v->is_array()) bad_type(name, "string array");
    for (const auto& x : *v) {
        if (!x.is_string()) bad_type(name, "string array");
        out.push_back(x.get<std::string>());
    }
    return out;
}

std::optional<std::vector<std::int64_t>> f_timestamp_array(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    std::vector<std::int64_t> out;
    auto one = [&](const json& x) {
        if (!x.is_number_unsigned() || x.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            bad_type(name, "timestamp array");
        out.push_back(check_ms(x.get<std::int64_t>(), name));
    };
    if (v->is_array()) {
        for (const auto& x : *v) one(x);
    } else {
        one(*v);
    }
    return out;
}

// The value of a field that must be present. (Do not bind the result to a reference when `v` is a
// temporary: copy it.)
template <class T>
const T& require(const char* name, const std::optional<T>& v) {
    if (!v) throw ParseError(std::string("Required field '") + name + "' missing");
    return *v;
}

// pubkey / pubKey: exactly one (the alias form of the error names only 'pubkey').
std::optional<std::string> pubkey_alias(const json& p) {
    auto a = f_string(p, "pubKey");
    auto b = f_string(p, "pubkey");
    if (a && b) throw ParseError("Cannot specify both 'pubkey' and 'pubKey'");
    return b ? b : a;
}

// The request-signature fields (§4.5) as read; load_pk_signature checks and decodes them. The server
// type-checks a method's parameters in alphabetical order, so every method reads pubkey and
// pubkey_ed25519 together (f_pubkeys) and `signature` where its other fields put it (f_signature).
struct AuthFields {
    std::optional<std::string> pk, pk_ed, sig;
};

constexpr bool kPubKeyAlias = true;       // store and retrieve also accept 'pubKey'
constexpr bool kSubaccountFields = true;  // store and retrieve list the subaccount pair after 'signature'

AuthFields f_pubkeys(const json& p, bool alias = false) {
    AuthFields a;
    a.pk = alias ? pubkey_alias(p) : f_string(p, "pubkey");
    a.pk_ed = f_string(p, "pubkey_ed25519");
    return a;
}

// With `subaccount_fields` the types of subaccount and subaccount_sig are checked here, in order;
// the other methods read them only in load_pk_signature, once the signature itself has passed.
void f_signature(const json& p, AuthFields& a, bool subaccount_fields = false) {
    a.sig = f_string(p, "signature");
    if (subaccount_fields) {
        f_string(p, "subaccount");
        f_string(p, "subaccount_sig");
    }
}

// pubkey, pubkey_ed25519, signature: for methods with no field sorting between them.
AuthFields f_auth(const json& p) {
    auto a = f_pubkeys(p);
    f_signature(p, a);
    return a;
}

// §4.3: 66 hex digits = prefix byte + 32-byte key.
std::optional<Account> load_account(const std::string& s) {
    if (s.size() != 66 || !detail::is_hex(s)) return std::nullopt;
    auto raw = from_hex(s);
    if (!raw) return std::nullopt;
    Account a;
    a.prefix = (*raw)[0];
    std::copy(raw->begin() + 1, raw->end(), a.key.begin());
    return a;
}

Account load_pk(const std::optional<std::string>& pk) {
    require("pubkey", pk);
    auto a = load_account(*pk);
    if (!a) throw ParseError("Pubkey must be 66 hex digits (33 bytes) long");
    return *a;
}

// The request-signature fields shared by the authenticated methods.
struct Auth {
    Account account;
    std::optional<ByteArray<32>> pk_ed;
    ByteArray<64> sig{};
    // A subaccount (§4.4): token = [network prefix][flags][00 00][Ed25519 pubkey], signed by the account.
    struct Subaccount {
        ByteArray<36> token{};
        ByteArray<64> sig{};
    };
    std::optional<Subaccount> sub;
};

enum SubaccountFlag : std::uint8_t { kRead = 0x01, kWrite = 0x02, kDelete = 0x04, kAnyPrefix = 0x08 };

// A 36-byte token as base64 (48 characters) or hex (72).
std::optional<ByteArray<36>> load_token(const std::string& s) {
    std::optional<Bytes> raw;
    if (s.size() == 48 && detail::is_base64(s)) {
        auto b = base64_decode(s);
        if (b) raw = std::move(*b);
    } else if (s.size() == 72 && detail::is_hex(s)) {
        auto b = from_hex(s);
        if (b) raw = std::move(*b);
    }
    if (!raw || raw->size() != 36) return std::nullopt;
    ByteArray<36> t{};
    std::copy(raw->begin(), raw->end(), t.begin());
    return t;
}

bool is_signature_b64(const std::string& s) {
    return detail::is_base64(s) && (s.size() == 86 || (s.size() == 88 && s.substr(86) == "=="));
}

Auth load_pk_signature(const json& p, const AuthFields& f) {
    const auto& pk_ed = f.pk_ed;
    Auth a;
    a.account = load_pk(f.pk);
    const std::string& s = require("signature", f.sig);
    if (pk_ed) {
        if (a.account.prefix != 5) throw ParseError("pubkey_ed25519 is only permitted for 05[...] pubkeys");
        if (pk_ed->size() == 64) {
            if (!detail::is_hex(*pk_ed)) throw ParseError("invalid pubkey_ed25519: value is not hex");
            auto b = from_hex(*pk_ed);
            ByteArray<32> k{};
            std::copy(b->begin(), b->end(), k.begin());
            a.pk_ed = k;
        } else if (pk_ed->size() == 32) {
            ByteArray<32> k{};
            std::copy(pk_ed->begin(), pk_ed->end(), k.begin());
            a.pk_ed = k;
        } else {
            throw ParseError("Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey");
        }
    }
    if (!is_signature_b64(s)) throw ParseError("invalid signature: expected base64 encoded Ed25519 signature");
    auto raw = base64_decode(s);
    if (!raw || raw->size() != 64) throw ParseError("invalid signature: expected base64 encoded Ed25519 signature");
    std::copy(raw->begin(), raw->end(), a.sig.begin());

    auto subacc = f_string(p, "subaccount");
    if (subacc && !subacc->empty()) {
        auto subsig = f_string(p, "subaccount_sig");
        if (!subsig) throw ParseError("invalid subaccount: subaccount_sig is required when using subaccount");
        auto token = load_token(*subacc);
        if (!token) throw ParseError("invalid subaccount: expected base64 or hex-encoded subaccount token");
        if (!is_signature_b64(*subsig))
            throw ParseError("invalid subaccount signature: expected base64 encoded Ed25519 signature");
        Auth::Subaccount sub;
        sub.token = *token;
        auto raw = base64_decode(*subsig);
        if (!raw || raw->size() != 64)
            throw ParseError("invalid subaccount signature: expected base64 encoded Ed25519 signature");
        std::copy(raw->begin(), raw->end(), sub.sig.begin());
        a.sub = sub;
    }
    return a;
}

// §4.4: 05 + pubkey_ed25519 → the Ed25519 key must convert to the account's X25519 key;
// otherwise the account bytes themselves are the Ed25519 verification key. With a subaccount the
// token must be unrevoked (`revoked` tells), match the account prefix (unless any-prefix), carry
// `flags`, be signed by the account key, and its key must have signed the request.
bool verify(const Auth& a, std::string_view message, std::uint8_t flags = 0,
            const std::function<bool(const ByteArray<36>&)>& revoked = {}) {
    const std::uint8_t* pk = a.account.key.data();
    if (a.account.prefix == 5 && a.pk_ed) {
        std::uint8_t x[32];
        if (crypto_sign_ed25519_pk_to_curve25519(x, a.pk_ed->data()) != 0 ||
            sodium_memcmp(x, a.account.key.data(), 32) != 0)
            return false;
        pk = a.pk_ed->data();
    }
    if (a.sub) {
        const auto& tok = a.sub->token;
        if (flags == 0) return false;  // this method takes no subaccounts
        if (revoked && revoked(tok)) return false;
        if (!(tok[1] & kAnyPrefix) && tok[0] != a.account.prefix) return false;
        if ((tok[1] & flags) != flags) return false;
        if (crypto_sign_verify_detached(a.sub->sig.data(), tok.data(), tok.size(), pk) != 0) return false;
        pk = tok.data() + 4;
    }
    return crypto_sign_verify_detached(a.sig.data(), reinterpret_cast<const std::uint8_t*>(message.data()),
                                       message.size(), pk) == 0;
}

bool is_valid_message_hash(const std::string& h) { return h.size() == 43 && detail::is_base64(h); }

std::vector<std::string> load_hashes(const std::optional<std::vector<std::string>>& messages, bool check) {
    require("messages", messages);
    if (messages->empty()) throw ParseError("messages does not contain any message hashes");
    if (check)
        for (const auto& m : *messages)
            if (!is_valid_message_hash(m)) throw ParseError("invalid message hash: " + m);
    return *messages;
}

std::string concat(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x;
    return s;
}

// ---- requests ----------------------------------------------------------------------------------

struct StoreReq {
    Account account;
    std::optional<Auth> auth;
    int ns = 0;
    std::int64_t timestamp = 0, expiry = 0, sig_ts = 0;
    Bytes data;
};
struct RetrieveReq {
    Account account;
    std::optional<Auth> auth;
    std::optional<std::int64_t> timestamp;
    int ns = 0;
    std::string last_hash;
    std::optional<std::int64_t> max_count, max_size;
};
struct GetSwarmReq {
    Account account;
};
struct InfoReq {};
struct DeleteReq {
    Auth auth;
    std::vector<std::string> messages;
    bool required = false;
};
struct DeleteAllReq {
    Auth auth;
    std::optional<int> ns;  // nullopt = "all"
    std::int64_t timestamp = 0;
};
struct DeleteBeforeReq {
    Auth auth;
    std::optional<int> ns;
    std::int64_t before = 0;
};
struct ExpireAllReq {
    Auth auth;
    std::optional<int> ns;
    std::int64_t expiry = 0;
};
struct ExpireReq {
    Auth auth;
    std::vector<std::string> messages;
    std::vector<std::int64_t> expiries;
    bool multi = false, shorten = false, extend = false;
};
struct GetExpiriesReq {
    Auth auth;
    std::vector<std::string> messages;
    std::int64_t timestamp = 0;
};
struct RevokeReq {
    Auth auth;
    std::vector<ByteArray<36>> tokens;
    std::int64_t timestamp = 0;
    bool unrevoke = false;
};
struct OxendReq {
    std::string endpoint;
    json params;
};
struct SubRequest {
    std::string method;
    json params;
};
struct BatchReq {
    std::vector<SubRequest> subs;
    bool sequence = false;
};
struct IfElseReq {
    std::optional<std::array<int, 2>> hf_ge, hf_lt;
    std::optional<std::array<int, 3>> v_ge, v_lt;
    std::optional<std::int64_t> height_ge, height_lt;
    std::optional<SubRequest> then_, else_;
};

using Request = std::variant<StoreReq, RetrieveReq, GetSwarmReq, InfoReq, DeleteReq, DeleteAllReq, DeleteBeforeReq,
                             ExpireAllReq, ExpireReq, GetExpiriesReq, RevokeReq, OxendReq, BatchReq, IfElseReq>;

const std::vector<std::string>& known_methods() {
    static const std::vector<std::string> m{"store",       "retrieve",    "get_swarm",    "get_snodes_for_pubkey",
                                            "info",        "delete",      "delete_all",   "delete_before",
                                            "expire",      "expire_all",  "get_expiries", "oxend_request",
                                            "batch",       "sequence",    "ifelse",       "revoke_subaccount",
                                            "unrevoke_subaccount"};
    return m;
}
bool is_known(const std::string& m) {
    const auto& k = known_methods();
    return std::find(k.begin(), k.end(), m) != k.end();
}
bool is_meta(const std::string& m) { return m == "batch" || m == "sequence" || m == "ifelse"; }

// store and retrieve also take unsigned requests (to public namespaces): then only the account.
template <class R>
void load_signer(R& r, const json& p, const AuthFields& f, bool is_signed) {
    if (is_signed) {
        r.auth = load_pk_signature(p, f);
        r.account = r.auth->account;
    } else {
        r.account = load_pk(f.pk);
    }
}

StoreReq parse_store(const json& p) {
    // Type checks in the server's (alphabetical) field order, then the requirements.
    auto data = f_string(p, "data");
    auto expiry = f_timestamp(p, "expiry");
    auto ns = f_namespace(p, "namespace");
    auto auth = f_pubkeys(p, kPubKeyAlias);
    auto sig_ts = f_timestamp(p, "sig_timestamp");
    f_signature(p, auth, kSubaccountFields);
    auto ts = f_stringified(p, "timestamp", true);
    auto ttl = f_stringified(p, "ttl", false);

    StoreReq r;
    r.timestamp = require("timestamp", ts);
    if (expiry && ttl) throw ParseError("Cannot specify both 'expiry' and 'ttl'");
    if (!expiry && !ttl) throw ParseError("Required field 'expiry' or 'ttl' missing");
    // Saturate instead of overflowing: an absurd ttl or timestamp then fails the TTL range check.
    if (expiry) r.expiry = *expiry;
    else if (__builtin_add_overflow(r.timestamp, *ttl, &r.expiry))
        r.expiry = *ttl > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    r.ns = ns.value_or(0);
    load_signer(r, p, auth, auth.sig.has_value());
    if (r.auth) r.sig_ts = sig_ts.value_or(r.timestamp);
    require("data", data);
    if (!detail::is_base64(*data)) throw ParseError("Invalid 'data' value: not base64 encoded");
    if (data->size() > detail::kMaxMessageBytes / 3 * 4)
        throw ParseError("Message body exceeds maximum allowed length of " + std::to_string(detail::kMaxMessageBytes) +
                         " bytes");
    auto raw = base64_decode(*data);
    if (!raw) throw ParseError("Invalid 'data' value: not base64 encoded");
    r.data = std::move(*raw);
    return r;
}

// max_count / max_size: 0 means "not given".
std::optional<std::int64_t> nonzero(std::optional<std::int64_t> v) { return v == 0 ? std::nullopt : v; }

RetrieveReq parse_retrieve(const json& p) {
    auto lastHash = f_string(p, "lastHash");
    auto last_hash = f_string(p, "last_hash");
    auto max_count = f_int(p, "max_count");
    auto max_size = f_int(p, "max_size");
    auto ns = f_namespace(p, "namespace");
    auto auth = f_pubkeys(p, kPubKeyAlias);
    f_signature(p, auth, kSubaccountFields);
    auto ts = f_timestamp(p, "timestamp");

    RetrieveReq r;
    // Authentication mode (§5.4): any auth field, or a namespace that is not a no-auth one.
    load_signer(r, p, auth, auth.pk_ed || auth.sig || ts || (ns && !is_no_auth_retrieve(*ns)));
    if (r.auth) r.timestamp = require("timestamp", ts);
    r.ns = ns.value_or(0);
    if (last_hash && lastHash) throw ParseError("Cannot specify both 'last_hash' and 'lastHash'");
    if (lastHash) last_hash = lastHash;
    if (last_hash && !last_hash->empty()) {
        if (last_hash->size() != 43) throw ParseError("Invalid last_hash: expected base64 (43 chars)");
        if (!detail::is_base64(*last_hash)) throw ParseError("Invalid last_hash: not base64");
        r.last_hash = *last_hash;
    }
    r.max_count = nonzero(max_count);
    r.max_size = nonzero(max_size);
    return r;
}

GetSwarmReq parse_get_swarm(const json& p) {
    auto a = load_account(require("pubkey", pubkey_alias(p)));
    if (!a) throw ParseError("Pubkey must be 66 hex digits/33 bytes long");
    return GetSwarmReq{*a};
}

DeleteReq parse_delete(const json& p) {
    auto messages = f_str_array(p, "messages");
    auto auth = f_pubkeys(p);
    auto required = f_bool(p, "required");
    f_signature(p, auth);
    // Braced initialisers run in order: the signature fields are checked before the hashes.
    return DeleteReq{load_pk_signature(p, auth), load_hashes(messages, true), required.value_or(false)};
}

// delete_all, delete_before and expire_all: {auth, namespace or "all", one timestamp}.
template <class R>
R parse_ns_action(const json& p, const char* time_field) {
    auto t = f_timestamp(p, time_field);
    auto ns = f_namespace_var(p, "namespace");
    auto auth = f_auth(p);
    return R{load_pk_signature(p, auth), ns.value(), require(time_field, t)};
}

ExpireReq parse_expire(const json& p) {
    auto expiry = f_timestamp_array(p, "expiry");
    auto extend = f_bool(p, "extend");
    auto messages = f_str_array(p, "messages");
    auto auth = f_pubkeys(p);
    auto shorten = f_bool(p, "shorten");
    f_signature(p, auth);
    ExpireReq r;
    r.auth = load_pk_signature(p, auth);
    if (require("expiry", expiry).empty()) throw ParseError("'expiry' does not contain any expiration timestamps");
    r.shorten = shorten.value_or(false);
    r.extend = extend.value_or(false);
    if (r.shorten && r.extend) throw ParseError("cannot specify both 'shorten' and 'extend'");
    r.messages = load_hashes(messages, true);
    if (expiry->size() != 1 && expiry->size() != r.messages.size())
        throw ParseError("'expiry' must be a single expiry, or the same length as 'messages'");
    r.expiries = *expiry;
    r.multi = field(p, "expiry")->is_array() && r.messages.size() > 1 && expiry->size() > 1;
    return r;
}

GetExpiriesReq parse_get_expiries(const json& p) {
    auto messages = f_str_array(p, "messages");
    auto auth = f_auth(p);
    auto ts = f_timestamp(p, "timestamp");
    GetExpiriesReq r;
    r.auth = load_pk_signature(p, auth);
    r.timestamp = require("timestamp", ts);
    r.messages = load_hashes(messages, false);
    return r;
}

RevokeReq parse_revoke(const json& p, bool unrevoke) {
    const char* key = unrevoke ? "unrevoke" : "revoke";
    auto auth = f_pubkeys(p);
    auto tokens = f_str_array(p, key);
    f_signature(p, auth);
    auto ts = f_timestamp(p, "timestamp");
    RevokeReq r;
    r.unrevoke = unrevoke;
    r.auth = load_pk_signature(p, auth);
    require(key, tokens);
    r.timestamp = require("timestamp", ts);
    if (!unrevoke && tokens->size() > 50) throw ParseError("invalid revoke: cannot revoke more than 50 subaccounts at once");
    for (const auto& t : *tokens) {
        auto tok = load_token(t);
        if (!tok) throw ParseError(std::string("invalid ") + key + ": expected base64 or hex-encoded subaccount tag");
        r.tokens.push_back(*tok);
    }
    return r;
}

OxendReq parse_oxend(const json& p) {
    OxendReq r;
    r.endpoint = require("endpoint", f_string(p, "endpoint"));
    if (r.endpoint != "get_service_nodes" && r.endpoint != "ons_resolve")
        throw ParseError("Invalid oxend endpoint '" + r.endpoint + "'");
    if (auto v = field(p, "params")) r.params = *v;
    return r;
}

Request parse_request(const std::string& method, const json& params);

BatchReq parse_batch(const json& p, bool sequence) {
    auto it = p.find("requests");
    if (it == p.end() || !it->is_array() || it->empty())
        throw ParseError("Invalid batch request: no valid \"requests\" field");
    if (it->size() > detail::kBatchMax) throw ParseError("Invalid batch request: subrequest limit exceeded");
    BatchReq r;
    r.sequence = sequence;
    for (const auto& j : *it) {
        if (!j.is_object()) throw ParseError("Invalid batch request: requests must be objects");
        auto m = j.find("method");
        auto ps = j.find("params");
        if (m == j.end() || ps == j.end() || !m->is_string() || !ps->is_object())
            throw ParseError("Invalid batch request: subrequests must have method/params keys");
        const auto method = m->get<std::string>();
        if (!is_known(method)) throw ParseError("Invalid batch subrequest: invalid method \"" + method + "\"");
        if (is_meta(method)) throw ParseError("Invalid batch subrequest: subrequests may not contain meta-requests");
        (void)parse_request(method, *ps);  // every sub-request is validated before any runs
        r.subs.push_back(SubRequest{method, *ps});
    }
    return r;
}

template <std::size_t N>
std::optional<std::array<int, N>> f_version(const json& p, const char* name) {
    auto v = field(p, name);
    if (!v) return std::nullopt;
    if (!v->is_array()) bad_type(name, "integer array");
    for (const auto& x : *v)
        if (!x.is_number_integer()) bad_type(name, "integer array");
    if (v->empty()) return std::nullopt;
    std::array<int, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = i < v->size() ? (*v)[i].get<int>() : 0;
    return out;
}

std::optional<SubRequest> load_branch(const json& p, const std::string& key) {
    auto it = p.find(key);
    if (it == p.end()) return std::nullopt;
    if (!it->is_object()) throw ParseError("Invalid ifelse request: " + key + " must be an object");
    auto m = it->find("method");
    auto ps = it->find("params");
    if (m == it->end() || !m->is_string() || ps == it->end())
        throw ParseError("Invalid ifelse request: " + key + " must have method/params keys");
    const auto method = m->get<std::string>();
    if (!is_known(method)) throw ParseError("Invalid ifelse request method \"" + key + "\"");
    (void)parse_request(method, *ps);
    return SubRequest{method, *ps};
}

IfElseReq parse_ifelse(const json& p) {
    auto c = p.find("if");
    if (c == p.end() || !c->is_object()) throw ParseError("Invalid ifelse request: no valid \"if\" field");
    IfElseReq r;
    auto hge = f_int(*c, "height_at_least");
    auto hlt = f_int(*c, "height_before");
    r.hf_ge = f_version<2>(*c, "hf_at_least");
    r.hf_lt = f_version<2>(*c, "hf_before");
    r.v_ge = f_version<3>(*c, "v_at_least");
    r.v_lt = f_version<3>(*c, "v_before");
    r.height_ge = hge;
    r.height_lt = hlt;
    if (!(hge || hlt || r.hf_ge || r.hf_lt || r.v_ge || r.v_lt))
        throw ParseError("Invalid ifelse request: must specify at least one \"if\" condition");
    r.then_ = load_branch(p, "then");
    r.else_ = load_branch(p, "else");
    if (!r.then_ && !r.else_) throw ParseError("Invalid ifelse request: at least one of \"then\"/\"else\" required");
    return r;
}

Request parse_request(const std::string& method, const json& params) {
    if (!params.is_object()) throw ParseError("params must be an object");
    if (method == "store") return parse_store(params);
    if (method == "retrieve") return parse_retrieve(params);
    if (method == "get_swarm" || method == "get_snodes_for_pubkey") return parse_get_swarm(params);
    if (method == "info") return InfoReq{};
    if (method == "delete") return parse_delete(params);
    if (method == "delete_all") return parse_ns_action<DeleteAllReq>(params, "timestamp");
    if (method == "delete_before") return parse_ns_action<DeleteBeforeReq>(params, "before");
    if (method == "expire_all") return parse_ns_action<ExpireAllReq>(params, "expiry");
    if (method == "expire") return parse_expire(params);
    if (method == "get_expiries") return parse_get_expiries(params);
    if (method == "oxend_request") return parse_oxend(params);
    if (method == "revoke_subaccount") return parse_revoke(params, false);
    if (method == "unrevoke_subaccount") return parse_revoke(params, true);
    if (method == "batch") return parse_batch(params, false);
    if (method == "sequence") return parse_batch(params, true);
    if (method == "ifelse") return parse_ifelse(params);
    throw std::logic_error("parse_request: unknown method");
}

// ---- running -------------------------------------------------------------------------------

json hf_json() { return json::array({detail::kHardfork, detail::kSnodeRevision}); }

void add_misc(json& j, std::int64_t now) {
    j["t"] = now;
    j["hf"] = hf_json();
}

struct Runner {
    Network::Impl& net;
    Node& n;
    Network::Impl::Origin origin;
    bool recurse;
    const std::string& method;
    const json& params;
    std::int64_t now;
    const detail::HostileSpec* hostile = nullptr;  // set_hostile, for clients' requests

    bool hostile_is(detail::HostileMode m) const { return hostile && hostile->mode == m; }

    // A forged_swarm node with answer_421 sends every account elsewhere.
    bool for_us(const Account& a) const {
        if (hostile_is(detail::HostileMode::forged_swarm) && hostile->answer_421) return false;
        return net.swarm_for_key(a.key) == n.swarm_id;
    }

    json swarm_answer(const Account& a) const {
        const std::uint64_t swarm = net.swarm_for_key(a.key);
        return hostile_is(detail::HostileMode::forged_swarm) ? net.hostile_swarm(n, *hostile, swarm) : net.swarm_json(swarm);
    }

    Reply wrong_swarm(const Account& a) const {
        json j = swarm_answer(a);
        add_misc(j, now);
        return Reply::js(421, std::move(j));
    }

    std::int64_t tolerance() const { return recurse ? detail::kSignatureTolerance : detail::kForwardedTolerance; }

    std::function<bool(const ByteArray<36>&)> revoked(const Account& a) const {
        return [this, a](const ByteArray<36>& t) { return n.store->is_revoked(a, t); };
    }

    // One swarm peer's answer to a forwarded recursive request (§4.9).
    json call_peer(Node& peer) {
        json failed{{"failed", true}};
        if (!peer.running.load() || !net.reachable_in_process(peer)) {
            if (!peer.running.load()) {
            } else if (Network::Impl::overlap) {
                Network::Impl::overlap->owe(net.opt.peer_timeout.count());
            } else {
                net.sleep_for(net.opt.peer_timeout.count(), &peer);
            }
            failed["timeout"] = true;
            return failed;
        }
        peer.count([](Counters& c) { ++c.replications_received; });
        Reply r = net.handle_method(peer, method, params, Network::Impl::Origin::peer, false);
        if (r.status == 200 && r.is_json()) return r.j();
        failed["code"] = std::to_string(r.status);
        failed["reason"] = r.body_text();
        return failed;
    }

    // Forwards to every other swarm member (in parallel, as the server does), runs `mine` locally,
    // and assembles {"swarm": {ed25519 hex: result}} (+ t/hf on the entry node).
    template <class Mine>
    Reply recursive(Mine&& mine, const std::function<void(json&)>& extras = {}) {
        if (!recurse) return Reply::ok(mine());
        std::vector<std::pair<std::string, std::future<json>>> pending;
        for (Node* peer : net.members(n.swarm_id)) {
            if (peer == &n) continue;
            if (Network::Impl::overlap) {
                // In a batch: nothing here sleeps (the waits are owed), so no thread is needed.
                std::promise<json> now;
                try {
                    now.set_value(call_peer(*peer));
                } catch (const std::exception&) {
                    now.set_value(json{{"failed", true}, {"bad_peer_response", true}});
                }
                pending.emplace_back(peer->ed_hex, now.get_future());
                continue;
            }
            pending.emplace_back(peer->ed_hex, std::async(std::launch::async, [this, peer] {
                                     try {
                                         return call_peer(*peer);
                                     } catch (const std::exception&) {
                                         return json{{"failed", true}, {"bad_peer_response", true}};
                                     }
                                 }));
        }
        json result;
        result["swarm"][n.ed_hex] = mine();
        for (auto& [ed, fut] : pending) result["swarm"][ed] = fut.get();
        if (extras) extras(result);
        add_misc(result, now);
        int status = 500;
        for (const auto& [k, v] : result["swarm"].items())
            if (!v.contains("failed")) status = 200;
        return Reply::js(status, std::move(result));
    }

    // ---- methods ----

    Reply run(StoreReq& r) {
        if (!for_us(r.account)) return wrong_swarm(r.account);
        const std::int64_t ttl = r.expiry - r.timestamp;
        const std::int64_t ttl_max = is_public_inbox(r.ns) ? detail::kTtlMaxPublic : detail::kTtlMax;
        if (ttl < detail::kTtlMin || ttl > ttl_max) return Reply::text(403, "Provided expiry/TTL is not valid.");
        if (r.timestamp > now + detail::kStoreTolerance || r.expiry < now - detail::kStoreTolerance)
            return Reply::text(406, "Timestamp error: check your clock");
        if (!is_public_inbox(r.ns)) {
            if (!r.auth) return Reply::text(401, "store: signature required to store to namespace " + std::to_string(r.ns));
            if (r.sig_ts < now - tolerance() || r.sig_ts > now + tolerance())
                return Reply::text(406, "store signature timestamp too far from current time");
            const std::uint8_t need = is_public_outbox(r.ns) ? (kWrite | kDelete) : kWrite;
            if (!verify(*r.auth, "store" + ns_sig(r.ns) + std::to_string(r.sig_ts), need, revoked(r.account)))
                return Reply::text(401, "store signature verification failed");
        }
        const auto account33 = r.account.bytes();
        const std::string hash = detail::message_hash(account33, r.ns, r.data);
        auto mine = [&]() -> json {
            json m;
            try {
                detail::StoredMessage msg{r.account, hash, r.ns, r.timestamp, r.expiry, r.data};
                auto out = n.store->store(msg, is_public_outbox(r.ns));
                m["hash"] = hash;
                m["signature"] = n.sign_b64(hash);
                m["expiry"] = out.expiry;
                if (!out.is_new) m["already"] = true;
            } catch (const std::exception& e) {
                m = json{{"failed", true}, {"query_failure", true}, {"reason", e.what()}};
            }
            if (recurse) m["t"] = now;
            return m;
        };
        if (hostile_is(detail::HostileMode::fake_confirm)) {
            auto fake = [&](json& res) {
                res["hash"] = hash;
                net.hostile_confirmations(n, *hostile, hash, r.expiry, res["swarm"]);
            };
            if (hostile->drop) {  // confirms what it never stored nor passed on
                json res{{"swarm", json::object()}};
                fake(res);
                add_misc(res, now);
                return Reply::ok(std::move(res));
            }
            return recursive(mine, fake);
        }
        return recursive(mine, [&](json& res) { res["hash"] = hash; });
    }

    Reply run(RetrieveReq& r) {
        if (!for_us(r.account)) return wrong_swarm(r.account);
        if (!is_no_auth_retrieve(r.ns) && !r.auth) return Reply::text(401, "retrieve: request signature required");
        if (r.auth) {
            const std::int64_t ts = *r.timestamp;
            if (ts < now - detail::kSignatureTolerance || ts > now + detail::kSignatureTolerance)
                return Reply::text(406, "retrieve timestamp too far from current time");
            // Revoked subaccounts may still read "unrevocable" namespaces (−11, −111, …).
            const bool unrevocable = r.ns < 0 && (-r.ns) % 100 == 11;
            if (!verify(*r.auth, "retrieve" + ns_sig(r.ns) + std::to_string(ts), kRead,
                        unrevocable ? std::function<bool(const ByteArray<36>&)>{} : revoked(r.account)))
                return Reply::text(401, "retrieve signature verification failed");
        }
        // Limits (§5.4): neither given → max_size −5; negative −k → 7.8 MB / k; capped at 7.8 MB.
        std::optional<std::int64_t> max_size = r.max_size;
        if (!r.max_count && !max_size) max_size = -5;
        std::int64_t size_limit = detail::kRetrieveMaxSize;
        if (max_size) {
            if (*max_size < 0) size_limit = detail::kRetrieveMaxSize / -*max_size;
            else size_limit = std::min(*max_size, detail::kRetrieveMaxSize);
        }
        auto page = n.store->retrieve(r.account, r.ns, r.last_hash, r.max_count, size_limit);
        json messages = json::array();
        for (const auto& m : page.messages)
            messages.push_back(json{{"hash", m.hash},
                                    {"timestamp", m.timestamp},
                                    {"expiration", m.expiry},
                                    {"data", base64_encode(m.data)}});
        bool more = page.more;
        if (hostile) net.hostile_retrieve(n, *hostile, r.account, r.ns, messages, more);
        json res{{"messages", std::move(messages)}, {"more", more}};
        add_misc(res, now);
        return Reply::ok(std::move(res));
    }

    Reply run(GetSwarmReq& r) {
        json j = swarm_answer(r.account);
        add_misc(j, now);
        return Reply::ok(std::move(j));
    }

    Reply run(InfoReq&) {
        json j{{"version", detail::version_triple()}, {"timestamp", now}};
        add_misc(j, now);
        return Reply::ok(std::move(j));
    }

    Reply run(DeleteReq& r) {
        const Account& a = r.auth.account;
        if (!for_us(a)) return wrong_swarm(a);
        if (!verify(r.auth, "delete" + concat(r.messages), kDelete, revoked(a)))
            return Reply::text(401, "delete_msgs signature verification failed");
        auto mine = [&]() -> json {
            auto deleted = n.store->delete_hashes(a, r.messages);
            std::sort(deleted.begin(), deleted.end());
            json m;
            m["signature"] = n.sign_b64(a.hex() + concat(r.messages) + concat(deleted));
            m["deleted"] = deleted;
            return m;
        };
        Reply rep = recursive(mine);
        if (r.required && recurse && rep.status == 200 && rep.is_json()) {
            bool any = false;
            for (const auto& [k, v] : rep.j().at("swarm").items())
                if (v.contains("deleted") && !v["deleted"].empty()) any = true;
            if (!any) rep.status = 404;
        }
        return rep;
    }

    // Sorted hashes for one namespace, or {ns: [...]} for "all" with a totally sorted signature.
    json ns_result(const char* key, std::vector<std::pair<int, std::string>> affected, bool all,
                   const std::string& sig_prefix) {
        std::sort(affected.begin(), affected.end(), [](auto& x, auto& y) { return x.second < y.second; });
        std::string sig_msg = sig_prefix;
        for (auto& [ns, h] : affected) sig_msg += h;
        json m;
        m["signature"] = n.sign_b64(sig_msg);
        if (all) {
            json by_ns = json::object();
            for (auto& [ns, h] : affected) by_ns[std::to_string(ns)].push_back(h);
            m[key] = by_ns;
        } else {
            json list = json::array();
            for (auto& [ns, h] : affected) list.push_back(h);
            m[key] = list;
        }
        return m;
    }

    Reply run(DeleteAllReq& r) {
        const Account& a = r.auth.account;
        if (!for_us(a)) return wrong_swarm(a);
        if (r.timestamp < now - tolerance() || r.timestamp > now + tolerance())
            return Reply::text(406, "delete_all timestamp too far from current time");
        if (!verify(r.auth, "delete_all" + ns_sig(r.ns) + std::to_string(r.timestamp), kDelete, revoked(a)))
            return Reply::text(401, "delete_all signature verification failed");
        return recursive([&] {
            return ns_result("deleted", n.store->delete_all(a, r.ns), !r.ns, a.hex() + std::to_string(r.timestamp));
        });
    }

    Reply run(DeleteBeforeReq& r) {
        const Account& a = r.auth.account;
        if (!for_us(a)) return wrong_swarm(a);
        if (r.before > now + detail::kSignatureTolerance)
            return Reply::text(401, "delete_before timestamp too far in the future");
        if (!verify(r.auth, "delete_before" + ns_sig(r.ns) + std::to_string(r.before), kDelete, revoked(a)))
            return Reply::text(401, "delete_before signature verification failed");
        return recursive([&] {
            return ns_result("deleted", n.store->delete_all(a, r.ns, r.before), !r.ns, a.hex() + std::to_string(r.before));
        });
    }

    Reply run(ExpireAllReq& r) {
        const Account& a = r.auth.account;
        if (!for_us(a)) return wrong_swarm(a);
        if (r.expiry < now - tolerance()) return Reply::text(406, "expire_all timestamp should be >= current time");
        if (!verify(r.auth, "expire_all" + ns_sig(r.ns) + std::to_string(r.expiry), kDelete, revoked(a)))
            return Reply::text(401, "expire_all signature verification failed");
        return recursive([&] {
            return ns_result("updated", n.store->expire_all(a, r.ns, r.expiry), !r.ns, a.hex() + std::to_string(r.expiry));
        });
    }

    Reply run(ExpireReq& r) {
        const Account& a = r.auth.account;
        if (!for_us(a)) return wrong_swarm(a);
        for (auto e : r.expiries)
            if (e < now - detail::kSignatureTolerance) return Reply::text(401, "expire: timestamp should be >= current time");
        std::vector<std::int64_t> clamped = r.expiries;
        for (auto& e : clamped) e = std::min(e, now + detail::kMaxExpiryAhead);
        std::string sig_msg = "expire";
        if (r.shorten) sig_msg += "shorten";
        if (r.extend) sig_msg += "extend";
        for (auto e : r.expiries) sig_msg += std::to_string(e);
        sig_msg += concat(r.messages);
        if (!verify(r.auth, sig_msg, kWrite, revoked(a))) return Reply::text(401, "expire: signature verification failed");
        auto mode = r.shorten ? detail::ExpireMode::shorten
                              : r.extend ? detail::ExpireMode::extend : detail::ExpireMode::set;
        if (r.auth.sub && !(r.auth.sub->token[1] & kDelete)) {
            // Without delete access a subaccount may only lengthen expiries.
            if (r.shorten)
                return Reply::text(400, "expire: shorten parameter cannot be used with this subaccount token (missing delete access)");
            mode = detail::ExpireMode::extend;
        }
        return recursive([&] {
            auto out = n.store->expire(a, r.messages, clamped, mode);
            std::sort(out.updated.begin(), out.updated.end());
            std::vector<std::string> updated;
            json applied = json::array();
            std::string expiry_part;
            for (auto& [h, e] : out.updated) {
                updated.push_back(h);
                applied.push_back(e);
                if (r.multi) expiry_part += std::to_string(e);
            }
            if (!r.multi) expiry_part = std::to_string(clamped[0]);
            std::string msg = a.hex() + expiry_part + concat(r.messages) + concat(updated);
            json m;
            m["updated"] = updated;
            m["expiry"] = r.multi ? applied : json(clamped[0]);
            if (r.shorten || r.extend) {
                json unchanged = json::object();
                for (auto& [h, e] : out.unchanged) {
                    unchanged[h] = e;
                    msg += h + std::to_string(e);
                }
                m["unchanged"] = unchanged;
            }
            m["signature"] = n.sign_b64(msg);
            return m;
        });
    }

    Reply run(GetExpiriesReq& r) {
        const Account& a = r.auth.account;
        if (!for_us(a)) return wrong_swarm(a);
        if (r.timestamp < now - detail::kSignatureTolerance || r.timestamp > now + detail::kSignatureTolerance)
            return Reply::text(406, "get_expiries timestamp too far from current time");
        if (!verify(r.auth, "get_expiries" + std::to_string(r.timestamp) + concat(r.messages), kRead, revoked(a)))
            return Reply::text(401, "get_expiries signature verification failed");
        json exp = json::object();
        for (auto& [h, e] : n.store->get_expiries(a, r.messages)) exp[h] = e;
        return Reply::ok(json{{"expiries", exp}});
    }

    Reply run(RevokeReq& r) {
        const Account& a = r.auth.account;
        const std::string name = r.unrevoke ? "unrevoke_subaccount" : "revoke_subaccount";
        if (!for_us(a)) return wrong_swarm(a);
        if (r.timestamp < now - tolerance() || r.timestamp > now + tolerance())
            return Reply::text(406, name + " timestamp too far from current time");
        std::string tokens;
        for (const auto& t : r.tokens) tokens.append(reinterpret_cast<const char*>(t.data()), t.size());
        if (!verify(r.auth, name + std::to_string(r.timestamp) + tokens))  // main key only
            return Reply::text(401, name + " signature verification failed");
        return recursive([&] {
            json m;
            if (r.unrevoke) m["count"] = n.store->unrevoke(a, r.tokens);
            else n.store->revoke(a, r.tokens);
            m["signature"] = n.sign_b64(a.hex() + std::to_string(r.timestamp) + tokens);
            return m;
        });
    }

    Reply run(OxendReq& r) {
        json result = r.endpoint == "get_service_nodes" ? net.service_nodes_result(r.params) : json::object();
        json j{{"result", std::move(result)}};
        add_misc(j, now);
        return Reply::ok(std::move(j));
    }

    static json sub_result(const Reply& rep) {
        json j{{"code", rep.status}};
        if (rep.is_json()) j["body"] = rep.j();
        else j["body"] = std::get<1>(rep.body);
        return j;
    }

    Reply run(BatchReq& r) {
        json results = json::array();
        // `batch` runs its sub-requests at once (§5.13), `sequence` one after the other: here both
        // run in order on this thread, and a batch's waits overlap (Network::Impl::Overlap).
        Network::Impl::Overlap waits;
        struct Scope {
            Network::Impl::Overlap* outer;
            ~Scope() { Network::Impl::overlap = outer; }
        } scope{Network::Impl::overlap};
        if (!r.sequence && !scope.outer) Network::Impl::overlap = &waits;
        for (const auto& s : r.subs) {
            Reply rep = net.handle_method(n, s.method, s.params, origin, true);
            results.push_back(sub_result(rep));
            if (r.sequence && (rep.status < 200 || rep.status > 299)) break;
        }
        Network::Impl::overlap = scope.outer;
        net.sleep_for(waits.owed_ms, &n);
        return Reply::ok(json{{"results", std::move(results)}});
    }

    Reply run(IfElseReq& r) {
        const std::array<int, 2> hf{detail::kHardfork, detail::kSnodeRevision};
        auto vt = detail::version_triple();
        const std::array<int, 3> v{vt.at(0), vt.at(1), vt.at(2)};
        const std::int64_t height = detail::block_height();
        bool cond = true;
        if (r.hf_ge) cond &= hf >= *r.hf_ge;
        if (r.hf_lt) cond &= hf < *r.hf_lt;
        if (r.v_ge) cond &= v >= *r.v_ge;
        if (r.v_lt) cond &= v < *r.v_lt;
        if (r.height_ge) cond &= height >= *r.height_ge;
        if (r.height_lt) cond &= height < *r.height_lt;
        json j{{"hf", hf_json()}, {"v", vt}, {"height", height}, {"condition", cond}};
        const auto& branch = cond ? r.then_ : r.else_;
        if (branch) j["result"] = sub_result(net.handle_method(n, branch->method, branch->params, origin, true));
        return Reply::ok(std::move(j));
    }
};

}  // namespace

Reply Network::Impl::handle_method(Node& n, const std::string& method, const json& params, Origin origin,
                                   bool recurse) {
    if (origin != Origin::peer) n.count([&](Counters& c) { ++c.methods[method]; });
    if (!is_known(method)) return Reply::text(400, "no method " + method);
    // A hostile node (set_hostile) attacks its clients only; its swarm peers see an honest node.
    const auto hostile = origin == Origin::peer ? nullptr : n.hostile_spec();
    if (hostile)
        if (auto r = hostile_replace(n, *hostile, method)) return std::move(*r);
    Reply rep = [&] {
        try {
            Request req = parse_request(method, params);
            Runner runner{*this, n, origin, recurse, method, params, now(n), hostile.get()};
            return std::visit([&](auto& r) { return runner.run(r); }, req);
        } catch (const ParseError& e) {
            return Reply::text(400, std::string("invalid request: ") + e.what());
        } catch (const std::exception&) {
            return Reply::text(500, "request failed");
        }
    }();
    if (hostile) hostile_alter(n, *hostile, method, rep);
    return rep;
}

Reply Network::Impl::handle_client_body(Node& n, std::string_view body, Origin origin) {
    auto parsed = detail::parse_json(body);  // depth-checked: params are copied below (batch, oxend)
    if (!parsed) return Reply::text(400, "invalid json");
    const json& j = *parsed;
    if (!j.is_object()) return Reply::text(400, "invalid json: no `method` field");
    auto m = j.find("method");
    if (m == j.end() || !m->is_string()) return Reply::text(400, "invalid json: no `method` field");
    auto p = j.find("params");
    if (p == j.end() || !p->is_object()) return Reply::text(400, "invalid json: no `params` field");
    std::shared_lock moving(account_moves);
    return handle_method(n, m->get<std::string>(), *p, origin, true);
}

}  // namespace session::localnet
