// fuzz_proto_envelope.cpp: session::proto::Envelope::decode on arbitrary bytes, with the round-trip
// property of fuzz_proto.hpp. Seeds: fuzz/corpus/proto_envelope/.
// fuzz-requires: proto_wire
#include "fuzz_proto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::proto_round_trip<session::proto::Envelope>(data, size);
    return 0;
}
