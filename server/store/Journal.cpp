#include "store/Journal.h"

#include <QFile>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace sb {

namespace {

QString systemError(const char *what, const QString &path)
{
    return QStringLiteral("%1 %2: %3")
            .arg(QString::fromLatin1(what), path, QString::fromLocal8Bit(std::strerror(errno)));
}

// Complete lines of one half: up to its first zero byte, a last line without '\n' dropped.
void splitLines(QByteArrayView half, QList<QByteArray> *lines)
{
    const qsizetype end = half.indexOf('\0');
    if (end >= 0)
        half = half.first(end);
    qsizetype start = 0;
    while (start < half.size()) {
        const qsizetype newline = half.indexOf('\n', start);
        if (newline < 0)
            break;
        if (newline > start)
            lines->append(half.sliced(start, newline - start).toByteArray());
        start = newline + 1;
    }
}

} // namespace

Journal::~Journal()
{
    close(false);
}

bool Journal::readLines(const QString &path, QList<QByteArray> *lines, QString *error)
{
    QFile file(path);
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    for (int half = 0; half < 2 && !file.atEnd(); ++half) {
        splitLines(file.read(kHalfBytes), lines);
    }
    return true;
}

QString Journal::open(const QString &path)
{
    close(false);
    const QByteArray name = QFile::encodeName(path);
    m_fd = ::open(name.constData(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return systemError("cannot open", path);
    // Allocated now: a copy into a sparse mapping on a full disk would kill the process
    // (SIGBUS); here it is an error at start instead.
    const int rc = ::posix_fallocate(m_fd, 0, 2 * kHalfBytes);
    if (rc != 0) {
        errno = rc;
        const QString why = systemError("cannot allocate", path);
        ::close(m_fd);
        m_fd = -1;
        return why;
    }
    void *map =
            ::mmap(nullptr, size_t(2 * kHalfBytes), PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    if (map == MAP_FAILED) {
        const QString why = systemError("cannot map", path);
        ::close(m_fd);
        m_fd = -1;
        return why;
    }
    m_map = static_cast<char *>(map);
    m_halves[0] = m_halves[1] = Half{};
    m_active = 0;
    return {};
}

void Journal::close(bool empty)
{
    if (m_map) {
        ::munmap(m_map, size_t(2 * kHalfBytes));
        m_map = nullptr;
    }
    if (m_fd >= 0) {
        if (empty)
            (void)::ftruncate(m_fd, 0);
        ::close(m_fd);
        m_fd = -1;
    }
}

bool Journal::append(QByteArrayView line, quint64 id, quint64 committed)
{
    if (!m_map)
        return false;
    const qint64 needed = line.size() + 1;
    if (m_halves[m_active].used >= kSwitchBytes || m_halves[m_active].used + needed > kHalfBytes) {
        const int other = 1 - m_active;
        Half &next = m_halves[other];
        if (next.lastId <= committed) {
            std::memset(base(other), 0, size_t(next.used));
            next = Half{};
            m_active = other;
        }
    }
    Half &half = m_halves[m_active];
    if (half.used + needed > kHalfBytes)
        return false;
    char *at = base(m_active) + half.used;
    std::memcpy(at, line.data(), size_t(line.size()));
    // The '\n' that completes the line is stored after the line itself: a kill in between
    // leaves a line with no end, which the replay drops.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    at[line.size()] = '\n';
    half.used += needed;
    half.lastId = id;
    return true;
}

} // namespace sb
