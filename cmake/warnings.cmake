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
endif()
# Asio and Beast are compiled once (src/common/asio_impl.cpp) instead of in every translation unit.
target_compile_definitions(qcc_options INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  SPDLOG_FMT_EXTERNAL)
