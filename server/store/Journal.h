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
//   offset 0  marker   1 byte, kRecordMarker (0 where no record begins: the end of a half)
//          1  zero     1 byte
//          2  crc      2 bytes, little-endian: qChecksum (CRC-16, ISO 3309) of the payload
//          4  length   4 bytes, little-endian: the payload's size, stored last
//          8  payload  `length` bytes, then zeros up to the next multiple of 8
//
// The length is the commit mark: it is stored after everything else (with a signal fence in
// between, so that the compiler cannot move it earlier), into a half that is zero after its
// records. A record cut short by a kill therefore has length 0, or a payload whose checksum
// does not match, and is dropped with anything after it; it was never answered.
//
// Journals of the previous version hold JSON lines ended by '\n' instead (a half starting
// with '{'); they are still read, so that an upgrade right after a kill loses nothing.
class Journal
{
public:
    static constexpr qint64 kHalfBytes = 8 << 20;
    static constexpr qint64 kSwitchBytes = 1 << 20;
    static constexpr char kRecordMarker = char(0xA5);
    static constexpr qint64 kHeaderBytes = 8;

    Journal() = default;
    Journal(const Journal &) = delete;
    Journal &operator=(const Journal &) = delete;
    ~Journal();

    // The complete records of an existing journal file (of either format), both halves, in
    // file order; a missing file has none. *dropped (when given) counts the halves that ended
    // in a record cut short or damaged, which was left out with anything after it. Returns
    // false with *error when the file exists but cannot be read.
    static bool readLines(const QString &path, QList<QByteArray> *records, QString *error,
                          int *dropped = nullptr);

    // Creates the file afresh (mode 0600, zero-filled, its blocks allocated so a full disk
    // cannot fault a later copy) and maps it. Returns an error text, empty on success.
    QString open(const QString &path);
    // Unmaps; with `empty` the file is truncated to nothing (the database holds every record).
    void close(bool empty);
    bool isOpen() const { return m_map != nullptr; }

    // Copies one record (any bytes, at least one). `committed` is the highest id the
    // database holds. False when there is no room: the active half is full and the other half
    // still holds records the database lacks (or the record is larger than a half).
    bool append(QByteArrayView record, quint64 id, quint64 committed);

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
