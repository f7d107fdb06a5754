# The memory allocator linked into the qcc executable.
#
# QCC allocates and frees many small blocks per request (header fields, coroutine frames, the
# request-log row a worker hands to the writer thread, which frees it). Under a long load glibc's
# malloc keeps growing QCC's resident memory (0.6–1.2 MiB a minute at 1,000 clients) and costs
# about a fifth of a worker's user time; tcmalloc (gperftools' "minimal" build: the allocator without
# the profilers) stays flat and is a little faster. docs/performance.md has the measurements.
#
# QCC_ALLOCATOR: "auto" (default: tcmalloc when installed, else the C library's malloc, said at
# configure time), "tcmalloc" (required), "system". Sanitizer and fuzz builds always use the
# C library's malloc: the sanitizers bring their own allocator.
set(QCC_ALLOCATOR "auto" CACHE STRING "Memory allocator for the qcc executable: auto, tcmalloc, system")
set_property(CACHE QCC_ALLOCATOR PROPERTY STRINGS auto tcmalloc system)

function(qcc_link_allocator target)
  if(QCC_SANITIZE OR QCC_TSAN OR QCC_FUZZ OR QCC_ALLOCATOR STREQUAL "system")
    message(STATUS "qcc allocator: the C library's malloc")
    return()
  endif()
  if(NOT QCC_ALLOCATOR MATCHES "^(auto|tcmalloc)$")
    message(FATAL_ERROR "QCC_ALLOCATOR must be auto, tcmalloc or system (got '${QCC_ALLOCATOR}')")
  endif()
  # The runtime package (Debian: libtcmalloc-minimal4) is enough: no development package needed.
  find_library(QCC_TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)
  if(NOT QCC_TCMALLOC_LIBRARY)
    if(QCC_ALLOCATOR STREQUAL "tcmalloc")
      message(FATAL_ERROR "QCC_ALLOCATOR=tcmalloc but libtcmalloc_minimal was not found "
                          "(Debian/Ubuntu: libtcmalloc-minimal4, Fedora: gperftools-libs, "
                          "Arch: gperftools, Homebrew: gperftools)")
    endif()
    message(STATUS "qcc allocator: the C library's malloc (libtcmalloc_minimal not found; "
                   "install it: memory stays flat under load)")
    return()
  endif()
  message(STATUS "qcc allocator: tcmalloc (${QCC_TCMALLOC_LIBRARY})")
  if(APPLE)  # ld64 keeps every library it is given
    target_link_libraries(${target} PRIVATE ${QCC_TCMALLOC_LIBRARY})
  else()
    # Nothing in QCC calls tcmalloc by name: keep GNU ld from dropping it as unneeded.
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed"
                                            ${QCC_TCMALLOC_LIBRARY} "-Wl,--pop-state")
  endif()
endfunction()
