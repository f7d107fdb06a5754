# Project-wide warning and sanitizer flags, applied through the qcc_options interface target.
add_library(qcc_options INTERFACE)
target_compile_options(qcc_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast)
# GCC 12 reports -Wrestrict false positives inside std::string at -O3 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(qcc_options INTERFACE -Wno-restrict)
endif()
if(QCC_WERROR)
  target_compile_options(qcc_options INTERFACE -Werror)
endif()
if(QCC_SANITIZE)
  target_compile_options(qcc_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                              -fno-sanitize-recover=undefined)
  target_link_options(qcc_options INTERFACE -fsanitize=address,undefined)
endif()
if(QCC_TSAN)
  target_compile_options(qcc_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(qcc_options INTERFACE -fsanitize=thread)
  # GCC warns that TSan does not model Asio's std_fenced_block fences; the fences only order the
  # handler hand-off that the io_context's own mutex already orders, so the warning is not an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(qcc_options INTERFACE -Wno-tsan)
  endif()
endif()
# Asio and Beast are compiled once (src/common/asio_impl.cpp) instead of in every translation unit.
# Each worker thread keeps up to 8 freed blocks per kind (coroutine frames, handlers) for reuse:
# a proxied request nests about ten coroutine frames, and with Asio's default of 2 most of them
# went back to malloc on every request.
target_compile_definitions(qcc_options INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8
  SPDLOG_FMT_EXTERNAL)
