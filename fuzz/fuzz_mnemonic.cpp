// fuzz_mnemonic.cpp: session::mnemonic::decode on arbitrary text.
//   rejected -> one of the three documented mnemonic errors;
//   accepted -> encode(seed) decodes to the same seed (13 canonical words).
// Seeds: fuzz/corpus/mnemonic/ (real phrases, wrong counts, a bad checksum, mixed case, tabs).
// fuzz-requires: mnemonic
#include "fuzz_common.hpp"
#include "session/mnemonic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using session::Errc;
    auto seed = session::mnemonic::decode(fuzz::as_text(data, size));
    if (!seed) {
        FUZZ_CHECK(fuzz::error_in(seed.error(), {Errc::mnemonic_word_count, Errc::mnemonic_unknown_word,
                                                 Errc::mnemonic_bad_checksum, Errc::mnemonic_overflow}),
                   "mnemonic::decode failed with an undocumented error code");
        return 0;
    }
    const session::SecretBuffer phrase = session::mnemonic::encode(*seed);
    auto again = session::mnemonic::decode(phrase.view());
    FUZZ_CHECK(again.has_value(), "the phrase encode() produced does not decode");
    FUZZ_CHECK(again->equal_ct(*seed), "decode(encode(seed)) != seed");
    return 0;
}
