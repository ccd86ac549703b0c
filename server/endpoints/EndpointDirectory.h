#pragma once

#include "endpoints/EndpointDescriptor.h"

#include <QList>
#include <QObject>
#include <QString>

class QFileSystemWatcher;
class QTimer;

namespace sb {

// Reads and watches endpoints_dir (docs/ARCHITECTURE.md, "Endpoints"): every `*.websocket`
// file, subfolders included. QFileSystemWatcher reports most edits at once; a rescan every
// second catches what it misses (editors that replace files, folders made later), so any
// change takes effect within 2 s. Lives on the endpoint host's thread.
class EndpointDirectory final : public QObject
{
    Q_OBJECT

public:
    explicit EndpointDirectory(QString root, QObject *parent = nullptr);

    // Creates the folder if needed, scans it and starts watching.
    void start();
    QString root() const { return m_root; }
    // The descriptors found by the last scan, valid or not, sorted by file.
    const QList<EndpointDescriptor> &descriptors() const { return m_descriptors; }
    // Scans now (after a write through the API); emits changed() when something differs.
    void rescan();
    // Whether H's script exists (<root>/<H>.js, a regular file inside root).
    bool scriptExists(const QString &handler) const;

    static constexpr qint64 kMaxDescriptorBytes = 64 * 1024;
    static constexpr int kMaxDescriptors = 1000;
    static constexpr int kRescanMs = 1000;

Q_SIGNALS:
    void changed();

private:
    QList<EndpointDescriptor> scan(QStringList *folders) const;
    // Sets the error of every file whose name another file holds (the last scan's owner first).
    void markDuplicates(QList<EndpointDescriptor> &found) const;
    EndpointDescriptor read(const QString &path) const;
    void watch(const QStringList &folders);

    const QString m_root;
    QList<EndpointDescriptor> m_descriptors;
    QFileSystemWatcher *m_watcher = nullptr;
    QTimer *m_rescan = nullptr;
    QTimer *m_settle = nullptr;
};

} // namespace sb
