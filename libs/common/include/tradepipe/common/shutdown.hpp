// SIGINT/SIGTERM handling for service mains: block the signals before any thread starts (so
// every thread inherits the mask), then wait for one on the main thread and shut down in two
// phases (stop taking work, drain).
//
//   int main() { tradepipe::BlockShutdownSignals(); ...start threads...; tradepipe::WaitForShutdownSignal(); ... }
#pragma once

#include <signal.h>

namespace tradepipe {

inline sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

inline void BlockShutdownSignals() {
  const sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Returns the signal received.
inline int WaitForShutdownSignal() {
  const sigset_t set = ShutdownSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace tradepipe
