# Every dependency comes from Debian 12 packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 CONFIG REQUIRED COMPONENTS json url)  # 1.81 or newer
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(simdjson REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
if(QCC_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
