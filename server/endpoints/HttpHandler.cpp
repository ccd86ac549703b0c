#include "endpoints/HttpHandler.h"

#include "base/Logging.h"
#include "base/RawJson.h"
#include "clients/OutboundClients.h"
#include "endpoints/HandlerServices.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

namespace sb {

namespace {

QJsonValue nullable(const QString &s)
{
    return s.isNull() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

QString keyOf(const HandlerEvent &e)
{
    return e.session ? connectionIdText(e.session) : u"client " + e.client;
}

} // namespace

HttpHandler::HttpHandler(const QString &url, const QString &key, const QString &endpoint,
                         HandlerServices *services, QObject *parent)
    : QObject(parent),
      m_url(url),
      m_key(key.toUtf8()),
      m_endpoint(endpoint),
      m_services(services),
      m_network(new QNetworkAccessManager(this))
{
    m_network->setAutoDeleteReplies(true);
}

HttpHandler::~HttpHandler() = default;

QByteArray HttpHandler::requestBody(const HandlerEvent &e)
{
    QJsonObject o{
            {QStringLiteral("method"), HandlerEvent::methodName(e.method)},
            {QStringLiteral("endpoint"), nullable(e.endpoint)},
            {QStringLiteral("session"),
             e.session ? QJsonValue(connectionIdText(e.session)) : QJsonValue()},
            {QStringLiteral("user"), nullable(e.user)},
            {QStringLiteral("message"),
             e.method == HandlerEvent::Method::Message ? QJsonValue(e.message) : QJsonValue()},
            {QStringLiteral("error"),
             e.method == HandlerEvent::Method::Error ? QJsonValue(e.error) : QJsonValue()}};
    if (!e.client.isNull())
        o.insert(QStringLiteral("client"), e.client); // an outbound client's event
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

qint64 HttpHandler::outstanding() const
{
    qint64 n = m_inFlight + qint64(m_ready.size());
    for (const std::deque<HandlerEvent> &waiting : m_waiting)
        n += qint64(waiting.size());
    return n;
}

std::deque<HandlerEvent> HttpHandler::takeUnsent()
{
    std::deque<HandlerEvent> out;
    const auto takeWaiting = [&](const QString &key) {
        const auto waiting = m_waiting.find(key);
        if (waiting == m_waiting.end())
            return;
        for (HandlerEvent &e : *waiting)
            out.push_back(std::move(e));
        m_waiting.erase(waiting);
    };
    for (Call &call : m_ready) {
        const QString key = call.key;
        out.push_back(std::move(call.event));
        takeWaiting(key);
        m_busy.remove(key);
    }
    m_ready.clear();
    // The rest wait behind a call in flight, which is dropped.
    while (!m_waiting.isEmpty()) {
        const QString key = m_waiting.constBegin().key();
        takeWaiting(key);
    }
    for (const HandlerEvent &e : out)
        m_weight -= e.weight(); // outstandingWeight() is then the calls in flight's
    return out;
}

void HttpHandler::submit(HandlerEvent event)
{
    m_weight += event.weight();
    Call call;
    call.key = keyOf(event);
    call.event = std::move(event);
    if (m_busy.contains(call.key)) {
        m_waiting[call.key].push_back(std::move(call.event));
        return;
    }
    m_busy.insert(call.key);
    m_ready.push_back(std::move(call));
    pump();
}

void HttpHandler::pump()
{
    while (m_inFlight < kMaxInFlight && !m_ready.empty()) {
        Call call = std::move(m_ready.front());
        m_ready.pop_front();
        start(std::move(call));
    }
}

void HttpHandler::start(Call call)
{
    QNetworkRequest request(m_url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!m_key.isEmpty())
        request.setRawHeader(QByteArrayLiteral("X-Switchboard-Key"), m_key);
    request.setTransferTimeout(kTimeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    ++m_inFlight;
    QNetworkReply *reply = m_network->post(request, requestBody(call.event));
    // An answer larger than the bound is cut off, not buffered.
    connect(reply, &QNetworkReply::downloadProgress, reply, [reply](qint64 received, qint64) {
        if (received > kMaxAnswerBytes)
            reply->abort();
    });
    connect(reply, &QNetworkReply::finished, this,
            [this, reply, call = std::move(call)]() mutable { answered(reply, std::move(call)); });
}

void HttpHandler::answered(QNetworkReply *reply, Call call)
{
    --m_inFlight;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QString error;
    if (reply->error() == QNetworkReply::NoError && status >= 200 && status < 300) {
        const bool ok = apply(call.event, reply->readAll(), &error);
        done(call, ok, error);
        return;
    }
    error = reply->error() == QNetworkReply::OperationCanceledError
            ? QStringLiteral("no answer within %1 ms or answer too large").arg(kTimeoutMs)
            : status ? QStringLiteral("HTTP %1").arg(status)
                     : reply->errorString();
    if (call.attempt < kRetries) {
        const int delayMs = 250 << call.attempt; // 250, 500, 1000 ms
        ++call.attempt;
        qCInfo(lcEndpoints).noquote() << m_endpoint << "handler" << m_url.toDisplayString()
                                      << QStringLiteral("failed (%1), retry").arg(error)
                                      << call.attempt << "in" << delayMs << "ms";
        ++m_inFlight; // the retry keeps its place
        QTimer::singleShot(delayMs, this, [this, call = std::move(call)]() mutable {
            --m_inFlight;
            start(std::move(call));
        });
        return;
    }
    qCWarning(lcEndpoints).noquote()
            << m_endpoint << "handler" << m_url.toDisplayString() << "failed" << (kRetries + 1)
            << "times, event" << HandlerEvent::methodName(call.event.method) << "of" << call.key
            << "dropped:" << error;
    done(call, false, QStringLiteral("%1: %2").arg(m_url.toDisplayString(), error));
}

void HttpHandler::done(const Call &call, bool ok, const QString &error)
{
    const qint64 weight = call.event.weight();
    m_weight -= weight;
    Q_EMIT finished(ok, error, weight);
    auto waiting = m_waiting.find(call.key);
    if (waiting != m_waiting.end() && !waiting->empty()) {
        Call next;
        next.key = call.key;
        next.event = std::move(waiting->front());
        waiting->pop_front();
        if (waiting->empty())
            m_waiting.erase(waiting);
        m_ready.push_back(std::move(next));
    } else {
        m_busy.remove(call.key);
    }
    pump();
}

bool HttpHandler::apply(const HandlerEvent &event, const QByteArray &body, QString *error)
{
    if (body.trimmed().isEmpty())
        return true; // nothing to do
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("the handler's answer is not a JSON object");
        return false;
    }
    const QJsonObject answer = doc.object();
    bool ok = true;
    for (const QJsonValue &text : answer.value(u"send").toArray()) {
        if (!text.isString()) {
            *error = QStringLiteral("send: every entry must be a string");
            ok = false;
        } else if (event.session) {
            m_services->sendToSession(event.session, text.toString());
        } else if (CommandError why;
                   !m_services->clients()->send(event.client, text.toString(), &why)) {
            *error = QStringLiteral("send: ") + why.message;
            ok = false;
        }
    }
    for (const QJsonValue &entry : answer.value(u"emit").toArray())
        ok = applyEmit(entry.toObject(), error) && ok;
    const QJsonValue close = answer.value(u"close");
    if (close.isDouble()) {
        if (event.session)
            m_services->closeSession(event.session, quint16(qBound(1000, close.toInt(), 4999)));
        else
            m_services->clients()->remove(event.client);
    }
    return ok;
}

bool HttpHandler::applyEmit(const QJsonObject &entry, QString *error)
{
    EmitTarget target = EmitTarget::All;
    QString to;
    if (entry.value(u"room").isString()) {
        target = EmitTarget::Room;
        to = entry.value(u"room").toString();
    } else if (entry.value(u"user").isString()) {
        target = EmitTarget::User;
        to = entry.value(u"user").toString();
    } else if (entry.value(u"all").toBool() != true) {
        *error = QStringLiteral("emit: each entry needs room, user or \"all\": true");
        return false;
    }
    const QJsonValue data = entry.value(u"data");
    const QByteArray dataJson = data.isUndefined()
            ? QByteArrayLiteral("null")
            : QJsonDocument(QJsonArray{data}).toJson(QJsonDocument::Compact).chopped(1).mid(1);
    QString why;
    if (!m_services->emit(target, to, entry.value(u"event").toString(), dataJson, &why)) {
        *error = QStringLiteral("emit: ") + why;
        return false;
    }
    return true;
}

} // namespace sb
