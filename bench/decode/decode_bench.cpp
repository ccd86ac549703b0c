// sb-decode-bench: decoding rate of request bodies (server/commands/BodyDecoder), in fields/s.
//
//   sb-decode-bench [repetitions]      (default 20)
//
// For each shape it decodes the same body `repetitions` times and prints the best run. Forms
// over kMaxFormFields are refused at the limit: their line shows how fast the refusal is.

#include "commands/BodyDecoder.h"

#include <QByteArray>
#include <QElapsedTimer>

#include <cstdio>
#include <cstdlib>

namespace {

QByteArray form(int fields, bool distinct)
{
    QByteArray body;
    for (int i = 0; i < fields; ++i) {
        body += i ? "&" : "";
        body += distinct ? "f" + QByteArray::number(i, 36) : QByteArray("f");
        body += "=value+" + QByteArray::number(i);
    }
    return body;
}

QByteArray jsonObject(int members)
{
    QByteArray body = "{";
    for (int i = 0; i < members; ++i)
        body += (i ? ",\"f" : "\"f") + QByteArray::number(i, 36) + "\":\"value "
                + QByteArray::number(i) + '"';
    return body + '}';
}

void run(const char *name, const QByteArray &contentType, const QByteArray &body, int fields,
         int repetitions)
{
    qint64 best = -1;
    int status = 200;
    for (int r = 0; r < repetitions; ++r) {
        QElapsedTimer timer;
        timer.start();
        sb::CommandError error;
        const auto decoded = sb::BodyDecoder::decode(contentType, body, &error);
        const qint64 ns = timer.nsecsElapsed();
        status = decoded ? 200 : error.status;
        if (best < 0 || ns < best)
            best = ns;
    }
    const double seconds = double(qMax<qint64>(best, 1)) / 1e9;
    std::printf("%-34s %8d fields %9lld bytes  status %d  %10.3f ms  %12.0f fields/s  %8.1f MB/s\n",
                name, fields, static_cast<long long>(body.size()), status, seconds * 1e3,
                fields / seconds, double(body.size()) / seconds / 1e6);
}

} // namespace

int main(int argc, char **argv)
{
    const int repetitions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
    const QByteArray formType = "application/x-www-form-urlencoded";
    const QByteArray latin1 = "application/x-www-form-urlencoded; charset=ISO-8859-1";
    run("form, 1000 distinct fields", formType, form(1000, true), 1000, repetitions);
    run("form, 1000 fields, one name", formType, form(1000, false), 1000, repetitions);
    run("form ISO-8859-1, 1000 fields", latin1, form(1000, true), 1000, repetitions);
    run("form, 131000 fields (refused)", formType, form(131000, true), 131000, repetitions);
    run("JSON, 1000 members", "application/json", jsonObject(1000), 1000, repetitions);
    run("JSON, 131000 members", "application/json", jsonObject(131000), 131000, repetitions);
    return 0;
}
