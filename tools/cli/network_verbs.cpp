// network_verbs.cpp: `session-cli send`, `receive`, `watch`. Waiting for client.hpp.
#include "cli.hpp"
namespace session::cli {
static int pending(const Args& a) { report(a.verb + ": not implemented yet (needs the Client module)"); return kInternal; }
int cmd_send(const Args& a) { return pending(a); }
int cmd_receive(const Args& a) { return pending(a); }
int cmd_watch(const Args& a) { return pending(a); }
}  // namespace session::cli
