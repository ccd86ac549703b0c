#pragma once

#include <QtGlobal>

namespace sb::net {

// glibc keeps freed heap memory resident until it is trimmed. After a connection that held
// megabytes of unsent answers or pongs is closed, that memory must come back (docs/SECURITY.md,
// "Bounded memory"): callers report what they freed; once kTrimAfterBytes have been freed
// since the last trim, and at most once per kMinIntervalMs, the heap is trimmed (one pass over
// the heap, a few milliseconds). Thread-safe.
void noteFreed(qint64 bytes);

constexpr qint64 kTrimAfterBytes = 4 * 1024 * 1024;
constexpr qint64 kMinIntervalMs = 200;

} // namespace sb::net
