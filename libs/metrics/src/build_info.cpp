#include "build_info.hpp"

namespace tradepipe::metrics::build {

const char* const kVersion = TRADEPIPE_VERSION;
const char* const kRevision = TRADEPIPE_REVISION;
#if defined(__clang__)
const char* const kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
const char* const kCompiler = "gcc " __VERSION__;
#else
const char* const kCompiler = "unknown";
#endif

}  // namespace tradepipe::metrics::build
