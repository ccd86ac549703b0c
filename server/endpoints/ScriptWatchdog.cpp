// The watchdog of the script handlers (docs/ARCHITECTURE.md, "Script handlers"): one thread
// for every runtime, sleeping until the nearest deadline.
#include "endpoints/ScriptRuntime.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace sb {

namespace {
using Clock = std::chrono::steady_clock;
}

class ScriptWatchdog::Private
{
public:
    struct Entry
    {
        Clock::time_point deadline;
        std::function<void()> interrupt;
    };

    // Runs on the watchdog's thread. The callbacks run under the mutex, so that disarm()
    // returning means the callback has either run already or never will.
    void run()
    {
        std::unique_lock lock(mutex);
        while (!stopping) {
            if (entries.empty()) {
                wake.wait(lock);
                continue;
            }
            const auto nearest = nearestEntry();
            // A copy: the entry may be erased while the wait has the mutex released.
            const Clock::time_point deadline = nearest->second.deadline;
            if (Clock::now() < deadline) {
                wake.wait_until(lock, deadline);
                continue;
            }
            auto interrupt = std::move(nearest->second.interrupt);
            entries.erase(nearest);
            if (interrupt)
                interrupt();
        }
    }

    std::map<quint64, Entry>::iterator nearestEntry()
    {
        auto nearest = entries.begin();
        for (auto it = entries.begin(); it != entries.end(); ++it) {
            if (it->second.deadline < nearest->second.deadline)
                nearest = it;
        }
        return nearest;
    }

    std::mutex mutex;
    std::condition_variable wake;
    std::map<quint64, Entry> entries; // one per call in progress: as many as handler threads
    quint64 nextToken = 1;
    bool stopping = false;
    std::thread thread;
};

ScriptWatchdog::ScriptWatchdog() : d(std::make_unique<Private>())
{
    d->thread = std::thread([this] { d->run(); });
}

ScriptWatchdog::~ScriptWatchdog()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
    }
    d->wake.notify_all();
    d->thread.join();
}

quint64 ScriptWatchdog::arm(qint64 timeoutMs, std::function<void()> interrupt)
{
    std::lock_guard lock(d->mutex);
    const quint64 token = d->nextToken++;
    d->entries.emplace(token,
                       Private::Entry{Clock::now() + std::chrono::milliseconds(timeoutMs),
                                      std::move(interrupt)});
    d->wake.notify_all();
    return token;
}

void ScriptWatchdog::disarm(quint64 token)
{
    std::lock_guard lock(d->mutex);
    d->entries.erase(token);
}

} // namespace sb
