#pragma once

#include "backend/ConsoleBackend.h"

#include <QUrl>

class QTimer;
class QWebSocket;

namespace sb::ui {

// The console attached to a remote server: its admin stream at ws[s]://host:port/admin for
// the live picture, its REST API for actions. Reconnects by itself (1 s doubling to 15 s)
// until stopped; a refused key (401) is a failure, not a retry loop.
class RemoteBackend final : public ConsoleBackend
{
    Q_OBJECT

public:
    // `baseUrl` is http[s]://host:port.
    RemoteBackend(const QUrl &baseUrl, const QString &apiKey, QObject *parent = nullptr);
    ~RemoteBackend() override;

    void start() override;
    void stop() override;
    bool isHosted() const override { return false; }
    bool tlsEnabled() const override { return m_base.scheme() == u"https"; }
    QString address() const override { return m_base.toString(); }
    // A remote server's settings are not editable from here: its configuration file is on
    // its machine (and flags or variables may override it there).
    QString settingsLocation() const override { return {}; }
    std::optional<SettingValues> loadSettings(QString *error) const override;
    bool saveSettings(const SettingValues &values, QString *error) override;
    bool canAttachToNode(QString *why) const override;
    // Stops, then attaches to the node's address with the same scheme and API key.
    bool attachToNode(const NodeInfo &node, QString *error) override;

    // ws[s]://host:port/admin for http[s]://host:port; an empty URL when `base` is not one.
    static QUrl adminUrl(const QUrl &base);
    // Checks what --attach was given; empty when fine, else what is wrong.
    static QString checkBaseUrl(const QUrl &base);
    // The base URL of a node listening at `address` (host:port), with the scheme of
    // `current`; a node listening on every interface is reached at `current`'s host.
    static QUrl nodeBaseUrl(const QUrl &current, const QString &address);

private:
    void open();
    void scheduleReconnect(const QString &why);

    QUrl m_base;
    QString m_apiKey;
    QWebSocket *m_socket = nullptr;
    QTimer *m_retry;
    QList<QByteArray> m_pending; // frames of one event-loop pass, handled together
    int m_delayMs = 1000;
    bool m_wanted = false;
};

} // namespace sb::ui
