// tls.cpp: the local network's certificate authority. Real storage nodes present self-signed
// RSA-2048 certificates unrelated to their keys (storage-server.md §9) and clients do not verify
// them; the local network instead issues EC P-256 certificates from one CA, each with an IP SAN,
// so a client that does verify (with the CA from the network file) succeeds too. P-256 keys are
// generated in well under a millisecond, which keeps start-up fast.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "localnet/internal.hpp"

namespace session::localnet::detail {
namespace {

constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;

std::string openssl_error(const char* what) {
    unsigned long e = ERR_get_error();
    char buf[256] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string("localnet: ") + what + (e ? std::string(": ") + buf : std::string());
}

PkeyPtr ec_key() { return PkeyPtr(EVP_EC_gen("P-256")); }

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

// A fresh random 127-bit serial, so re-issued certificates never collide.
bool set_serial(X509* cert) {
    BIGNUM* bn = BN_new();
    if (!bn) return false;
    bool ok = BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
    BN_free(bn);
    return ok;
}

bool set_name(X509* cert, const std::string& cn, bool issuer_too) {
    X509_NAME* name = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("session-localnet"),
                                   -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                   -1, 0) != 1)
        return false;
    return !issuer_too || X509_set_issuer_name(cert, name) == 1;
}

}  // namespace

Result<Authority> make_authority() {
    Authority a;
    a.ca.key = ec_key();
    a.ca.cert.reset(X509_new());
    if (!a.ca.key || !a.ca.cert) return unexpected(Errc::net_init, openssl_error("CA key generation failed"));
    X509* c = a.ca.cert.get();
    if (X509_set_version(c, 2) != 1 || !set_serial(c) || !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(c), kValiditySeconds) || X509_set_pubkey(c, a.ca.key.get()) != 1 ||
        !set_name(c, "session-localnet CA", true) || !add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(c, c, NID_subject_key_identifier, "hash") ||
        X509_sign(c, a.ca.key.get(), EVP_sha256()) <= 0)
        return unexpected(Errc::net_init, openssl_error("CA certificate failed"));
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_X509(bio, c) != 1) {
        BIO_free(bio);
        return unexpected(Errc::net_init, openssl_error("CA PEM encoding failed"));
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    a.ca_pem.assign(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return a;
}

Result<Certificate> issue_certificate(const Authority& ca, const std::string& ip) {
    Certificate leaf;
    leaf.key = ec_key();
    leaf.cert.reset(X509_new());
    if (!leaf.key || !leaf.cert) return unexpected(Errc::net_init, openssl_error("key generation failed"));
    X509* c = leaf.cert.get();
    const std::string san = "IP:" + ip;
    if (X509_set_version(c, 2) != 1 || !set_serial(c) || !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(c), kValiditySeconds) || X509_set_pubkey(c, leaf.key.get()) != 1 ||
        !set_name(c, ip, false) || X509_set_issuer_name(c, X509_get_subject_name(ca.ca.cert.get())) != 1 ||
        !add_ext(c, ca.ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(c, ca.ca.cert.get(), NID_key_usage, "critical,digitalSignature,keyAgreement") ||
        !add_ext(c, ca.ca.cert.get(), NID_ext_key_usage, "serverAuth") ||
        !add_ext(c, ca.ca.cert.get(), NID_subject_alt_name, san.c_str()) ||
        !add_ext(c, ca.ca.cert.get(), NID_authority_key_identifier, "keyid:always") ||
        X509_sign(c, ca.ca.key.get(), EVP_sha256()) <= 0)
        return unexpected(Errc::net_init, openssl_error(("certificate for " + ip + " failed").c_str()));
    return leaf;
}

}  // namespace session::localnet::detail
