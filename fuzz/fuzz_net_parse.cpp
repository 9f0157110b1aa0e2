// fuzz_net_parse.cpp: what the client parses from nodes and seeds it has not authenticated beyond
// TLS: seed replies (get_n_service_nodes), oxend_request replies through a snode, get_swarm / 421
// bodies, the "t" timestamp, a relay's "Next node not found" 502 body, the pool cache file line
// (src/network/parse.hpp), and a retrieve answer (retrieve::parse_response).
// The first input byte picks the parser; the rest is the body.
//   every failure        -> net_bad_response / net_config (net_parse) or retrieve_bad_response;
//   parse_pool_line ok   -> pool_line(node) parses back to the same node;
//   parse_response ok    -> every hash is 43 characters, every timestamp and expiry non-negative.
// Seeds: fuzz/corpus/net_parse/.
// fuzz-requires: network retrieve
#include "network/parse.hpp"

#include <algorithm>

#include "fuzz_common.hpp"
#include "session/retrieve.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using session::Errc;
    namespace nd = session::network::detail;
    if (size == 0) return 0;
    const std::string_view body = fuzz::as_text(data + 1, size - 1);
    auto net_error = [](const session::Error& e) {
        FUZZ_CHECK(fuzz::error_in(e, {Errc::net_bad_response, Errc::net_config}), "net_parse: undocumented error code");
    };
    switch (data[0] % 10) {
        case 0:
            if (auto r = nd::parse_seed_reply(body); !r) net_error(r.error());
            break;
        case 1:
            if (auto r = nd::parse_oxend_reply(body); !r) net_error(r.error());
            break;
        case 2:
            if (auto r = nd::parse_swarm_reply(body); !r) net_error(r.error());
            break;
        case 3:
            (void)nd::find_timestamp(body);
            (void)nd::next_node_not_found(body);
            break;
        case 4: {
            auto n = nd::parse_pool_line(body);
            if (!n) {
                net_error(n.error());
                break;
            }
            auto again = nd::parse_pool_line(nd::pool_line(*n));
            FUZZ_CHECK(again.has_value(), "pool_line of a parsed node does not parse");
            FUZZ_CHECK(nd::pool_line(*again) == nd::pool_line(*n), "pool line round trip changed the node");
            break;
        }
        case 7: {
            session::network::Snode entry;
            entry.ip = "127.0.0.1";
            entry.https_port = 1;
            const std::vector<session::network::Snode> members{entry};
            auto r = nd::parse_store_reply(body, "0123456789012345678901234567890123456789012", entry, members);
            if (!r) {
                net_error(r.error());
                break;
            }
            FUZZ_CHECK(r->nodes.size() <= nd::kMaxSwarmEntries, "read more store entries than the limit");
            for (const auto& n : r->nodes) {
                FUZZ_CHECK(!n.ok || (n.node == entry.keys.ed25519 && n.signature_valid), "a non-member or unsigned entry counted");
                FUZZ_CHECK(n.failure.size() <= 2 * nd::kQuoteBytes + 64, "an unbounded failure text");
                FUZZ_CHECK(std::none_of(n.failure.begin(), n.failure.end(), [](char c) { return c >= 0 && c < 0x20; }),
                           "a control character in a failure text");
            }
            break;
        }
        case 8: {
            session::network::Snode from;
            auto r = nd::parse_info_reply(body, from);
            if (!r) {
                net_error(r.error());
                break;
            }
            FUZZ_CHECK(r->version.size() <= nd::kMaxVersionParts && r->hardfork.size() <= nd::kMaxVersionParts,
                       "read more version parts than the limit");
            break;
        }
        case 9:
            if (auto f = nd::uniform_batch_failure(body))
                FUZZ_CHECK(f->status >= 0 && f->status <= 999 && (f->status < 200 || f->status >= 300),
                           "a uniform batch failure with a 2xx or out-of-range status");
            break;
        default: {
            auto page = session::retrieve::parse_response(body);
            if (!page) {
                FUZZ_CHECK(fuzz::error_in(page.error(), {Errc::retrieve_bad_response}),
                           "retrieve::parse_response: undocumented error code");
                break;
            }
            for (const auto& m : page->messages) {
                FUZZ_CHECK(m.hash.size() == 43, "accepted a hash that is not 43 characters");
                FUZZ_CHECK(m.timestamp_ms >= 0 && m.expiry_ms >= 0, "accepted a negative timestamp or expiry");
            }
            break;
        }
    }
    return 0;
}
