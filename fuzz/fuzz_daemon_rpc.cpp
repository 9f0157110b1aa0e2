// fuzz_daemon_rpc.cpp: detail::jsonrpc::parse_request, every line a program writes to the daemon's
// socket (or POSTs over HTTP). Every input must end in a Request or an RpcError with a JSON-RPC
// code, never a crash or an exception; an accepted request has an object as params and a method
// of 1..64 characters, and its response lines parse as JSON.
// fuzz-requires: jsonrpc
#include "detail/jsonrpc.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace rpc = session::detail::jsonrpc;
    const auto text = fuzz::as_text(data, size);
    auto r = rpc::parse_request(text);
    if (auto* e = std::get_if<rpc::RpcError>(&r)) {
        FUZZ_CHECK(e->code == rpc::kParseError || e->code == rpc::kInvalidRequest || e->code == rpc::kInvalidParams,
                   "rpc: undocumented error code");
        auto line = rpc::error_line(e->id, e->code, e->message);
        FUZZ_CHECK(!nlohmann::json::parse(line, nullptr, false).is_discarded(), "rpc: error line is not JSON");
        return 0;
    }
    const auto& req = std::get<rpc::Request>(r);
    FUZZ_CHECK(req.params.is_object(), "rpc: params not an object");
    FUZZ_CHECK(!req.method.empty() && req.method.size() <= rpc::kMaxMethodChars, "rpc: method length");
    auto line = rpc::result_line(req.id, req.params);
    FUZZ_CHECK(!nlohmann::json::parse(line, nullptr, false).is_discarded(), "rpc: result line is not JSON");
    return 0;
}
