// onion.cpp: Session onion requests (see include/session/onion.hpp). Work in progress: the
// enc-type helpers are here; the rest follows.
#include "session/onion.hpp"

namespace session::onion {

std::string_view to_string(EncType t) noexcept {
    return t == EncType::xchacha20 ? "xchacha20" : "aes-gcm";
}

Result<EncType> parse_enc_type(std::string_view s) {
    if (s == "aes-gcm" || s == "gcm") return EncType::aes_gcm;
    if (s == "xchacha20" || s == "xchacha20-poly1305") return EncType::xchacha20;
    if (s == "aes-cbc" || s == "cbc")
        return unexpected(Errc::onion_bad_enc_type, "onion: enc_type: aes-cbc is not supported (unauthenticated)");
    return unexpected(Errc::onion_bad_enc_type, "onion: enc_type: expected aes-gcm or xchacha20, got \"" +
                                                    std::string(s.substr(0, 32)) + "\"");
}

std::size_t overhead(EncType t) noexcept { return nonce_size(t) + kTagBytes; }
std::size_t nonce_size(EncType t) noexcept { return t == EncType::xchacha20 ? kXChaChaNonceBytes : kGcmIvBytes; }

}  // namespace session::onion
