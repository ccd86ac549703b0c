#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace sb {

// The message log's crash journal: every record, as one JSON line, copied into a shared
// memory mapping of a file. A copy into the page cache survives a killed process (the kernel
// owns those pages), and costs no system call per record, unlike write().
//
// The file has two halves used in turn. Lines go into the active half; once it holds
// kSwitchBytes, the next line goes into the other half, provided every record in that half is
// already in the database: its used bytes are zeroed first. A half is zero after its lines,
// so a line cut short by a kill (no '\n' before the zeros) is recognised and dropped; it was
// never answered. Not thread-safe: MessageLog calls it under its lock.
class Journal
{
public:
    static constexpr qint64 kHalfBytes = 8 << 20;
    static constexpr qint64 kSwitchBytes = 1 << 20;

    Journal() = default;
    Journal(const Journal &) = delete;
    Journal &operator=(const Journal &) = delete;
    ~Journal();

    // The complete lines of an existing journal file, both halves, in file order (a missing
    // file has none). Returns false with *error when it exists but cannot be read.
    static bool readLines(const QString &path, QList<QByteArray> *lines, QString *error);

    // Creates the file afresh (zero-filled, its blocks allocated so a full disk cannot fault
    // a later copy) and maps it. Returns an error text, empty on success.
    QString open(const QString &path);
    // Unmaps; with `empty` the file is truncated to nothing (the database holds every record).
    void close(bool empty);
    bool isOpen() const { return m_map != nullptr; }

    // Copies `line` (no '\n' in it) and its '\n'. `committed` is the highest id the database
    // holds. False when there is no room: the active half is full and the other half still
    // holds records the database lacks.
    bool append(QByteArrayView line, quint64 id, quint64 committed);

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
