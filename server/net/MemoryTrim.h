#pragma once

#include <QtGlobal>

namespace sb::net {

// glibc keeps freed heap memory resident until it is trimmed. After a connection that held
// megabytes of unsent answers or pongs is closed, that memory must come back (docs/SECURITY.md,
// "Bounded memory"): callers report what they freed; once kTrimAfterBytes have been freed
// since the last trim, the heap is trimmed kMinIntervalMs later on the reporting thread's event
// loop (one pass over the heap, a few milliseconds; at most one trim pending). Thread-safe;
// call it from a thread with an event loop.
void noteFreed(qint64 bytes);

constexpr qint64 kTrimAfterBytes = 4 * 1024 * 1024;
constexpr qint64 kMinIntervalMs = 200;

} // namespace sb::net
