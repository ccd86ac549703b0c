// TLS on the one listener: a self-signed certificate made with openssl, https REST (through
// QNetworkAccessManager and the raw client) and wss join + event on the same port.

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace sbit;

class TestTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void listeningLineSaysHttps();
    void httpsRest_viaNetworkAccessManager();
    void httpsRest_rawClient();
    void wss_joinAndEvent();
    void plainHttpOnTlsPort_notServedInClear();

private:
    QTemporaryDir m_tmp;
    QString m_cert;
    QString m_key;
    std::unique_ptr<ServerProcess> m_server;
};

void TestTls::initTestCase()
{
    if (!QSslSocket::supportsSsl())
        QSKIP("Qt has no TLS backend here");
    const QString openssl = QStandardPaths::findExecutable(u"openssl"_s);
    if (openssl.isEmpty())
        QSKIP("openssl is not installed");
    m_cert = m_tmp.filePath(u"cert.pem"_s);
    m_key = m_tmp.filePath(u"key.pem"_s);
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(openssl,
            {u"req"_s, u"-x509"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s, u"-subj"_s,
             u"/CN=localhost"_s, u"-days"_s, u"1"_s, u"-keyout"_s, m_key, u"-out"_s, m_cert});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAll().constData());
    QVERIFY(QFile::exists(m_cert) && QFile::exists(m_key));

    m_server = std::make_unique<ServerProcess>();
    QVERIFY2(m_server->start({u"--tls-cert"_s, m_cert, u"--tls-key"_s, m_key}),
             qPrintable(m_server->lastError()));
}

void TestTls::cleanupTestCase()
{
    if (m_server)
        m_server->kill();
}

void TestTls::cleanup()
{
    if (QTest::currentTestFailed() && m_server)
        qWarning().noquote() << "daemon output (tail):\n" << m_server->output().right(3000);
}

void TestTls::listeningLineSaysHttps()
{
    QVERIFY(m_server->isTls());
    QVERIFY(m_server->output().contains(u"listening on https://"_s));
}

void TestTls::httpsRest_viaNetworkAccessManager()
{
    QNetworkAccessManager nam;
    auto send = [&](const QByteArray &verb, const QString &path, const QByteArray &body,
                    bool withKey) {
        QNetworkRequest req(m_server->httpUrl(path));
        if (withKey)
            req.setRawHeader("X-API-Key", m_server->apiKey());
        if (!body.isEmpty())
            req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setCaCertificates(QSslCertificate::fromPath(m_cert));
        req.setSslConfiguration(ssl);
        QNetworkReply *reply = nam.sendCustomRequest(req, verb, body);
        QObject::connect(reply, &QNetworkReply::sslErrors, reply,
                         [reply](const QList<QSslError> &errors) {
                             // self-signed for CN=localhost, reached as 127.0.0.1: only the host
                             // name differs
                             QList<QSslError> expected;
                             for (const QSslError &e : errors) {
                                 if (e.error() == QSslError::HostNameMismatch
                                     || e.error() == QSslError::SelfSignedCertificate)
                                     expected.append(e);
                             }
                             reply->ignoreSslErrors(expected);
                         });
        waitUntil([&] { return reply->isFinished(); }, 10000);
        reply->deleteLater();
        return std::make_pair(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                              reply->readAll());
    };
    auto health = send("GET", u"/api/health"_s, {}, false);
    QCOMPARE(health.first, 200);
    QCOMPARE(parseObject(health.second).value(u"status"_s).toString(), u"ok"_s);
    auto reg = send("POST", u"/api/register"_s, R"({"room":"tls","user":"u","session":"s"})", true);
    QCOMPARE(reg.first, 200);
    QVERIFY(parseObject(reg.second).contains(u"token"_s));
    auto unauth = send("GET", u"/api/stats"_s, {}, false);
    QCOMPARE(unauth.first, 401);
}

void TestTls::httpsRest_rawClient()
{
    auto api = m_server->client();
    HttpResponse r = api->get("/api/health");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    r = api->postJson("/api/emit/all", {{u"event"_s, u"e"_s}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    // keep-alive over TLS
    r = api->get("/api/stats");
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
}

void TestTls::wss_joinAndEvent()
{
    auto api = m_server->client();
    WsClient c;
    QVERIFY2(c.open(m_server->wsUrl(u"/ws"_s), 10000), qPrintable(c.errorString()));
    QVERIFY(m_server->wsUrl(u"/ws"_s).scheme() == u"wss");
    const QJsonObject j = c.join(registerToken(*api, u"tls-room"_s, u"U"_s, u"S"_s));
    QCOMPARE(j.value(u"type"_s).toString(), u"joined"_s);
    const HttpResponse r = api->postJson("/api/emit/room",
                                         {{u"room"_s, u"tls-room"_s},
                                          {u"event"_s, u"secure"_s},
                                          {u"data"_s, QJsonObject{{u"n"_s, 1}}}});
    QVERIFY2(r.status == 200, qPrintable(r.describe()));
    QCOMPARE(r.object().value(u"delivered"_s).toInt(-1), 1);
    const QJsonObject ev = c.waitForFrame(u"event"_s);
    QCOMPARE(ev.value(u"event"_s).toString(), u"secure"_s);
    QCOMPARE(ev.value(u"data"_s), QJsonValue(QJsonObject{{u"n"_s, 1}}));

    // the ?token= form over wss too
    WsClient q;
    QVERIFY(q.open(m_server->wsUrl(u"/ws?token="_s
                                   % QString::fromLatin1(
                                           registerToken(*api, u"tls-room"_s, u"U2"_s, u"S2"_s))),
                   10000));
    QCOMPARE(q.waitForFrame(u"joined"_s).value(u"room"_s).toString(), u"tls-room"_s);
}

void TestTls::plainHttpOnTlsPort_notServedInClear()
{
    QTcpSocket s;
    s.connectToHost(m_server->host(), m_server->port());
    QVERIFY(waitUntil([&] { return s.state() == QAbstractSocket::ConnectedState; }, 5000));
    s.write("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    QByteArray got;
    waitUntil(
            [&] {
                got += s.readAll();
                return s.state() == QAbstractSocket::UnconnectedState || got.contains("\"status\"");
            },
            3000);
    QVERIFY2(!got.contains("\"status\":\"ok\""), "health answered in clear text on the TLS port");
    // and the server is still fine
    QCOMPARE(m_server->client(false)->get("/api/health").status, 200);
}

QTEST_MAIN(TestTls)
#include "tst_tls.moc"
