// sb-hub-bench: emits per second through sb::Hub::publish with the room history in memory, for
// one room and for more rooms than the history keeps records of (sb::RoomHistory::kMaxRooms), where
// every emit has to evict. Prints one line per case:
//   rooms=<n> emits=<n> emits_per_s=<n> history_rooms=<n>
// The deliveries go to sinks that count and drop them (no sockets): this measures the hub.
#include "hub/Hub.h"
#include "store/RoomHistory.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTextStream>

#include <cstdio>

namespace {

class CountingSink : public sb::DeliverySink
{
public:
    bool hasRoomFor(qint64) const override { return true; }
    void enqueue(sb::Delivery &&) override { ++count; }
    qint64 count = 0;
};

void run(qint64 rooms, qint64 emits)
{
    sb::RoomHistory history(1000);
    sb::Hub hub(history);
    CountingSink s0, s1;
    hub.setSinks({&s0, &s1});
    sb::EmitRequest r;
    r.target = sb::EmitTarget::Room;
    r.event = QStringLiteral("e");
    r.data = "{\"n\":1}";
    // Fill: every room gets one event first.
    for (qint64 i = 0; i < rooms; ++i) {
        r.to = QStringLiteral("room:%1").arg(i);
        hub.publish(r);
    }
    QElapsedTimer t;
    t.start();
    for (qint64 i = 0; i < emits; ++i) {
        r.to = QStringLiteral("room:%1").arg((i * 7919) % rooms);
        hub.publish(r);
    }
    const double s = double(t.nsecsElapsed()) / 1e9;
    std::printf("rooms=%lld emits=%lld emits_per_s=%.0f history_rooms=%lld\n", rooms, emits,
                double(emits) / s, qint64(hub.historyRooms()));
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const qint64 emits = argc > 1 ? QByteArray(argv[1]).toLongLong() : 200000;
    run(1, emits);
    run(10000, emits);
    run(sb::RoomHistory::kMaxRooms + 50000, emits);
    run(2 * sb::RoomHistory::kMaxRooms, emits);
    return 0;
}
