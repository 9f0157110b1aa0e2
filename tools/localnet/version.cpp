// The local network's version string (also reported by its info endpoint as the storage version).
namespace session::localnet {
const char* version() { return "2.11.0"; }
}  // namespace session::localnet
