// fuzz_proto_content.cpp: session::proto::Content::decode on arbitrary bytes, with the round-trip
// property of fuzz_proto.hpp. Seeds: fuzz/corpus/proto_content/.
// fuzz-requires: proto_wire
#include "fuzz_proto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::proto_round_trip<session::proto::Content>(data, size);
    return 0;
}
