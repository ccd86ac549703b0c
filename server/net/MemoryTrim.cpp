#include "net/MemoryTrim.h"

#include <QElapsedTimer>

#include <atomic>
#include <mutex>

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace sb::net {

namespace {
std::atomic<qint64> g_freed{0};
std::mutex g_mutex;
QElapsedTimer g_sinceTrim;
} // namespace

void noteFreed(qint64 bytes)
{
    if (bytes <= 0)
        return;
    if (g_freed.fetch_add(bytes, std::memory_order_relaxed) + bytes < kTrimAfterBytes)
        return;
    std::unique_lock lock(g_mutex, std::try_to_lock);
    if (!lock.owns_lock())
        return; // another thread is trimming right now
    if (g_sinceTrim.isValid() && g_sinceTrim.elapsed() < kMinIntervalMs)
        return; // the next report trims
    g_freed.store(0, std::memory_order_relaxed);
    g_sinceTrim.start();
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

} // namespace sb::net
