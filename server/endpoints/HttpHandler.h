#pragma once

#include "base/HandlerEvent.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <QUrl>

#include <deque>

class QJsonObject;
class QNetworkAccessManager;
class QNetworkReply;

namespace sb {

class HandlerServices;

// A handler that is a URL (docs/API.md, "HTTP handlers"): each event is POSTed as JSON; a 2xx
// answer's send, emit and close are applied in that order. A failure (connection, 5 s
// timeout, non-2xx) is retried 3 times with backoff, then logged and dropped. Events of one
// session go one at a time and in order; up to kMaxInFlight sessions at once. Lives on its
// endpoint's worker thread, with its own QNetworkAccessManager.
class HttpHandler final : public QObject
{
    Q_OBJECT

public:
    HttpHandler(const QString &url, const QString &key, const QString &endpoint,
                HandlerServices *services, QObject *parent = nullptr);
    ~HttpHandler() override;

    void submit(HandlerEvent event);
    // Events taken and not finished yet (waiting, ready, in a call or its retry).
    qint64 outstanding() const;
    qint64 outstandingWeight() const { return m_weight; } // HandlerEvent::weight() of them
    // Takes the events no call was started for (in order per session): when the handler is
    // replaced they go to the new one; outstanding() then counts the calls in flight only.
    std::deque<HandlerEvent> takeUnsent();

    static constexpr int kMaxInFlight = 8;
    static constexpr int kTimeoutMs = 5000;
    static constexpr int kRetries = 3;
    static constexpr qint64 kMaxAnswerBytes = 1024 * 1024;
    // The body of an event's POST.
    static QByteArray requestBody(const HandlerEvent &event);

Q_SIGNALS:
    // One per submitted event, once it was answered or given up.
    void finished(bool ok, const QString &error, qint64 weight);

private:
    struct Call
    {
        HandlerEvent event;
        QString key; // the session (or client) whose events go in order
        int attempt = 0;
    };
    void pump();
    void start(Call call);
    void answered(QNetworkReply *reply, Call call);
    void done(const Call &call, bool ok, const QString &error);
    // Applies a 2xx answer; false with *error when its body is not the contract's.
    bool apply(const HandlerEvent &event, const QByteArray &body, QString *error);
    bool applyEmit(const QJsonObject &entry, QString *error);

    const QUrl m_url;
    const QByteArray m_key;
    const QString m_endpoint;
    HandlerServices *m_services;
    QNetworkAccessManager *m_network;
    std::deque<Call> m_ready;                           // next calls, one per busy key at most
    QHash<QString, std::deque<HandlerEvent>> m_waiting; // behind a call of the same key
    QSet<QString> m_busy;                               // keys with a call ready or in flight
    int m_inFlight = 0;
    qint64 m_weight = 0;
};

} // namespace sb
