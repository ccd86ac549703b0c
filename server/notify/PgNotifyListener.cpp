#include "notify/PgNotifyListener.h"

#include "commands/EmitService.h"
#include "notify/NotifyPayload.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimer>

#include <atomic>

#include <cstring>

namespace sb {

Q_LOGGING_CATEGORY(lcNotify, "switchboard.notify", QtInfoMsg)

namespace {

QString uniqueConnectionName()
{
    static std::atomic<int> counter{0};
    return QStringLiteral("sb-pg-listen-%1").arg(++counter);
}

// An error text of the driver (libpq's span lines) on one line.
QString oneLine(const QString &text)
{
    QString s = text.simplified();
    return s.isEmpty() ? QStringLiteral("no reason given") : s;
}

// A payload for the log: at most 200 characters, on one line.
QString excerpt(const QString &payload)
{
    QString s = payload.left(200);
    s.replace(u'\n', u' ');
    s.replace(u'\r', u' ');
    return payload.size() > 200 ? s + QStringLiteral("...") : s;
}

} // namespace

PgNotifyListener::PgNotifyListener(Options options, const EmitService *emits, QObject *parent)
    : QObject(parent),
      m_options(std::move(options)),
      m_emits(emits),
      m_connectionName(uniqueConnectionName()),
      m_remote(QStringLiteral("%1:%2").arg(m_options.url.host).arg(m_options.url.port)),
      m_verifier(NotifyVerifier::Options{m_options.apiKey, m_options.channel, m_options.maxAgeMs,
                                         m_options.maxAheadMs})
{ }

PgNotifyListener::~PgNotifyListener()
{
    stop();
}

qint64 PgNotifyListener::lockKey(const QString &channel)
{
    const QByteArray digest = QCryptographicHash::hash(
            QByteArray("switchboard-listen:" + channel.toUtf8()), QCryptographicHash::Sha256);
    qint64 key = 0;
    std::memcpy(&key, digest.constData(), sizeof key);
    return key;
}

QString PgNotifyListener::connectOptions()
{
    return QStringLiteral("connect_timeout=5;keepalives=1;keepalives_idle=30;"
                          "keepalives_interval=10;keepalives_count=3;"
                          "application_name=switchboard-listen");
}

void PgNotifyListener::start()
{
    if (!m_stopped)
        return;
    m_stopped = false;
    m_healthTimer = new QTimer(this);
    m_healthTimer->setInterval(m_options.healthCheckMs);
    connect(m_healthTimer, &QTimer::timeout, this, [this] { checkConnection(true); });
    m_stateTimer = new QTimer(this);
    m_stateTimer->setInterval(m_options.stateCheckMs);
    connect(m_stateTimer, &QTimer::timeout, this, [this] { checkConnection(false); });
    m_retryTimer = new QTimer(this);
    m_retryTimer->setSingleShot(true);
    connect(m_retryTimer, &QTimer::timeout, this, &PgNotifyListener::tryConnect);
    m_busyTimer = new QTimer(this);
    m_busyTimer->setSingleShot(true);
    m_busyTimer->setInterval(m_options.busyRetryMs);
    connect(m_busyTimer, &QTimer::timeout, this, &PgNotifyListener::publishPending);
    m_retryDelayMs = m_options.minRetryMs;
    if (!m_verifier.authenticates()) {
        // docs/API.md, "Notifications are signed": only with --insecure and no api_key.
        qCWarning(lcNotify).noquote()
                << QStringLiteral("NOT AUTHENTICATED: no api_key, so notifications on channel %1 "
                                  "are taken unsigned - any role that can connect to the "
                                  "database can NOTIFY %1 and emit to every page; configure an "
                                  "api_key outside development")
                           .arg(m_options.channel);
    }
    tryConnect();
}

void PgNotifyListener::stop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    delete m_healthTimer;
    m_healthTimer = nullptr;
    delete m_stateTimer;
    m_stateTimer = nullptr;
    delete m_retryTimer;
    m_retryTimer = nullptr;
    delete m_busyTimer;
    m_busyTimer = nullptr;
    if (!m_pending.empty()) {
        qCWarning(lcNotify) << "stopping with" << m_pending.size()
                            << "notifications the busy server could not take: dropped";
        m_skipped.fetch_add(m_pending.size(), std::memory_order_relaxed);
        m_pending.clear();
    }
    closeConnection();
}

void PgNotifyListener::tryConnect()
{
    if (m_stopped)
        return;
    closeConnection();
    QString error;
    bool standby = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_connectionName);
        m_options.url.applyTo(db, connectOptions());
        if (!db.open()) {
            error = db.lastError().text();
        } else {
            // libpq prints server notices on stderr: warnings and errors only.
            QSqlQuery(db).exec(QStringLiteral("SET client_min_messages TO warning"));
            QSqlDriver *driver = db.driver();
            if (m_options.exclusive && !holdsListenLock(db, &error)) {
                // Another node listens (no error): stand by, once `db` is out of scope.
                standby = error.isEmpty();
            } else if (!driver->subscribeToNotification(m_options.channel)) {
                error = QStringLiteral("LISTEN %1 failed: %2")
                                .arg(m_options.channel, driver->lastError().text());
            } else {
                connect(driver, &QSqlDriver::notification, this, &PgNotifyListener::onNotification);
                m_db = db;
            }
        }
    }
    if (standby) {
        standBy();
        return;
    }
    if (!error.isEmpty()) {
        closeConnection();
        ++m_failedAttempts;
        qCWarning(lcNotify).noquote()
                << QStringLiteral("cannot listen on %1 channel %2 (attempt %3): %4 - retrying in "
                                  "%5 ms")
                           .arg(m_options.url.describe(), m_options.channel)
                           .arg(m_failedAttempts)
                           .arg(oneLine(error))
                           .arg(m_retryDelayMs);
        scheduleReconnect();
        return;
    }
    const bool reconnected = m_everConnected;
    m_everConnected = true;
    if (reconnected)
        m_reconnects.fetch_add(1, std::memory_order_relaxed);
    const QString attempts = m_failedAttempts
            ? QStringLiteral(" after %1 failed attempts").arg(m_failedAttempts)
            : QString();
    qCInfo(lcNotify).noquote() << (reconnected ? "reconnected: listening on" : "listening on")
                               << m_options.url.describe() << "channel"
                               << m_options.channel + attempts
                    + (m_options.exclusive ? QStringLiteral(" (for the cluster)") : QString());
    m_standingBy = false;
    m_failedAttempts = 0;
    m_retryDelayMs = m_options.minRetryMs;
    m_healthTimer->start();
    m_stateTimer->start();
    m_listening.store(true, std::memory_order_release);
    Q_EMIT listeningChanged(true);
}

// The session-level lock goes with the connection: a node that dies (even by kill -9) frees it
// as soon as PostgreSQL sees its connection close, and a standing-by node takes over.
bool PgNotifyListener::holdsListenLock(QSqlDatabase &db, QString *error)
{
    QSqlQuery q(db);
    q.prepare(QStringLiteral("SELECT pg_try_advisory_lock(?)"));
    q.addBindValue(lockKey(m_options.channel));
    if (!q.exec() || !q.next()) {
        *error = QStringLiteral("pg_try_advisory_lock failed: %1").arg(q.lastError().text());
        return false;
    }
    return q.value(0).toBool();
}

void PgNotifyListener::standBy()
{
    closeConnection();
    if (!m_standingBy)
        qCInfo(lcNotify).noquote()
                << "another node of the cluster listens on" << m_options.url.describe() << "channel"
                << m_options.channel << "- standing by to take over";
    m_standingBy = true;
    m_failedAttempts = 0;
    m_retryDelayMs = m_options.minRetryMs;
    if (m_retryTimer)
        m_retryTimer->start(m_options.standbyRetryMs);
}

void PgNotifyListener::closeConnection()
{
    if (m_healthTimer)
        m_healthTimer->stop();
    if (m_stateTimer)
        m_stateTimer->stop();
    if (m_db.isValid()) {
        // Closing deletes the driver's socket notifier; the driver object goes with the
        // connection's last handle.
        m_db.close();
        m_db = QSqlDatabase();
    }
    if (QSqlDatabase::contains(m_connectionName))
        QSqlDatabase::removeDatabase(m_connectionName);
    if (m_listening.exchange(false, std::memory_order_acq_rel))
        Q_EMIT listeningChanged(false);
}

void PgNotifyListener::scheduleReconnect()
{
    if (m_stopped || !m_retryTimer)
        return;
    // Jitter: +-25 %, so that many servers do not knock on a restarted database at once.
    const int jitter = m_retryDelayMs / 4;
    const int delay = m_retryDelayMs
            + (jitter > 0 ? int(QRandomGenerator::global()->bounded(2 * jitter + 1)) - jitter : 0);
    m_retryTimer->start(qMax(1, delay));
    m_retryDelayMs = qMin(m_options.maxRetryMs, m_retryDelayMs * 2);
}

void PgNotifyListener::connectionLost(const QString &why)
{
    if (m_stopped || !m_db.isValid())
        return;
    qCWarning(lcNotify).noquote()
            << QStringLiteral("lost the connection to %1 (%2) - reconnecting in %3 ms; "
                              "notifications sent meanwhile are lost")
                       .arg(m_options.url.describe(), oneLine(why))
                       .arg(m_retryDelayMs);
    closeConnection();
    scheduleReconnect();
}

void PgNotifyListener::checkConnection(bool query)
{
    if (m_stopped || !m_db.isValid())
        return;
    if (!m_db.driver()->isOpen()) {
        connectionLost(m_db.driver()->lastError().text().isEmpty()
                               ? QStringLiteral("the server closed the connection")
                               : m_db.driver()->lastError().text());
        return;
    }
    if (!query)
        return;
    QString why;
    {
        QSqlQuery q(m_db); // gone before the connection may be closed below
        if (!q.exec(QStringLiteral("SELECT 1")) || !m_db.driver()->isOpen())
            why = q.lastError().text().isEmpty() ? QStringLiteral("SELECT 1 failed")
                                                 : q.lastError().text();
    }
    if (!why.isEmpty())
        connectionLost(why);
}

void PgNotifyListener::onNotification(const QString &name, QSqlDriver::NotificationSource,
                                      const QVariant &payload)
{
    if (name != m_options.channel)
        return;
    m_received.fetch_add(1, std::memory_order_relaxed);
    const NotifyVerifier::Result checked =
            m_verifier.verify(payload.toString().toUtf8(), QDateTime::currentMSecsSinceEpoch());
    if (checked.rejected) {
        rejected(*checked.rejected, checked.why);
        return;
    }
    // Authenticated (or no api_key to check with): the payload may be shown.
    QString error;
    std::optional<EmitRequest> request = parseNotifyPayload(checked.payload, &error);
    if (!request) {
        m_skipped.fetch_add(1, std::memory_order_relaxed);
        if (m_options.metrics)
            m_options.metrics->countNotifyRejected(NotifyRejectReason::Invalid);
        qCWarning(lcNotify).noquote()
                << "skipped a notification on channel" << name << "-" << error
                << "- payload:" << excerpt(QString::fromUtf8(checked.payload));
        return;
    }
    request->remote = m_remote;
    m_pending.push_back(Pending{std::move(*request), QDateTime::currentMSecsSinceEpoch()});
    if (qsizetype(m_pending.size()) > m_options.maxPending) {
        m_pending.pop_front();
        m_skipped.fetch_add(1, std::memory_order_relaxed);
        qCWarning(lcNotify) << "the server is busy and" << m_options.maxPending
                            << "notifications wait: dropped the oldest";
    }
    publishPending();
}

// A notification that did not verify: counted, and a warning at most every rejectLogMs
// naming the reason (never the payload: anybody may send them, and as many as they like).
void PgNotifyListener::rejected(NotifyRejectReason reason, const QString &why)
{
    m_skipped.fetch_add(1, std::memory_order_relaxed);
    if (m_options.metrics)
        m_options.metrics->countNotifyRejected(reason);
    if (m_rejectLog.isValid() && m_rejectLog.elapsed() < m_options.rejectLogMs) {
        ++m_rejectsUnlogged;
        return;
    }
    const QString more = m_rejectsUnlogged
            ? QStringLiteral(" (and %1 more since the last warning; "
                             "switchboard_notify_rejected_total counts them by reason)")
                      .arg(m_rejectsUnlogged)
            : QString();
    qCWarning(lcNotify).noquote() << QStringLiteral(
                                             "rejected a notification on channel %1 (%2): %3%4")
                                             .arg(m_options.channel, notifyRejectReasonName(reason),
                                                  why, more);
    m_rejectsUnlogged = 0;
    m_rejectLog.start();
}

// Publishes waiting emits in order, one at a time (in a cluster each is answered later);
// when one is refused (the queues are full, as a REST caller would get 503), tries again
// shortly instead of dropping it.
void PgNotifyListener::publishPending()
{
    if (m_publishing)
        return; // the loop below goes on
    m_publishing = true;
    while (!m_pending.empty() && !m_inFlight && !(m_busyTimer && m_busyTimer->isActive())) {
        m_inFlight = true;
        m_emits->emitAsync(m_pending.front().request, this,
                           [this](std::optional<EmitResult> result, const CommandError &) {
                               published(result ? &*result : nullptr);
                           });
    }
    m_publishing = false;
}

void PgNotifyListener::published(const EmitResult *result)
{
    m_inFlight = false;
    if (m_pending.empty()) // stopped meanwhile
        return;
    const Pending &next = m_pending.front();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (result) {
        qCDebug(lcNotify).noquote()
                << "emit" << result->id << targetName(next.request.target) << next.request.to
                << "event" << next.request.event << "delivered" << result->delivered;
        m_pending.pop_front();
    } else if (now - next.sinceMs > m_options.maxPendingAgeMs) {
        qCWarning(lcNotify).noquote()
                << "dropped a notification (event" << next.request.event
                << ") the busy server could not take for" << (now - next.sinceMs) << "ms";
        m_skipped.fetch_add(1, std::memory_order_relaxed);
        m_pending.pop_front();
    } else if (m_busyTimer) {
        m_busyTimer->start();
        return;
    }
    publishPending();
}

} // namespace sb
