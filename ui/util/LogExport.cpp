#include "util/LogExport.h"

#include "base/RawJson.h"

#include <QDateTime>

namespace sb::ui::logexport {

namespace {

QByteArray csvField(const QString &text)
{
    QByteArray utf8 = text.toUtf8();
    if (!utf8.contains(',') && !utf8.contains('"') && !utf8.contains('\n') && !utf8.contains('\r'))
        return utf8;
    utf8.replace('"', "\"\"");
    return '"' + utf8 + '"';
}

} // namespace

QByteArray csv(const QList<LogRecord> &records)
{
    QByteArray out = "id,ts,time,source,target,to,event,delivered,remote,data\r\n";
    for (const LogRecord &r : records) {
        out += QByteArray::number(r.id) + ',' + QByteArray::number(r.ts) + ','
                + csvField(
                        QDateTime::fromMSecsSinceEpoch(r.ts, Qt::UTC).toString(Qt::ISODateWithMs))
                + ',' + csvField(r.source) + ',' + csvField(r.target) + ',' + csvField(r.to) + ','
                + csvField(r.event) + ',' + QByteArray::number(r.delivered) + ','
                + csvField(r.remote) + ',' + csvField(QString::fromUtf8(r.data)) + "\r\n";
    }
    return out;
}

QByteArray json(const QList<LogRecord> &records)
{
    QByteArray out = "[";
    bool first = true;
    for (const LogRecord &r : records) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        out += "{\"id\":" + QByteArray::number(r.id) + ",\"ts\":" + QByteArray::number(r.ts)
                + ",\"source\":" + rawjson::quote(r.source)
                + ",\"target\":" + rawjson::quote(r.target)
                + ",\"to\":" + (r.to.isEmpty() ? QByteArray("null") : rawjson::quote(r.to))
                + ",\"event\":" + rawjson::quote(r.event) + ",\"data\":"
                + (r.data.isEmpty() ? QByteArray("null") : r.data) + ",\"delivered\":"
                + QByteArray::number(r.delivered) + ",\"remote\":" + rawjson::quote(r.remote) + '}';
    }
    out += first ? "]\n" : "\n]\n";
    return out;
}

} // namespace sb::ui::logexport
