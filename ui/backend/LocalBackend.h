#pragma once

#include "backend/ConsoleBackend.h"
#include "config/ConfigLoader.h"

#include <functional>
#include <memory>

class QThread;

namespace sb {
class AdminFeed;
struct CommandError;
class OutboundClients;
class Server;
} // namespace sb

namespace sb::ui {

// The console hosting the server in this process. The server runs on its own threads (a
// host thread that starts and stops it, plus the server's HTTP and I/O threads), never on
// the GUI thread; the console watches it through an in-process admin feed (the same frames
// as /admin, no socket) and acts on it through its REST API on loopback.
class LocalBackend final : public ConsoleBackend
{
    Q_OBJECT

public:
    // `loadConfig` resolves the configuration at each start (flags, environment, file), so
    // that settings saved to the file apply at the next start.
    explicit LocalBackend(std::function<ConfigLoader::Result()> loadConfig,
                          QObject *parent = nullptr);
    ~LocalBackend() override;

    void start() override;
    void stop() override;
    bool isHosted() const override { return true; }
    bool tlsEnabled() const override { return m_config.tlsEnabled(); }
    QString address() const override { return m_address; }
    // The configuration file of the hosted server, read and written with the server's
    // configuration loader; saved values apply at the next start.
    QString settingsLocation() const override;
    std::optional<SettingValues> loadSettings(QString *error) const override;
    bool saveSettings(const SettingValues &values, QString *error) override;
    // This console is one of the nodes: it cannot move to another (docs/ARCHITECTURE.md).
    bool canAttachToNode(QString *why) const override;
    bool attachToNode(const NodeInfo &, QString *error) override { return canAttachToNode(error); }

    // Outbound clients: straight to the hosted server's registry (thread-safe, it never
    // blocks), answered as the REST calls answer (docs/API.md, "Admin stream").
    void createClient(const ClientRequest &request, Done done) override;
    void sendToClient(const QString &id, const QString &text, Done done) override;
    void closeClient(const QString &id, Done done) override;

    // The configuration of the running (or last started) server.
    const ServerConfig &config() const { return m_config; }
    // Stops, then starts with the configuration resolved again.
    void restart();

private:
    void started(sb::Server *server, const QString &error);
    void attachFeed();
    void drainFeed();
    void stopServer(bool wait);
    // The hosted server's outbound clients; null (and `done` told so) when it is not running.
    sb::OutboundClients *outboundClients(const Done &done);
    // Calls `done` from the event loop, as a network answer would be.
    void answer(const Done &done, const RestClient::Reply &reply);
    void answerError(const Done &done, const sb::CommandError &error);

    std::function<ConfigLoader::Result()> m_loadConfig;
    ServerConfig m_config;
    QString m_address;
    QThread *m_hostThread;
    QObject *m_hostAnchor; // lives on the host thread; the server's work runs through it
    sb::Server *m_server = nullptr;
    std::shared_ptr<AdminFeed> m_feed;
    bool m_restartPending = false;
    quint64 m_generation = 0; // ignores the outcome of a start that was superseded
};

} // namespace sb::ui
