// sb-console-bench: how responsive the admin console stays under a flood.
//
// Hosts the server in-process exactly as `switchboard` does (LocalBackend + MainWindow, shown),
// connects --clients WebSocket clients in --rooms rooms and emits --rate REST emits per
// second into them for --duration seconds (one sb-loadgen process per room, open loop), and
// measures on the GUI thread:
//   - event-loop latency: how late a 10 ms timer fires (what a window manager's ping waits);
//   - the longest stall, the process's peak RSS (VmHWM) and its RSS at the end;
//   - whether every emit reached the console's log view.
// Prints one JSON line on stdout and a summary on stderr. Needs a display (xvfb-run) or
// QT_QPA_PLATFORM=offscreen.
#include "MainWindow.h"
#include "backend/LocalBackend.h"
#include "config/ConfigLoader.h"
#include "models/LogModel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

qint64 statusKb(const char *field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(field))
            return line.mid(int(qstrlen(field))).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(p * double(v.size() - 1) + 0.5))];
}

} // namespace

int main(int argc, char *argv[])
{
    qputenv("QT_NO_GLIB", "1");
    QApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
    QCoreApplication::setApplicationName(QStringLiteral("sb-console-bench"));
    QCommandLineParser args;
    args.setApplicationDescription(QStringLiteral("Console responsiveness under a flood of emits."));
    args.addHelpOption();
    args.addOption({QStringLiteral("loadgen"), QStringLiteral("Path of sb-loadgen."), QStringLiteral("path"),
                    QStringLiteral(SB_LOADGEN_PATH)});
    args.addOption({QStringLiteral("clients"), QStringLiteral("WebSocket clients (default 50)."),
                    QStringLiteral("n"), QStringLiteral("50")});
    args.addOption({QStringLiteral("rooms"), QStringLiteral("Rooms, one load generator each (default 10)."),
                    QStringLiteral("n"), QStringLiteral("10")});
    args.addOption({QStringLiteral("rate"), QStringLiteral("REST emits per second in all (default 2000)."),
                    QStringLiteral("n"), QStringLiteral("2000")});
    args.addOption({QStringLiteral("duration"), QStringLiteral("Seconds of load (default 5)."),
                    QStringLiteral("s"), QStringLiteral("5")});
    args.process(app);
    const int clients = args.value(QStringLiteral("clients")).toInt();
    const int rooms = std::max(1, args.value(QStringLiteral("rooms")).toInt());
    const int rate = args.value(QStringLiteral("rate")).toInt();
    const int duration = args.value(QStringLiteral("duration")).toInt();

    QTemporaryDir dir;
    QCommandLineParser serverArgs;
    sb::ConfigLoader::addOptions(serverArgs);
    serverArgs.process(QStringList{QStringLiteral("switchboard"), QStringLiteral("--listen"),
                                   QStringLiteral("127.0.0.1:0"), QStringLiteral("--data-dir"), dir.path(),
                                   QStringLiteral("--api-key"), QStringLiteral("bench"),
                                   QStringLiteral("--jwt-secret"), QStringLiteral("bench-secret"),
                                   QStringLiteral("--log-level"), QStringLiteral("warning")});
    sb::ui::LocalBackend backend([&serverArgs] { return sb::ConfigLoader::load(serverArgs); });
    sb::ui::MainWindow window(&backend);
    window.resize(1400, 900);
    window.show();

    QElapsedTimer clock;
    std::vector<double> lateMs;
    bool measuring = false;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(10);
    qint64 last = 0;
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (measuring && last > 0)
            lateMs.push_back(std::max(0.0, double(now - last) / 1e6 - 10.0));
        last = now;
    });

    std::vector<QProcess *> generators;
    int finished = 0;
    int failures = 0;
    quint64 loadEmits = 0;
    QObject::connect(&backend, &sb::ui::ConsoleBackend::stateChanged, &app, [&](sb::ui::ConsoleBackend::State s) {
        if (s == sb::ui::ConsoleBackend::State::Failed) {
            std::fprintf(stderr, "server failed: %s\n", qPrintable(backend.stateDetail()));
            app.exit(1);
        }
        if (s != sb::ui::ConsoleBackend::State::Live || !generators.empty())
            return;
        const QString port = QString::number(QUrl(backend.address()).port());
        std::fprintf(stderr, "console hosting %s; %d clients in %d rooms, %d emits/s for %d s\n",
                     qPrintable(backend.address()), clients, rooms, rate, duration);
        for (int r = 0; r < rooms; ++r) {
            auto *p = new QProcess(&app);
            p->setProcessChannelMode(QProcess::SeparateChannels);
            const int roomClients = clients / rooms + (r < clients % rooms ? 1 : 0);
            p->start(args.value(QStringLiteral("loadgen")),
                     {QStringLiteral("--port"), port, QStringLiteral("--api-key"), QStringLiteral("bench"),
                      QStringLiteral("--room"), QStringLiteral("bench:room:%1").arg(r),
                      QStringLiteral("--clients"), QString::number(roomClients),
                      QStringLiteral("--emitters"), QStringLiteral("2"),
                      QStringLiteral("--rate"), QString::number(rate / rooms),
                      QStringLiteral("--warmup"), QStringLiteral("0"),
                      QStringLiteral("--duration"), QString::number(duration),
                      QStringLiteral("--label"), QStringLiteral("console-bench")});
            QObject::connect(p, &QProcess::finished, &app, [&, p](int code) {
                const QJsonObject line = QJsonDocument::fromJson(p->readAllStandardOutput().trimmed()).object();
                loadEmits += quint64(line.value(QStringLiteral("emits_ok")).toDouble());
                if (code != 0) {
                    ++failures;
                    std::fprintf(stderr, "sb-loadgen exited %d: %s\n", code,
                                 p->readAllStandardError().right(400).constData());
                }
                if (++finished == rooms) {
                    measuring = false;
                    // Give the last batches their 100 ms, then report.
                    QTimer::singleShot(1500, &app, [&] { app.exit(0); });
                }
            });
            generators.push_back(p);
        }
        clock.start();
        measuring = true;
        tick.start();
    });
    backend.start();
    const int code = app.exec();
    if (code != 0)
        return code;

    const double p50 = percentile(lateMs, 0.50);
    const double p99 = percentile(lateMs, 0.99);
    const double worst = lateMs.empty() ? 0 : *std::max_element(lateMs.begin(), lateMs.end());
    const qint64 hwm = statusKb("VmHWM:");
    const qint64 rss = statusKb("VmRSS:");
    const quint64 logged = quint64(window.logModel()->rowCount()) + window.logModel()->droppedCount();
    QJsonObject out{{QStringLiteral("bench"), QStringLiteral("console")},
                    {QStringLiteral("clients"), clients},
                    {QStringLiteral("rooms"), rooms},
                    {QStringLiteral("rate"), rate},
                    {QStringLiteral("duration_s"), duration},
                    {QStringLiteral("ticks"), qint64(lateMs.size())},
                    {QStringLiteral("loop_latency_p50_ms"), p50},
                    {QStringLiteral("loop_latency_p99_ms"), p99},
                    {QStringLiteral("loop_latency_max_ms"), worst},
                    {QStringLiteral("rss_peak_mb"), double(hwm) / 1024.0},
                    {QStringLiteral("rss_end_mb"), double(rss) / 1024.0},
                    {QStringLiteral("log_rows"), window.logModel()->rowCount()},
                    {QStringLiteral("log_records_seen"), qint64(logged)},
                    {QStringLiteral("emits_ok"), qint64(loadEmits)},
                    {QStringLiteral("loadgen_failures"), failures}};
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    std::fprintf(stderr,
                 "GUI event loop: p50 %.1f ms, p99 %.1f ms, max %.1f ms late (%zu ticks of 10 ms)\n"
                 "console RSS: peak %.0f MB, end %.0f MB; log view: %d rows (%llu records seen, %llu "
                 "emits answered)\n",
                 p50, p99, worst, lateMs.size(), double(hwm) / 1024.0, double(rss) / 1024.0,
                 window.logModel()->rowCount(), static_cast<unsigned long long>(logged),
                 static_cast<unsigned long long>(loadEmits));
    return failures == 0 ? 0 : 1;
}
