// Unit tests of sb::names (identity limits), sb::wsframe (server frames, RFC 6455 5.2) and the
// connection id text of base/Message.h.

#include "base/Message.h"
#include "base/Names.h"
#include "base/WsFrame.h"

#include <QStringDecoder>
#include <QtTest>

using namespace Qt::StringLiterals;

namespace {

QString repeated(const QString &unit, int n)
{
    QString s;
    for (int i = 0; i < n; ++i)
        s += unit;
    return s;
}

struct ParsedFrame
{
    bool ok = false;
    bool fin = false;
    int rsv = 0;
    int opcode = -1;
    bool masked = false;
    int lengthForm = 0; // 7, 16 or 64 bits
    quint64 length = 0;
    QByteArray payload;
    QString error;
};

// An independent reader of one server frame (which must fill the buffer exactly).
ParsedFrame parseFrame(const QByteArray &f)
{
    ParsedFrame p;
    if (f.size() < 2) {
        p.error = u"shorter than 2 bytes"_s;
        return p;
    }
    const quint8 b0 = quint8(f[0]), b1 = quint8(f[1]);
    p.fin = b0 & 0x80;
    p.rsv = (b0 >> 4) & 0x7;
    p.opcode = b0 & 0x0F;
    p.masked = b1 & 0x80;
    qsizetype pos = 2;
    const quint8 len7 = b1 & 0x7F;
    if (len7 < 126) {
        p.lengthForm = 7;
        p.length = len7;
    } else if (len7 == 126) {
        p.lengthForm = 16;
        if (f.size() < 4) {
            p.error = u"truncated 16-bit length"_s;
            return p;
        }
        p.length = (quint64(quint8(f[2])) << 8) | quint8(f[3]);
        pos = 4;
    } else {
        p.lengthForm = 64;
        if (f.size() < 10) {
            p.error = u"truncated 64-bit length"_s;
            return p;
        }
        for (int i = 0; i < 8; ++i)
            p.length = (p.length << 8) | quint8(f[2 + i]);
        pos = 10;
    }
    if (p.masked)
        pos += 4;
    if (quint64(f.size() - pos) != p.length) {
        p.error = u"payload length %1 but %2 bytes follow"_s.arg(p.length).arg(f.size() - pos);
        return p;
    }
    p.payload = f.mid(pos);
    p.ok = true;
    return p;
}

} // namespace

class TestNamesAndFrames : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void codePoints_data();
    void codePoints();
    void checkLength_data();
    void checkLength();
    void limitsMatchTheContract();
    void textFrame_data();
    void textFrame();
    void closeFrame_data();
    void closeFrame();
    void closeFrameFitsAControlFrame();
    void closeReasonStaysValidUtf8();
    void connectionIdRoundTrip_data();
    void connectionIdRoundTrip();
    void invalidConnectionIds_data();
    void invalidConnectionIds();
    void targetAndSourceNames();
};

void TestNamesAndFrames::codePoints_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qsizetype>("expected");
    QTest::newRow("empty") << QString() << qsizetype(0);
    QTest::newRow("ascii") << u"abc"_s << qsizetype(3);
    QTest::newRow("é (one UTF-16 unit, two UTF-8 bytes)") << u"é"_s << qsizetype(1);
    QTest::newRow("€ (three UTF-8 bytes)") << u"€"_s << qsizetype(1);
    QTest::newRow("emoji (surrogate pair)") << u"😀"_s << qsizetype(1);
    QTest::newRow("mixed") << u"a😀b€c𝄞"_s << qsizetype(6);
    QTest::newRow("4000 emoji") << repeated(u"😀"_s, 4000) << qsizetype(4000);
    QTest::newRow("lone high surrogate") << QString(QChar(0xD83D)) << qsizetype(1);
    QTest::newRow("lone high surrogate then a") << QString(QChar(0xD83D)) + u'a' << qsizetype(2);
    QTest::newRow("low then high (not a pair)")
            << QString(QChar(0xDE00)) + QChar(0xD83D) << qsizetype(2);
    QTest::newRow("combining accent counts") << u"e\u0301"_s << qsizetype(2);
}

void TestNamesAndFrames::codePoints()
{
    QFETCH(QString, text);
    QFETCH(qsizetype, expected);
    QCOMPARE(sb::names::codePoints(text), expected);
}

void TestNamesAndFrames::checkLength_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<qsizetype>("max");
    QTest::addColumn<bool>("valid");
    QTest::newRow("room empty") << u"room"_s << QString() << qsizetype(4000) << false;
    QTest::newRow("room 1") << u"room"_s << u"r"_s << qsizetype(4000) << true;
    QTest::newRow("room 4000") << u"room"_s << QString(4000, u'x') << qsizetype(4000) << true;
    QTest::newRow("room 4001") << u"room"_s << QString(4001, u'x') << qsizetype(4000) << false;
    QTest::newRow("room 4000 é") << u"room"_s << QString(4000, u'é') << qsizetype(4000) << true;
    QTest::newRow("room 4001 é") << u"room"_s << QString(4001, u'é') << qsizetype(4000) << false;
    QTest::newRow("room 4000 emoji")
            << u"room"_s << repeated(u"😀"_s, 4000) << qsizetype(4000) << true;
    QTest::newRow("room 4001 emoji")
            << u"room"_s << repeated(u"😀"_s, 4001) << qsizetype(4000) << false;
    QTest::newRow("room 3999 x + emoji")
            << u"room"_s << QString(3999, u'x') + u"😀"_s << qsizetype(4000) << true;
    QTest::newRow("event 130") << u"event"_s << QString(130, u'e') << qsizetype(130) << true;
    QTest::newRow("event 131") << u"event"_s << QString(131, u'e') << qsizetype(130) << false;
    QTest::newRow("event 130 emoji")
            << u"event"_s << repeated(u"😀"_s, 130) << qsizetype(130) << true;
    QTest::newRow("user 255") << u"user"_s << QString(255, u'u') << qsizetype(255) << true;
    QTest::newRow("user 256") << u"user"_s << QString(256, u'u') << qsizetype(255) << false;
    QTest::newRow("session empty") << u"session"_s << u""_s << qsizetype(255) << false;
    QTest::newRow("session space") << u"session"_s << u" "_s << qsizetype(255) << true;
}

void TestNamesAndFrames::checkLength()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(qsizetype, max);
    QFETCH(bool, valid);
    QString message;
    QCOMPARE(sb::names::checkLength(field, value, max, &message), valid);
    if (valid) {
        QVERIFY2(message.isEmpty(), qPrintable(message));
    } else {
        QVERIFY(!message.isEmpty());
        QVERIFY2(message.contains(field), qPrintable(message));
    }
}

void TestNamesAndFrames::limitsMatchTheContract()
{
    QCOMPARE(sb::names::kRoomMax, qsizetype(4000));
    QCOMPARE(sb::names::kEventMax, qsizetype(130));
    QCOMPARE(sb::names::kUserMax, qsizetype(255));
    QCOMPARE(sb::names::kSessionMax, qsizetype(255));
}

void TestNamesAndFrames::textFrame_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("lengthForm");
    QTest::addColumn<QByteArray>("header");
    QTest::newRow("0") << 0 << 7 << QByteArray("\x81\x00", 2);
    QTest::newRow("1") << 1 << 7 << QByteArray("\x81\x01", 2);
    QTest::newRow("125") << 125 << 7 << QByteArray("\x81\x7d", 2);
    QTest::newRow("126") << 126 << 16 << QByteArray("\x81\x7e\x00\x7e", 4);
    QTest::newRow("127") << 127 << 16 << QByteArray("\x81\x7e\x00\x7f", 4);
    QTest::newRow("256") << 256 << 16 << QByteArray("\x81\x7e\x01\x00", 4);
    QTest::newRow("65535") << 65535 << 16 << QByteArray("\x81\x7e\xff\xff", 4);
    QTest::newRow("65536") << 65536 << 64
                           << QByteArray("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    QTest::newRow("1 MiB + 3") << (1 << 20) + 3 << 64
                               << QByteArray("\x81\x7f\x00\x00\x00\x00\x00\x10\x00\x03", 10);
}

void TestNamesAndFrames::textFrame()
{
    QFETCH(int, size);
    QFETCH(int, lengthForm);
    QFETCH(QByteArray, header);
    QByteArray payload(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        payload[i] = char('a' + i % 26);
    const QByteArray frame = sb::wsframe::text(payload);

    QCOMPARE(frame.size(), header.size() + size);
    QCOMPARE(frame.left(header.size()).toHex(' '), header.toHex(' '));
    const ParsedFrame p = parseFrame(frame);
    QVERIFY2(p.ok, qPrintable(p.error));
    QVERIFY(p.fin);
    QCOMPARE(p.rsv, 0);
    QCOMPARE(p.opcode, 0x1);
    QVERIFY(!p.masked);
    QCOMPARE(p.lengthForm, lengthForm);
    QCOMPARE(p.length, quint64(size));
    QCOMPARE(p.payload, payload);
}

void TestNamesAndFrames::closeFrame_data()
{
    QTest::addColumn<quint16>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("1000 bye") << quint16(1000) << "bye"_ba
                              << QByteArray("\x88\x05\x03\xe8"
                                            "bye",
                                            7);
    QTest::newRow("1001 no reason")
            << quint16(1001) << QByteArray() << QByteArray("\x88\x02\x03\xe9", 4);
    QTest::newRow("4000 admin") << quint16(4000) << "closed by an administrator"_ba
                                << QByteArray("\x88\x1c\x0f\xa0", 4) + "closed by an administrator";
    QTest::newRow("1013 try again") << quint16(1013) << "slow"_ba
                                    << QByteArray("\x88\x06\x03\xf5"
                                                  "slow",
                                                  8);
    QTest::newRow("1007 utf-8 reason")
            << quint16(1007) << "\xc3\xa9"_ba << QByteArray("\x88\x04\x03\xef\xc3\xa9", 6);
    QTest::newRow("65535") << quint16(0xFFFF) << QByteArray() << QByteArray("\x88\x02\xff\xff", 4);
}

void TestNamesAndFrames::closeFrame()
{
    QFETCH(quint16, code);
    QFETCH(QByteArray, reason);
    QFETCH(QByteArray, expected);
    const QByteArray frame = sb::wsframe::close(code, reason);
    QCOMPARE(frame.toHex(' '), expected.toHex(' '));
    const ParsedFrame p = parseFrame(frame);
    QVERIFY2(p.ok, qPrintable(p.error));
    QVERIFY(p.fin);
    QCOMPARE(p.opcode, 0x8);
    QVERIFY(!p.masked);
    QCOMPARE((quint16(quint8(p.payload[0])) << 8) | quint8(p.payload[1]), int(code));
    QCOMPARE(p.payload.mid(2), reason);
}

void TestNamesAndFrames::closeFrameFitsAControlFrame()
{
    // RFC 6455 5.5: control frames carry at most 125 bytes of payload.
    const QByteArray longReason(300, 'r');
    const QByteArray frame = sb::wsframe::close(1008, longReason);
    const ParsedFrame p = parseFrame(frame);
    QVERIFY2(p.ok, qPrintable(p.error));
    QCOMPARE(p.lengthForm, 7);
    QVERIFY(p.length <= 125);
    QCOMPARE(quint8(p.payload[0]), quint8(0x03));
    QCOMPARE(quint8(p.payload[1]), quint8(0xf0));
    QVERIFY(longReason.startsWith(p.payload.mid(2)));
    QVERIFY(p.payload.size() > 2); // some of the reason is kept
}

void TestNamesAndFrames::closeReasonStaysValidUtf8()
{
    // A shortened reason must not end in a cut UTF-8 sequence: clients fail the connection
    // on an invalid close reason (RFC 6455 8.1). 'é' is two bytes, so 123 bytes would split one.
    const QByteArray reason = QString(100, u'é').toUtf8();
    const QByteArray frame = sb::wsframe::close(1000, reason);
    const ParsedFrame p = parseFrame(frame);
    QVERIFY2(p.ok, qPrintable(p.error));
    QVERIFY(p.length <= 125);
    const QByteArray kept = p.payload.mid(2);
    QVERIFY(reason.startsWith(kept));
    QStringDecoder decoder(QStringDecoder::Utf8,
                           QStringDecoder::Flag::Stateless); // a cut sequence is an error
    const QString text = decoder(kept);
    QVERIFY2(!decoder.hasError(),
             qPrintable(u"close reason of %1 bytes is not valid UTF-8"_s.arg(kept.size())));
    QVERIFY(!text.isEmpty());
}

void TestNamesAndFrames::connectionIdRoundTrip_data()
{
    QTest::addColumn<quint64>("id");
    QTest::addColumn<QString>("text");
    QTest::newRow("1") << quint64(1) << u"c1"_s;
    QTest::newRow("42") << quint64(42) << u"c42"_s;
    QTest::newRow("1000000") << quint64(1000000) << u"c1000000"_s;
    QTest::newRow("2^32") << quint64(4294967296ULL) << u"c4294967296"_s;
    QTest::newRow("local max") << quint64(sb::kConnLocalMask) << u"c1099511627775"_s;
    // In a cluster the node's number is part of the id (docs/API.md, "Cluster").
    QTest::newRow("node 1") << sb::firstConnectionId(1) << u"n1.c1"_s;
    QTest::newRow("node 3, c17") << ((quint64(3) << sb::kConnNodeShift) | 17) << u"n3.c17"_s;
    QTest::newRow("max") << ((quint64(sb::kConnNodeMax) << sb::kConnNodeShift) | sb::kConnLocalMask)
                         << u"n65535.c1099511627775"_s;
}

void TestNamesAndFrames::connectionIdRoundTrip()
{
    QFETCH(quint64, id);
    QFETCH(QString, text);
    QCOMPARE(sb::connectionIdText(id), text);
    QCOMPARE(sb::parseConnectionId(text), id);
    QCOMPARE(sb::parseConnectionId(sb::connectionIdText(id)), id);
}

void TestNamesAndFrames::invalidConnectionIds_data()
{
    QTest::addColumn<QString>("text");
    for (const QString &s :
         {QString(), u""_s, u"c"_s, u"c0"_s, u"c00"_s, u"c01"_s, u"1"_s, u"C1"_s, u"x1"_s, u"c-1"_s,
          u"c1x"_s, u"cx"_s, u"c1.0"_s, u"c0x1"_s, u"c18446744073709551616"_s,
          u"c99999999999999999999"_s, u"cc1"_s,
          // Not the text connectionIdText() makes, so no connection has it:
          u"c+1"_s, u"c 1"_s, u"c1 "_s, u" c1"_s,
          // past the local part's 40 bits, and cluster ids that are not ids
          u"c1099511627776"_s, u"n0.c1"_s, u"n1"_s, u"n1."_s, u"n1.c0"_s, u"n01.c1"_s,
          u"n65536.c1"_s, u"n1.n1.c1"_s, u"n1c1"_s, u"n1.c"_s, u"nx.c1"_s, u"n1.C1"_s, u"n 1.c1"_s})
        QTest::addRow("'%s'", qPrintable(s)) << s;
}

void TestNamesAndFrames::invalidConnectionIds()
{
    QFETCH(QString, text);
    QCOMPARE(sb::parseConnectionId(text), quint64(0));
}

void TestNamesAndFrames::targetAndSourceNames()
{
    // The names of log records (docs/API.md, "Message log records").
    QCOMPARE(sb::targetName(sb::EmitTarget::Room), u"room"_s);
    QCOMPARE(sb::targetName(sb::EmitTarget::User), u"user"_s);
    QCOMPARE(sb::targetName(sb::EmitTarget::All), u"all"_s);
    QCOMPARE(sb::targetName(sb::EmitTarget::Connection), u"connection"_s);
    QCOMPARE(sb::targetName(sb::EmitTarget::Legacy), u"legacy"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Rest), u"rest"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Ws), u"ws"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Console), u"console"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Compat), u"compat"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Notify), u"notify"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Handler), u"handler"_s);
    QCOMPARE(sb::sourceName(sb::EmitSource::Client), u"client"_s);
}

QTEST_GUILESS_MAIN(TestNamesAndFrames)
#include "tst_names_and_frames.moc"
