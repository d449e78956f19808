// What this build is, for tradepipe_build_info. Defined in build_info.cpp, the one file compiled
// with the configure-time definitions, so a new revision recompiles one file.
#pragma once

namespace tradepipe::metrics::build {

extern const char* const kVersion;
extern const char* const kRevision;
extern const char* const kCompiler;

}  // namespace tradepipe::metrics::build
