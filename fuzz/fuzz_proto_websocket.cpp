// fuzz_proto_websocket.cpp: session::proto::WebSocketMessage::decode on arbitrary bytes, with the round-trip
// property of fuzz_proto.hpp. Seeds: fuzz/corpus/proto_websocket/.
// fuzz-requires: proto_wire
#include "fuzz_proto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::proto_round_trip<session::proto::WebSocketMessage>(data, size);
    return 0;
}
