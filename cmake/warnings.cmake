# An INTERFACE target carrying the project's warning flags. Every tradepipe target
# links it PRIVATE, so the flags never leak into consumers or third-party code.
add_library(tradepipe_warnings INTERFACE)
target_compile_options(tradepipe_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough>
  # g++ 12 reports false -Wrestrict positives on std::string concatenation at -O3.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)

# Sanitizers for the debug preset, per target (never global flags).
option(TRADEPIPE_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
add_library(tradepipe_sanitizers INTERFACE)
if(TRADEPIPE_SANITIZE)
  target_compile_options(tradepipe_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(tradepipe_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
