# Every third-party library comes from Debian's packages (see scripts/bootstrap).
# How each one is found is recorded in docs/toolchain.md.
find_package(PkgConfig REQUIRED)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)  # find_package(cnats) is broken in Debian's package
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
find_package(simdjson CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(RapidJSON CONFIG REQUIRED)
# Not RAPIDJSON_SSE2: Debian's rapidjson 1.1.0 writer, with it, drops a control character that
# follows others in a long string (found by fuzz_webhook_signal; docs/toolchain.md, "JSON writing").
find_package(Threads REQUIRED)
# The services' allocator (docs/toolchain.md "Allocator"): jemalloc, linked into the executables
# that move messages (the services and the drain benchmark's bare drain). glibc's malloc spent a
# fifth of the agent's CPU in a drain, on buffers allocated by cnats' threads and freed by ours.
# Sanitizer builds keep their own allocator.
pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
add_library(tradepipe_allocator INTERFACE)
if(NOT TRADEPIPE_SANITIZE)
  target_link_libraries(tradepipe_allocator INTERFACE PkgConfig::JEMALLOC)
endif()
if(TRADEPIPE_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  find_package(benchmark CONFIG REQUIRED)
  include(GoogleTest)
endif()
