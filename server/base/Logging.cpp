#include "base/Logging.h"

#include <QDateTime>
#include <QMutex>

#include <atomic>
#include <cstdio>

namespace sb {

Q_LOGGING_CATEGORY(lcServer, "switchboard.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "switchboard.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcWs, "switchboard.ws", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "switchboard.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLog, "switchboard.log", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEndpoints, "switchboard.endpoints", QtInfoMsg)

namespace {

std::atomic<int> g_threshold{1}; // severity() of the lowest level printed

int severity(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return 0;
    case QtInfoMsg:
        return 1;
    case QtWarningMsg:
        return 2;
    case QtCriticalMsg:
        return 3;
    case QtFatalMsg:
        return 4;
    }
    return 2;
}

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info ";
    case QtWarningMsg:
        return "warn ";
    case QtCriticalMsg:
        return "error";
    case QtFatalMsg:
        return "fatal";
    }
    return "?";
}

bool needsEscape(char16_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (severity(type) < g_threshold.load(std::memory_order_relaxed))
        return;
    QByteArray category = context.category ? QByteArray(context.category) : QByteArray();
    if (category.startsWith("switchboard."))
        category = category.mid(12);
    const QByteArray line = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toUtf8()
            + ' ' + levelName(type) + " [" + category + "] " + escapeLogText(message).toUtf8()
            + '\n';
    static QMutex mutex;
    QMutexLocker lock(&mutex);
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

QtMsgType typeFor(const QString &level)
{
    if (level == u"error")
        return QtCriticalMsg;
    if (level == u"warning")
        return QtWarningMsg;
    if (level == u"debug")
        return QtDebugMsg;
    return QtInfoMsg;
}

} // namespace

QString escapeLogText(const QString &text)
{
    qsizetype i = 0;
    const char16_t *const units = reinterpret_cast<const char16_t *>(text.constData());
    while (i < text.size() && !needsEscape(units[i]))
        ++i;
    if (i == text.size())
        return text; // the usual case: shared, not copied
    QString out;
    out.reserve(text.size() + 16);
    out.append(QStringView(text).first(i));
    for (; i < text.size(); ++i) {
        const char16_t c = units[i];
        if (c == u'\n') {
            out += u"\\n";
        } else if (c == u'\r') {
            out += u"\\r";
        } else if (c == u'\t') {
            out += u"\\t";
        } else if (needsEscape(c)) {
            out += QStringLiteral("\\u%1").arg(uint(c), 4, 16, QLatin1Char('0'));
        } else {
            out += QChar(c);
        }
    }
    return out;
}

bool isValidLogLevel(const QString &level)
{
    return level == u"error" || level == u"warning" || level == u"info" || level == u"debug";
}

void setLogLevel(const QString &level)
{
    g_threshold.store(severity(typeFor(level)));
    // Qt's HTTP server warns about every refused WebSocket upgrade: we log those ourselves.
    QLoggingCategory::setFilterRules(level == u"debug"
                                             ? QStringLiteral("switchboard.*.debug=true")
                                             : QStringLiteral("switchboard.*.debug=false\n"
                                                              "qt.httpserver.warning=false"));
}

void installLogHandler(const QString &level)
{
    setLogLevel(level);
    qInstallMessageHandler(handler);
}

} // namespace sb
