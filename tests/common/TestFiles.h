#pragma once

// File helpers shared by the unit and the integration tests (header only, Qt Core).

#include <QByteArray>
#include <QFile>
#include <QString>

#include <sys/stat.h>

namespace sbtest {

// Writes content to path (created or truncated); false when it could not be written whole.
inline bool writeFile(const QString &path, const QByteArray &content)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(content) == content.size();
}

// The whole file, or an empty QByteArray when it cannot be read.
inline QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The permission bits of path (07777), -1 when it cannot be stat'ed.
inline int fileMode(const QString &path)
{
    struct stat st;
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

} // namespace sbtest
