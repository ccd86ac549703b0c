#include "endpoints/EndpointDirectory.h"

#include "base/Logging.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHash>
#include <QTimer>

#include <algorithm>

namespace sb {

EndpointDirectory::EndpointDirectory(QString root, QObject *parent)
    : QObject(parent), m_root(QDir::cleanPath(std::move(root)))
{ }

void EndpointDirectory::start()
{
    if (!QDir().mkpath(m_root))
        qCWarning(lcEndpoints).noquote() << "cannot create endpoints_dir" << m_root;
    m_watcher = new QFileSystemWatcher(this);
    m_settle = new QTimer(this);
    m_settle->setSingleShot(true);
    m_settle->setInterval(50); // an editor's save is several events: scan once after them
    connect(m_settle, &QTimer::timeout, this, &EndpointDirectory::rescan);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, m_settle,
            qOverload<>(&QTimer::start));
    connect(m_watcher, &QFileSystemWatcher::fileChanged, m_settle, qOverload<>(&QTimer::start));
    m_rescan = new QTimer(this);
    m_rescan->setInterval(kRescanMs);
    connect(m_rescan, &QTimer::timeout, this, &EndpointDirectory::rescan);
    m_rescan->start();
    QStringList folders;
    m_descriptors = scan(&folders);
    watch(folders);
    for (const EndpointDescriptor &d : std::as_const(m_descriptors)) {
        if (!d.error.isNull())
            qCWarning(lcEndpoints).noquote() << m_root + u'/' + d.file << d.error;
    }
    qCInfo(lcEndpoints).noquote() << "endpoints_dir" << m_root << "has" << m_descriptors.size()
                                  << "descriptors";
}

void EndpointDirectory::rescan()
{
    QStringList folders;
    QList<EndpointDescriptor> found = scan(&folders);
    watch(folders);
    if (found == m_descriptors)
        return;
    for (const EndpointDescriptor &d : std::as_const(found)) {
        if (!d.error.isNull() && !m_descriptors.contains(d))
            qCWarning(lcEndpoints).noquote() << m_root + u'/' + d.file << d.error;
    }
    m_descriptors = std::move(found);
    Q_EMIT changed();
}

bool EndpointDirectory::scriptExists(const QString &handler) const
{
    const QFileInfo info(m_root + u'/' + handler + QStringLiteral(".js"));
    if (!info.isFile())
        return false;
    // A symbolic link may not lead out of the folder.
    const QString canonicalRoot = QFileInfo(m_root).canonicalFilePath();
    return info.canonicalFilePath().startsWith(canonicalRoot + u'/');
}

QList<EndpointDescriptor> EndpointDirectory::scan(QStringList *folders) const
{
    QStringList files;
    folders->append(m_root);
    QDirIterator it(m_root, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext() && files.size() < kMaxDescriptors) {
        const QString path = it.next();
        const QFileInfo info = it.fileInfo();
        if (info.isDir())
            folders->append(path);
        else if (path.endsWith(u".websocket"))
            files.append(path);
    }
    std::sort(files.begin(), files.end());
    QList<EndpointDescriptor> out;
    for (const QString &path : std::as_const(files)) {
        EndpointDescriptor d = read(path);
        if (d.error.isNull() && !EndpointDescriptor::isUrlHandler(d.handler)
            && !scriptExists(d.handler)) {
            d.error = QStringLiteral("handler: the script %1.js does not exist in endpoints_dir")
                              .arg(d.handler);
        }
        out.append(d);
    }
    markDuplicates(out);
    return out;
}

void EndpointDirectory::markDuplicates(QList<EndpointDescriptor> &found) const
{
    // A name belongs to the file that had it in the last scan, if that file still defines it:
    // a file added later with the same name is the duplicate even when it sorts first (it
    // must not take the endpoint and its sessions over). Other names go by file order.
    QHash<QString, QString> previous;
    for (const EndpointDescriptor &d : std::as_const(m_descriptors)) {
        if (d.error.isNull())
            previous.insert(d.name, d.file);
    }
    QHash<QString, QString> fileOfName;
    for (const EndpointDescriptor &d : std::as_const(found)) {
        if (d.error.isNull() && previous.value(d.name) == d.file)
            fileOfName.insert(d.name, d.file);
    }
    for (EndpointDescriptor &d : found) {
        if (!d.error.isNull())
            continue;
        const auto owner = fileOfName.constFind(d.name);
        if (owner == fileOfName.constEnd())
            fileOfName.insert(d.name, d.file);
        else if (*owner != d.file)
            d.error = QStringLiteral("endpoint: the name %1 is already used by %2")
                              .arg(d.name, *owner);
    }
}

EndpointDescriptor EndpointDirectory::read(const QString &path) const
{
    const QString relative = QDir(m_root).relativeFilePath(path);
    QFile file(path);
    if (file.size() > kMaxDescriptorBytes) {
        EndpointDescriptor d;
        d.file = relative;
        d.error = QStringLiteral("the file is larger than %1 bytes").arg(kMaxDescriptorBytes);
        return d;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        EndpointDescriptor d;
        d.file = relative;
        d.error = QStringLiteral("cannot read the file: %1").arg(file.errorString());
        return d;
    }
    return EndpointDescriptor::fromFile(file.read(kMaxDescriptorBytes), relative);
}

void EndpointDirectory::watch(const QStringList &folders)
{
    const QStringList watched = m_watcher->directories();
    QStringList add;
    for (const QString &f : folders) {
        if (!watched.contains(f))
            add.append(f);
    }
    if (!add.isEmpty())
        m_watcher->addPaths(add);
}

} // namespace sb
