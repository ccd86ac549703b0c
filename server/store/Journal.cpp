#include "store/Journal.h"

#include <QFile>
#include <QtEndian>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace sb {

namespace {

bool fail(QString *error, const QString &text)
{
    if (error)
        *error = text;
    return false;
}

QString systemError(const char *what, const QString &path)
{
    return QStringLiteral("%1 %2: %3")
            .arg(QString::fromLatin1(what), path, QString::fromLocal8Bit(std::strerror(errno)));
}

// The records of one half of the framed format (see Journal.h), up to its first zero marker.
// False when the half ends in a record cut short or damaged: it and anything after it are
// left out.
bool splitRecords(QByteArrayView half, QList<QByteArray> *records)
{
    qint64 at = 0;
    while (at + Journal::kHeaderBytes <= half.size()) {
        const char *header = half.data() + at;
        if (header[0] == 0)
            return true; // nothing was begun here: the end of the half
        if (header[0] != Journal::kRecordMarker)
            return false;
        const quint32 crc = qFromLittleEndian<quint32>(header + 4);
        const quint32 length = qFromLittleEndian<quint32>(header + 8);
        if (length == 0 || qint64(length) > half.size() - at - Journal::kHeaderBytes)
            return false; // the kill came before the length was stored
        const QByteArrayView payload = half.sliced(at + Journal::kHeaderBytes, length);
        if (Journal::checksum(payload) != crc)
            return false;
        records->append(payload.toByteArray());
        at += Journal::frameBytes(length);
    }
    return true;
}

// The previous version's format: JSON lines, the half ending at its first zero byte. False
// when a last line has no '\n' (cut short).
bool splitLines(QByteArrayView half, QList<QByteArray> *lines)
{
    const qsizetype end = half.indexOf('\0');
    if (end >= 0)
        half = half.first(end);
    qsizetype start = 0;
    while (start < half.size()) {
        const qsizetype newline = half.indexOf('\n', start);
        if (newline < 0)
            return false;
        if (newline > start)
            lines->append(half.sliced(start, newline - start).toByteArray());
        start = newline + 1;
    }
    return true;
}

} // namespace

Journal::~Journal()
{
    close(false);
}

bool Journal::readLines(const QString &path, QList<QByteArray> *records, QString *error,
                        int *dropped)
{
    QFile file(path);
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(error, QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    }
    for (int half = 0; half < 2 && !file.atEnd(); ++half) {
        const QByteArray bytes = file.read(kHalfBytes);
        // Each half was begun afresh (zeroed), so each has one format, told by its first byte.
        const bool complete =
                bytes.startsWith('{') ? splitLines(bytes, records) : splitRecords(bytes, records);
        if (!complete && dropped)
            ++*dropped;
    }
    return true;
}

bool Journal::open(const QString &path, QString *error)
{
    close(false);
    const QByteArray name = QFile::encodeName(path);
    // Only a regular file is a journal (or nothing yet): a device or a FIFO in its place (a
    // link to /dev/null, say) is neither opened for writing nor changed.
    struct stat st = {};
    if (::stat(name.constData(), &st) == 0 && !S_ISREG(st.st_mode))
        return fail(error, QStringLiteral("cannot use %1: not a regular file").arg(path));
    m_fd = ::open(name.constData(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return fail(error, systemError("cannot open", path));
    // The mode of open() applies to a new file only: one left by an older version, or
    // created by hand, is made private too (docs/API.md, "Message log records").
    if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)
        || ((st.st_mode & 0777) != 0600 && ::fchmod(m_fd, 0600) != 0)) {
        const QString why = S_ISREG(st.st_mode)
                ? systemError("cannot chmod 0600", path)
                : QStringLiteral("cannot use %1: not a regular file").arg(path);
        ::close(m_fd);
        m_fd = -1;
        return fail(error, why);
    }
    // Allocated now: a copy into a sparse mapping on a full disk would kill the process
    // (SIGBUS); here it is an error at start instead.
    const int rc = ::posix_fallocate(m_fd, 0, 2 * kHalfBytes);
    if (rc != 0) {
        errno = rc;
        const QString why = systemError("cannot allocate", path);
        ::close(m_fd);
        m_fd = -1;
        return fail(error, why);
    }
    void *map =
            ::mmap(nullptr, size_t(2 * kHalfBytes), PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    if (map == MAP_FAILED) {
        const QString why = systemError("cannot map", path);
        ::close(m_fd);
        m_fd = -1;
        return fail(error, why);
    }
    m_map = static_cast<char *>(map);
    m_halves[0] = m_halves[1] = Half{};
    m_active = 0;
    return true;
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

quint32 Journal::checksum(QByteArrayView payload)
{
    uLong crc = ::crc32(0, nullptr, 0);
    const auto *bytes = reinterpret_cast<const Bytef *>(payload.data());
    // crc32() takes at most 4 GiB at a time (uInt); records are far smaller (half a file).
    for (qsizetype done = 0; done < payload.size();) {
        const auto n = uInt(qMin<qsizetype>(payload.size() - done, 1 << 30));
        crc = ::crc32(crc, bytes + done, n);
        done += n;
    }
    return quint32(crc);
}

bool Journal::append(QByteArrayView record, quint32 crc, quint64 id, quint64 committed)
{
    if (!m_map || record.isEmpty() || record.size() > kHalfBytes - kHeaderBytes)
        return false;
    const qint64 needed = frameBytes(record.size());
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
    // Records start at multiples of 8 (the mapping is page-aligned), so the length below is
    // one aligned store. The bytes after the payload up to the next record are still zero.
    char *at = base(m_active) + half.used;
    at[0] = kRecordMarker;
    qToLittleEndian(crc, at + 4);
    std::memcpy(at + kHeaderBytes, record.data(), size_t(record.size()));
    // The length, which completes the record, is stored after everything else: a kill in
    // between leaves a record of length 0, which the replay drops.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const quint32 length = qToLittleEndian(quint32(record.size()));
    std::memcpy(at + 8, &length, sizeof length);
    half.used += needed;
    half.lastId = id;
    return true;
}

} // namespace sb
