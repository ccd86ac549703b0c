#include "EndpointHelpers.h"

#include "ApiHelpers.h"
#include "TestSupport.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace sbit {

QString endpointsDir(const ServerProcess &server)
{
    return server.dataDir() % u"/endpoints"_s;
}

QJsonObject descriptor(const QString &name, const QString &handler, const QString &auth)
{
    QJsonObject d{{u"endpoint"_s, name}, {u"handler"_s, handler}};
    if (!auth.isEmpty())
        d.insert(u"auth"_s, auth);
    return d;
}

bool writeFile(const QString &dir, const QString &relativePath, const QByteArray &content)
{
    const QString path = dir % u'/' % relativePath;
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return false;
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size()
            && file.commit();
}

bool writeDescriptor(const QString &dir, const QString &relativePath, const QJsonObject &d)
{
    return writeFile(dir, relativePath, QJsonDocument(d).toJson());
}

QJsonObject entryOfFile(HttpClient &api, const QString &file)
{
    for (const QJsonValue &v : api.get("/api/endpoints").array()) {
        if (v.toObject().value(u"file"_s).toString() == file)
            return v.toObject();
    }
    return {};
}

QJsonObject entryOf(HttpClient &api, const QString &name)
{
    for (const QJsonValue &v : api.get("/api/endpoints").array()) {
        const QJsonObject o = v.toObject();
        if (o.value(u"endpoint"_s).toString() == name && !o.contains(u"error"_s))
            return o;
    }
    return {};
}

bool waitForEndpoint(HttpClient &api, const QString &name, const QString &handler, int timeoutMs)
{
    return waitUntil(
            [&] {
                const QJsonObject o = entryOf(api, name);
                return !o.isEmpty()
                        && (handler.isEmpty() || o.value(u"handler"_s).toString() == handler);
            },
            timeoutMs);
}

std::unique_ptr<WsClient> openSession(const ServerProcess &server, const QString &pathAndQuery,
                                      QString *why)
{
    auto client = std::make_unique<WsClient>();
    if (!client->open(server.wsUrl(pathAndQuery))) {
        *why = u"cannot open "_s % pathAndQuery % u": "_s % client->errorString();
        return nullptr;
    }
    return client;
}

QString sessionIdOf(HttpClient &api, const WsClient &session)
{
    return connectionIdForPort(api, session.localPort());
}

int upgradeStatus(const ServerProcess &server, const QByteArray &pathAndQuery)
{
    RawWsClient raw;
    return raw.connectAndUpgrade(server.host(), server.port(), pathAndQuery);
}

QJsonObject handlerEvent(const QString &method, const QString &endpoint, const QString &session,
                         const QJsonValue &user, const QJsonValue &message, const QJsonValue &error)
{
    return QJsonObject{{u"method"_s, method}, {u"endpoint"_s, endpoint}, {u"session"_s, session},
                       {u"user"_s, user},     {u"message"_s, message},   {u"error"_s, error}};
}

QStringList nextTexts(WsClient &client, int n, int timeoutMs)
{
    QStringList out;
    WsFrame frame;
    while (out.size() < n && client.waitForAny(&frame, timeoutMs))
        out.append(frame.isBinary ? u"<binary>"_s : frame.text);
    return out;
}

QJsonArray logRecordsOf(HttpClient &api, const QString &event, int timeoutMs)
{
    QJsonArray records;
    waitUntil(
            [&] {
                records = api.get("/api/log?event=" + QUrl::toPercentEncoding(event))
                                  .object()
                                  .value(u"records"_s)
                                  .toArray();
                return !records.isEmpty();
            },
            timeoutMs);
    return records;
}

QByteArray sendAnswer(const QStringList &texts)
{
    return QJsonDocument(QJsonObject{{u"send"_s, QJsonArray::fromStringList(texts)}})
            .toJson(QJsonDocument::Compact);
}

} // namespace sbit
