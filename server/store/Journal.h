#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace sb {

// The message log's crash journal: every record copied into a shared memory mapping of a
// file. A copy into the page cache survives a killed process (the kernel owns those pages),
// and costs no system call per record, unlike write().
//
// The file has two halves used in turn. Records go into the active half; once it holds
// kSwitchBytes, the next record goes into the other half, provided every record in that half
// is already in the database: its used bytes are zeroed first. Not thread-safe: MessageLog
// calls it under its lock.
//
// A record is framed, so that its payload may hold any byte (NUL, '\n', anything):
//
//   offset  0  marker   1 byte, kRecordMarker (0 where no record begins: the end of a half)
//           1  zero     3 bytes
//           4  crc      4 bytes, little-endian: checksum() of the payload
//           8  length   4 bytes, little-endian: the payload's size, stored last
//          12  zero     4 bytes
//          16  payload  `length` bytes, then zeros up to the next multiple of 8
//
// The length is the commit mark: it is stored after everything else (with a signal fence in
// between, so that the compiler cannot move it earlier), into a half that is zero after its
// records. A record cut short by a kill therefore has length 0 and is dropped with anything
// after it; it was never answered. The checksum catches what a kill cannot do but a crash of
// the machine may (pages of the file written back in another order than they were copied), and
// any damage: such a record ends the half too.
//
// The checksum is zlib's CRC-32 (the zlib Qt links): qChecksum, Qt's CRC-16, runs at about
// 110 MB/s, a twentieth of zlib's speed, which would have doubled the cost of an append
// (bench/log, docs/performance.md).
//
// Journals of the previous version hold JSON lines ended by '\n' instead (a half starting
// with '{'); they are still read, so that an upgrade right after a kill loses nothing.
class Journal
{
public:
    static constexpr qint64 kHalfBytes = 8 << 20;
    static constexpr qint64 kSwitchBytes = 1 << 20;
    static constexpr char kRecordMarker = char(0xA5);
    static constexpr qint64 kHeaderBytes = 16;

    Journal() = default;
    Journal(const Journal &) = delete;
    Journal &operator=(const Journal &) = delete;
    ~Journal();

    // The complete records of an existing journal file (of either format), both halves, in
    // file order; a missing file has none. *dropped (when given) counts the halves that ended
    // in a record cut short or damaged, which was left out with anything after it. Returns
    // false with *error (may be null) when the file exists but cannot be read.
    static bool readLines(const QString &path, QList<QByteArray> *records, QString *error,
                          int *dropped = nullptr);

    // Creates the file afresh (mode 0600, zero-filled, its blocks allocated so a full disk
    // cannot fault a later copy) and maps it. False with *error (may be null) on failure.
    bool open(const QString &path, QString *error);
    // Unmaps; with `empty` the file is truncated to nothing (the database holds every record).
    void close(bool empty);
    bool isOpen() const { return m_map != nullptr; }

    // Copies one record (any bytes, at least one). `committed` is the highest id the
    // database holds. False when there is no room: the active half is full and the other half
    // still holds records the database lacks (or the record is larger than a half).
    bool append(QByteArrayView record, quint64 id, quint64 committed)
    {
        return append(record, checksum(record), id, committed);
    }
    // The same with checksum(record) computed by the caller (before it took its lock).
    bool append(QByteArrayView record, quint32 crc, quint64 id, quint64 committed);

    // The checksum of a record's payload: CRC-32 (ISO 3309, zlib's crc32()).
    static quint32 checksum(QByteArrayView payload);

    // The bytes one record takes in the file.
    static qint64 frameBytes(qint64 payloadBytes)
    {
        return kHeaderBytes + ((payloadBytes + 7) & ~qint64(7));
    }

private:
    struct Half
    {
        qint64 used = 0;
        quint64 lastId = 0;
    };
    char *base(int half) const { return m_map + half * kHalfBytes; }

    int m_fd = -1;
    char *m_map = nullptr;
    Half m_halves[2];
    int m_active = 0;
};

} // namespace sb
