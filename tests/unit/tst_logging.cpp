// Unit tests of the log handler of server/base/Logging: one message is one line on stderr,
// whatever a client put into the names, paths and addresses it prints.

#include "base/Logging.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdio>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {

// Runs `log` with the switchboard handler installed and stderr sent to a file; returns what
// was written.
template<typename Log>
QByteArray captureStderr(Log log)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"stderr"_s);
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    FILE *file = std::fopen(QFile::encodeName(path).constData(), "w");
    if (saved < 0 || !file)
        return "cannot redirect stderr";
    ::dup2(::fileno(file), STDERR_FILENO);
    sb::installLogHandler(u"debug"_s);
    log();
    qInstallMessageHandler(nullptr);
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::fclose(file);
    QFile in(path);
    if (!in.open(QIODevice::ReadOnly))
        return "cannot read the captured stderr";
    return in.readAll();
}

} // namespace

class TestLogging : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void escapeLogText_data();
    void escapeLogText();
    void plainTextIsNotCopied();
    void forgedLinesStayInTheirLine();
};

void TestLogging::escapeLogText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << u"register room hr:emp:1 user SCOTT"_s
                           << u"register room hr:emp:1 user SCOTT"_s;
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("newline") << u"a\nb"_s << u"a\\nb"_s;
    QTest::newRow("CR LF") << u"a\r\nb"_s << u"a\\r\\nb"_s;
    QTest::newRow("tab") << u"a\tb"_s << u"a\\tb"_s;
    QTest::newRow("NUL") << QStringView(u"a\0b", 3).toString() << u"a\\u0000b"_s;
    QTest::newRow("ESC (terminal control)") << u"\x1b[2Jx"_s << u"\\u001b[2Jx"_s;
    QTest::newRow("DEL and C1 NEL") << u"a\x7f\u0085b"_s << u"a\\u007f\\u0085b"_s;
    QTest::newRow("U+2028 U+2029") << u"a\u2028b\u2029c"_s << u"a\\u2028b\\u2029c"_s;
    QTest::newRow("backslash kept") << u"C:\\path\\n"_s << u"C:\\path\\n"_s;
    QTest::newRow("non-ASCII kept") << u"räume:€ 😀 \u00a0"_s << u"räume:€ 😀 \u00a0"_s;
}

void TestLogging::escapeLogText()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QCOMPARE(sb::escapeLogText(text), expected);
}

void TestLogging::plainTextIsNotCopied()
{
    const QString text = u"connect c12 from 127.0.0.1:5000"_s;
    const QString escaped = sb::escapeLogText(text);
    QCOMPARE(escaped.constData(), text.constData());
}

void TestLogging::forgedLinesStayInTheirLine()
{
    // A room name as a client may send it (escaped in JSON, or %0A in a form): it must not
    // start a line of its own that looks like the server's.
    const QString room =
            u"r\n2026-01-01T00:00:00.000Z warn  [http] admin login from 10.0.0.1\r\u2028x"_s;
    const QByteArray out = captureStderr([&] {
        qCInfo(sb::lcHttp).noquote() << "register room" << room << "user"
                                     << "u\nv";
        qCWarning(sb::lcServer).noquote() << "second message";
    });
    const QList<QByteArray> lines = out.split('\n');
    QCOMPARE(lines.size(), 3); // two lines and the empty rest after the last '\n'
    QVERIFY2(lines[0].contains(" info  [http] register room r\\n2026-01-01T00:00:00.000Z warn  "
                               "[http] admin login from 10.0.0.1\\r\\u2028x user u\\nv"),
             lines[0].constData());
    QVERIFY2(lines[1].contains(" warn  [server] second message"), lines[1].constData());
    QVERIFY(lines[2].isEmpty());
    QVERIFY(!out.contains('\r'));
    QVERIFY(!out.contains("\xe2\x80\xa8"));
}

QTEST_GUILESS_MAIN(TestLogging)
#include "tst_logging.moc"
