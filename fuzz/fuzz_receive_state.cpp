// fuzz_receive_state.cpp: detail::parse_receive_state, the Client's state file (ClientOptions::
// state_path). The file is local, but it may be damaged (a crash of another tool, a full disk, a
// hand edit), so every input must end in a state or an invalid_argument, never a crash:
//   accepted -> dump_receive_state and parse again give the same state (nothing is lost or altered
//               by a save/load cycle), and every hash in it is 43 characters.
// Seeds: fuzz/corpus/receive_state/ (a first-run file, one with delivered items and cursors).
// fuzz-requires: receive_state
#include "detail/receive_state.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace detail = session::detail;
    auto st = detail::parse_receive_state(fuzz::as_text(data, size), "fuzz.state");
    if (!st) {
        FUZZ_CHECK(fuzz::error_in(st.error(), {session::Errc::invalid_argument}), "state: undocumented error code");
        return 0;
    }
    for (const auto& d : st->delivered) FUZZ_CHECK(d.hash.size() == 43, "state: accepted a short hash");
    auto again = detail::parse_receive_state(detail::dump_receive_state(*st), "fuzz.state");
    FUZZ_CHECK(again.has_value(), "state: a dumped state does not parse");
    FUZZ_CHECK(again->account == st->account && again->next_seq == st->next_seq && again->latest == st->latest,
               "state: scalars changed by dump/parse");
    FUZZ_CHECK(again->delivered.size() == st->delivered.size() && again->cursors.size() == st->cursors.size(),
               "state: items changed by dump/parse");
    for (std::size_t i = 0; i < st->delivered.size(); ++i)
        FUZZ_CHECK(again->delivered[i].hash == st->delivered[i].hash && again->delivered[i].seq == st->delivered[i].seq &&
                       again->delivered[i].expiry_ms == st->delivered[i].expiry_ms,
                   "state: a delivered item changed by dump/parse");
    for (std::size_t i = 0; i < st->cursors.size(); ++i)
        FUZZ_CHECK(again->cursors[i].last_hash == st->cursors[i].last_hash &&
                       again->cursors[i].base == st->cursors[i].base && again->cursors[i].nodes == st->cursors[i].nodes,
                   "state: a cursor changed by dump/parse");
    return 0;
}
