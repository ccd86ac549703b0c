#include "net/MemoryTrim.h"

#include <QDeadlineTimer>
#include <QTimer>

#include <atomic>

#if defined(__GLIBC__)
#  include <malloc.h>
#endif

namespace sb::net {

namespace {

std::atomic<qint64> g_freed{0};
// When the pending trim was scheduled (QDeadlineTimer's clock, ms); 0: none pending.
std::atomic<qint64> g_scheduledMs{0};
// A trim scheduled on a thread whose event loop ended never runs: after this long another
// report schedules one anew.
constexpr qint64 kLostAfterMs = 2000;

qint64 nowMs()
{
    return QDeadlineTimer::current().deadline();
}

void trimNow()
{
    g_freed.store(0, std::memory_order_relaxed);
    g_scheduledMs.store(0, std::memory_order_release);
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

} // namespace

void noteFreed(qint64 bytes)
{
    if (bytes <= 0)
        return;
    if (g_freed.fetch_add(bytes, std::memory_order_relaxed) + bytes < kTrimAfterBytes)
        return;
    const qint64 now = nowMs();
    qint64 scheduled = g_scheduledMs.load(std::memory_order_acquire);
    if (scheduled != 0 && now - scheduled < kLostAfterMs)
        return; // one is on its way
    if (!g_scheduledMs.compare_exchange_strong(scheduled, now, std::memory_order_acq_rel))
        return; // another thread scheduled it just now
    // Later, from this thread's event loop: what a caller reports is often freed only after
    // it returns (a socket's buffers go after its children), and the delay bounds the trims
    // to one per kMinIntervalMs.
    QTimer::singleShot(kMinIntervalMs, [] { trimNow(); });
}

} // namespace sb::net
