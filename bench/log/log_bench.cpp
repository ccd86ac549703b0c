// sb-log-bench: how many records per second the message log takes, without HTTP in the way.
//
// Opens a MessageLog (SQLite in a fresh temporary directory, or --postgresql URL: a database
// whose `messages` table is emptied first) and appends --records records of about
// --data-bytes bytes of `data` each from one thread, as fast as append() takes them (a refusal,
// the queue being full, is retried at once and counted). Two figures per round:
//   append_per_s  records appended per second on the calling thread (the journal copy and
//                 the queue push: what an emit pays before its answer);
//   commit_per_s  records per second until the writer has committed the last one (group
//                 commit into the database: what the log sustains).
// and, less disturbed by other load on the machine, CPU time:
//   append_cpu_ns  CPU time of the calling thread per append;
//   cpu_ns         CPU time of the whole process (both threads, the database's work
//                  included) per record, from the first append to the last commit.
// --rounds rounds (each on a fresh log), the median of each figure counts. Prints one JSON
// line on stdout, a line per round on stderr.
#include "base/Message.h"
#include "store/MessageLog.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

using namespace sb;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// The figures of every round, for the medians.
struct Samples
{
    std::vector<double> appendPerS, commitPerS, appendCpuNs, cpuNs;
    qint64 refused = 0;
};

qint64 cpuNs(clockid_t clock)
{
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Empties the PostgreSQL log table so every round starts at id 1.
bool emptyPostgresql(const LogDatabase &db)
{
    const QString name = QStringLiteral("sb-log-bench-setup");
    bool ok = true;
    {
        QSqlDatabase c = QSqlDatabase::addDatabase(db.driver, name);
        db.applyTo(c);
        ok = c.open();
        if (ok) {
            QSqlQuery q(c);
            q.exec(QStringLiteral("SET client_min_messages TO warning"));
            q.exec(QStringLiteral("DROP TABLE IF EXISTS messages"));
        } else {
            std::fprintf(stderr, "sb-log-bench: %s\n", qPrintable(db.describe()));
        }
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

// One round on a fresh log: appends `records` records, waits for their commit, adds the
// figures to *samples and prints them. False when the log cannot be opened.
bool runRound(const QString &setting, qint64 records, int dataBytes, Samples *samples)
{
    QTemporaryDir dir;
    QString error;
    const std::optional<LogDatabase> db = LogDatabase::parse(setting, dir.path(), &error);
    if (!db) {
        std::fprintf(stderr, "sb-log-bench: %s\n", qPrintable(error));
        return false;
    }
    if (db->driver == u"QPSQL" && !emptyPostgresql(*db))
        return false;
    MessageLog log(*db, 30, 100'000'000);
    if (!log.open(&error)) {
        std::fprintf(stderr, "sb-log-bench: %s\n", qPrintable(error));
        return false;
    }
    MessageRecord r;
    r.source = EmitSource::Rest;
    r.target = EmitTarget::Room;
    r.to = QStringLiteral("bench:room");
    r.event = QStringLiteral("BenchEvent");
    r.remote = QStringLiteral("127.0.0.1:40000");
    const QByteArray pad(qMax(0, dataBytes - 24), 'x');
    qint64 refused = 0;
    QElapsedTimer timer;
    timer.start();
    const qint64 threadStart = cpuNs(CLOCK_THREAD_CPUTIME_ID);
    const qint64 processStart = cpuNs(CLOCK_PROCESS_CPUTIME_ID);
    for (qint64 i = 1; i <= records; ++i) {
        r.id = quint64(i);
        r.ts = QDateTime::currentMSecsSinceEpoch();
        r.data = QByteArrayLiteral(R"({"n":)") + QByteArray::number(i)
                + QByteArrayLiteral(R"(,"pad":")") + pad + QByteArrayLiteral(R"("})");
        while (!log.append(r)) {
            ++refused;
            QThread::yieldCurrentThread();
        }
    }
    const qint64 appendNs = timer.nsecsElapsed();
    const qint64 threadCpu = cpuNs(CLOCK_THREAD_CPUTIME_ID) - threadStart;
    while (log.committedId() < quint64(records))
        QThread::msleep(5); // seldom: this thread's CPU counts in cpu_ns
    const qint64 commitNs = timer.nsecsElapsed();
    const qint64 processCpu = cpuNs(CLOCK_PROCESS_CPUTIME_ID) - processStart;
    log.close();
    const double appendPerS = double(records) * 1e9 / double(appendNs);
    const double commitPerS = double(records) * 1e9 / double(commitNs);
    const double appendCpuNs = double(threadCpu) / double(records);
    const double processCpuNs = double(processCpu) / double(records);
    std::fprintf(stderr,
                 "round %zu: append %.0f records/s, commit %.0f records/s, %.0f ns CPU per "
                 "append, %.0f ns CPU per record, %lld refused\n",
                 samples->cpuNs.size() + 1, appendPerS, commitPerS, appendCpuNs, processCpuNs,
                 qlonglong(refused));
    samples->appendPerS.push_back(appendPerS);
    samples->commitPerS.push_back(commitPerS);
    samples->appendCpuNs.push_back(appendCpuNs);
    samples->cpuNs.push_back(processCpuNs);
    samples->refused += refused;
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*.info=false"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Message log throughput"));
    parser.addHelpOption();
    const QCommandLineOption recordsOption(QStringLiteral("records"),
                                           QStringLiteral("Records per round (default 200000)."),
                                           QStringLiteral("n"), QStringLiteral("200000"));
    const QCommandLineOption dataOption(QStringLiteral("data-bytes"),
                                        QStringLiteral("Bytes of data per record (default 100)."),
                                        QStringLiteral("n"), QStringLiteral("100"));
    const QCommandLineOption roundsOption(QStringLiteral("rounds"),
                                          QStringLiteral("Rounds (default 5)."),
                                          QStringLiteral("n"), QStringLiteral("5"));
    const QCommandLineOption pgOption(QStringLiteral("postgresql"),
                                      QStringLiteral("Log into this PostgreSQL database (its "
                                                     "messages table is dropped first)."),
                                      QStringLiteral("url"));
    parser.addOptions({recordsOption, dataOption, roundsOption, pgOption});
    parser.process(app);
    const qint64 records = qMax<qint64>(1, parser.value(recordsOption).toLongLong());
    const int dataBytes = qMax(0, parser.value(dataOption).toInt());
    const int rounds = qMax(1, parser.value(roundsOption).toInt());
    const QString setting = parser.value(pgOption);

    Samples samples;
    for (int i = 0; i < rounds; ++i) {
        if (!runRound(setting, records, dataBytes, &samples))
            return 1;
    }
    const QJsonObject result{
            {QStringLiteral("bench"), QStringLiteral("message_log")},
            {QStringLiteral("database"),
             setting.isEmpty() ? QStringLiteral("sqlite") : QStringLiteral("postgresql")},
            {QStringLiteral("records"), records},
            {QStringLiteral("data_bytes"), dataBytes},
            {QStringLiteral("rounds"), rounds},
            {QStringLiteral("append_per_s"), qRound64(median(samples.appendPerS))},
            {QStringLiteral("commit_per_s"), qRound64(median(samples.commitPerS))},
            {QStringLiteral("append_cpu_ns"), qRound64(median(samples.appendCpuNs))},
            {QStringLiteral("cpu_ns"), qRound64(median(samples.cpuNs))},
            {QStringLiteral("refused"), samples.refused},
    };
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return 0;
}
