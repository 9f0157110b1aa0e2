// message_verbs.cpp: `session-cli seal` and `session-cli open` (offline). Waiting for envelope.hpp.
#include "cli.hpp"
namespace session::cli {
int cmd_seal(const Args& a) { report(a.verb + ": not implemented yet (needs the envelope module)"); return kInternal; }
int cmd_open(const Args& a) { report(a.verb + ": not implemented yet (needs the envelope module)"); return kInternal; }
}  // namespace session::cli
