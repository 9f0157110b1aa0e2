#pragma once
// detail/handle.hpp: one owner per C handle (STYLE.md §6). `Deleter<Free>` lets std::unique_ptr
// release an OpenSSL, libcurl or libsodium-adjacent handle with that library's own free function,
// so every early return frees it and a moved-from owner frees nothing:
//
//   using CipherCtx = Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
//   CipherCtx ctx{EVP_CIPHER_CTX_new()};
//   if (!ctx) return unexpected(...);          // a null handle is never passed to Free
//
// Private to the library and its tools (not installed).
#include <memory>

namespace session::detail {

/// Calls `Free(p)`; std::unique_ptr never calls a deleter with a null pointer.
template <auto Free>
struct Deleter {
    void operator()(auto* p) const noexcept { Free(p); }
};

/// A unique_ptr owning a `T*` released by `Free`.
template <class T, auto Free>
using Handle = std::unique_ptr<T, Deleter<Free>>;

}  // namespace session::detail
