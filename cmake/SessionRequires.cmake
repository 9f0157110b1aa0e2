# cmake/SessionRequires.cmake: the "// <kind>-requires: <module> ..." line of bench/ and fuzz/ sources.
#
# A benchmark or fuzz harness names the modules it needs on one line (`// bench-requires: keys onion`,
# `// fuzz-requires: localnet onion`). Its directory skips a target whose modules are not in the tree
# yet, so those builds work while modules are still landing.
#
#   session_missing_modules(<source> <kind> <requires_var> <missing_var>)
#     <requires_var>  the modules the line names (empty without such a line)
#     <missing_var>   the ones not present (empty: the target can be built)
#
# A module is present once both its header and its source exist: include/session/<m>.hpp with
# src/<m>.cpp, or src/detail/<m>.hpp with src/detail/<m>.cpp; "localnet" needs
# tools/localnet/localnet.hpp and the session-localnet-lib target (SESSION_BUILD_LOCALNET=ON).
function(session_missing_modules src kind requires_var missing_var)
  file(STRINGS ${src} requires_line REGEX "^// ${kind}-requires:")
  set(requires "")
  set(missing "")
  if(requires_line)
    string(REGEX REPLACE "^// ${kind}-requires:[ ]*" "" requires "${requires_line}")
    separate_arguments(requires)
    set(root ${PROJECT_SOURCE_DIR})
    foreach(mod ${requires})
      if(NOT (EXISTS ${root}/include/session/${mod}.hpp AND EXISTS ${root}/src/${mod}.cpp)
         AND NOT (EXISTS ${root}/src/detail/${mod}.hpp AND EXISTS ${root}/src/detail/${mod}.cpp)
         AND NOT (mod STREQUAL "localnet" AND EXISTS ${root}/tools/localnet/localnet.hpp))
        list(APPEND missing ${mod})
      endif()
      if(mod STREQUAL "localnet" AND NOT TARGET session-localnet-lib)
        list(APPEND missing "session-localnet-lib(SESSION_BUILD_LOCALNET=OFF)")
      endif()
    endforeach()
  endif()
  set(${requires_var} "${requires}" PARENT_SCOPE)
  set(${missing_var} "${missing}" PARENT_SCOPE)
endfunction()
