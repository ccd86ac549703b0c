#pragma once

#include "clients/OutboundClients.h"

#include <QList>
#include <QString>

namespace sb {

// <data_dir>/clients.json (docs/API.md, "Outbound clients"): the clients to open again after
// a restart and the next id, {"next": n, "clients": [{"id", "uri", "handler" | "room" +
// "event"}]}. Written whole (QSaveFile, mode 0600) on every create and delete.
class ClientStore
{
public:
    struct Content
    {
        quint64 nextId = 1;
        QList<ClientInfo> clients; // spec and id only, in file order
    };

    explicit ClientStore(QString dataDir);

    // The file's clients; a missing file is empty, bad entries are skipped with a warning
    // (`check` says whether a spec is acceptable, with why).
    Content load(const std::function<bool(const ClientSpec &, QString *why)> &check) const;
    // False with a warning when it cannot be written (the clients still work).
    bool save(quint64 nextId, const QList<ClientInfo> &clients) const;
    QString path() const { return m_path; }

private:
    QString m_path; // empty: nothing is kept
};

} // namespace sb
