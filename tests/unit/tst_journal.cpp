// Journal on a real file: records read back in order whatever bytes they hold, a record cut
// short by a kill is dropped (also by a real SIGKILL of a process appending), the two halves
// are used in turn only once the database holds the other one, a full journal refuses rather
// than overwrite records the database lacks, the previous version's JSON-line journals are
// still read, and the file is private to its owner.

#include "store/Journal.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <algorithm>
#include <csignal>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sb;

class TestJournal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_dir = std::make_unique<QTemporaryDir>(); }
    void missingFileHasNoLines();
    void linesReadBackInOrder();
    void anyByteRoundTrips();
    void tornLineIsDropped();
    void damagedRecordIsDropped();
    void unclosedJournalReadsBack();
    void killedWriterLeavesCompleteRecords();
    void oldFormatIsRead();
    void halvesUsedInTurnOnceCommitted();
    void fullJournalRefuses();
    void closeEmptyTruncates();
    void fileIsPrivate();
    void checksumIsCrc32();
    void nonRegularFileIsLeftAlone();

private:
    QString path() const { return m_dir->filePath(QStringLiteral("messages.db.journal")); }
    static QByteArray line(quint64 id, int padding = 40);
    // Record `id` of a run: its id, then every byte value, a NUL and a '\n' among them.
    static QByteArray awkward(quint64 id);
    QList<QByteArray> readBack(int *dropped = nullptr) const;

    std::unique_ptr<QTemporaryDir> m_dir;
};

QByteArray TestJournal::line(quint64 id, int padding)
{
    // Fixed width, so that every line has the same length.
    return QByteArray("{\"id\":\"") + QByteArray::number(id).rightJustified(10, '0')
            + QByteArray("\",\"pad\":\"") + QByteArray(padding, 'x') + QByteArray("\"}");
}

QByteArray TestJournal::awkward(quint64 id)
{
    QByteArray bytes = QByteArray::number(id) + '\n';
    for (int b = 0; b < 256; ++b)
        bytes += char(b);
    bytes += QByteArray(int(id % 13), '\0'); // lengths that are not multiples of 8
    return bytes;
}

QList<QByteArray> TestJournal::readBack(int *dropped) const
{
    QList<QByteArray> lines;
    QString error;
    if (!Journal::readLines(path(), &lines, &error, dropped))
        qWarning() << error;
    return lines;
}

void TestJournal::missingFileHasNoLines()
{
    QList<QByteArray> lines;
    QString error;
    QVERIFY(Journal::readLines(path(), &lines, &error));
    QVERIFY(lines.isEmpty());
}

void TestJournal::linesReadBackInOrder()
{
    Journal journal;
    QString error;
    QVERIFY2(journal.open(path(), &error), qPrintable(error));
    QCOMPARE(QFileInfo(path()).size(), 2 * Journal::kHalfBytes);
    for (quint64 id = 1; id <= 100; ++id)
        QVERIFY(journal.append(line(id), id, 0));
    // Read while still mapped, as a restart after a kill would find it.
    const QList<QByteArray> lines = readBack();
    QCOMPARE(lines.size(), 100);
    QCOMPARE(lines.first(), line(1));
    QCOMPARE(lines.last(), line(100));
}

void TestJournal::anyByteRoundTrips()
{
    // What ended or split a record of the line format: a NUL, '\n', '\r', the record
    // separator 0x1E; a lone byte of each value; and every byte value in one record.
    QList<QByteArray> records = {QByteArray(1, '\0'),
                                 QByteArrayLiteral("\n"),
                                 QByteArrayLiteral("\r\n"),
                                 QByteArray("a\0b", 3),
                                 QByteArrayLiteral("{\"data\":\"x\ny\"}"),
                                 QByteArrayLiteral("\x1e{\"id\":1}\x1e"),
                                 QByteArray(7, '\0'),
                                 QByteArray(9, '\xa5')};
    for (int b = 0; b < 256; ++b)
        records << QByteArray(1, char(b));
    for (quint64 id = 1; id <= 16; ++id)
        records << awkward(id);
    Journal journal;
    QString error;
    QVERIFY2(journal.open(path(), &error), qPrintable(error));
    for (qsizetype i = 0; i < records.size(); ++i)
        QVERIFY(journal.append(records.at(i), quint64(i + 1), 0));
    int dropped = 0;
    QCOMPARE(readBack(&dropped), records);
    QCOMPARE(dropped, 0);
    journal.close(false);
    QCOMPARE(readBack(), records); // and once unmapped
}

void TestJournal::tornLineIsDropped()
{
    qint64 end = 0;
    {
        Journal journal;
        QString error;
        QVERIFY2(journal.open(path(), &error), qPrintable(error));
        for (quint64 id = 1; id <= 3; ++id) {
            QVERIFY(journal.append(awkward(id), id, 0));
            end += Journal::frameBytes(awkward(id).size());
        }
    }
    // A fourth record copied in full but for its length, which is stored last: the kill came
    // right before it.
    const QByteArray fourth = awkward(4);
    QByteArray header(Journal::kHeaderBytes, '\0');
    header[0] = Journal::kRecordMarker;
    qToLittleEndian(Journal::checksum(fourth), header.data() + 4);
    QFile file(path());
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(file.seek(end));
    QCOMPARE(file.write(header + fourth), header.size() + fourth.size());
    file.close();
    int dropped = 0;
    const QList<QByteArray> records = readBack(&dropped);
    QCOMPARE(records.size(), 3);
    QCOMPARE(records.last(), awkward(3));
    QCOMPARE(dropped, 1);
    // With its length it is complete.
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(file.seek(end + 8));
    QByteArray length(4, '\0');
    qToLittleEndian(quint32(fourth.size()), length.data());
    QCOMPARE(file.write(length), 4);
    file.close();
    QCOMPARE(readBack().size(), 4);
}

void TestJournal::damagedRecordIsDropped()
{
    qint64 second = 0;
    {
        Journal journal;
        QString error;
        QVERIFY2(journal.open(path(), &error), qPrintable(error));
        for (quint64 id = 1; id <= 3; ++id)
            QVERIFY(journal.append(awkward(id), id, 0));
        second = Journal::frameBytes(awkward(1).size());
    }
    // One byte of the second record's payload changed: its checksum no longer matches, and
    // the records after it are not trusted either.
    QFile file(path());
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(file.seek(second + Journal::kHeaderBytes + 5));
    QCOMPARE(file.write("Z", 1), 1);
    file.close();
    int dropped = 0;
    QCOMPARE(readBack(&dropped), QList<QByteArray>{awkward(1)});
    QCOMPARE(dropped, 1);
}

void TestJournal::unclosedJournalReadsBack()
{
    // A process killed with the journal open: nothing was unmapped or truncated; the file is
    // what the page cache holds.
    auto journal = std::make_unique<Journal>();
    QString error;
    QVERIFY2(journal->open(path(), &error), qPrintable(error));
    QList<QByteArray> written;
    for (quint64 id = 1; id <= 500; ++id) {
        written << awkward(id);
        QVERIFY(journal->append(written.last(), id, 0));
    }
    int dropped = 0;
    QCOMPARE(readBack(&dropped), written);
    QCOMPARE(dropped, 0);
}

void TestJournal::killedWriterLeavesCompleteRecords()
{
    // A child process appends records as fast as it can and reports each one on a pipe; it
    // is killed with SIGKILL in the middle of it. Every record it reported is read back,
    // exactly, in order, and nothing else but at most the one it was copying.
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    const QByteArray file = QFile::encodeName(path());
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        Journal journal;
        if (!journal.open(QFile::decodeName(file), nullptr))
            ::_exit(2);
        for (quint64 id = 1;; ++id) {
            if (!journal.append(awkward(id), id, id - 1))
                ::_exit(3);
            if (::write(fds[1], &id, sizeof id) != sizeof id)
                ::_exit(4);
        }
    }
    ::close(fds[1]);
    quint64 reported = 0;
    while (reported < 5000) {
        if (::read(fds[0], &reported, sizeof reported) != sizeof reported)
            break;
    }
    ::kill(child, SIGKILL);
    // Whatever it reported after the kill was sent: still complete records.
    quint64 id = 0;
    while (::read(fds[0], &id, sizeof id) == sizeof id)
        reported = id;
    ::close(fds[0]);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    QVERIFY(reported >= 5000);

    // The halves were switched on the way (each record committed at once), so the file holds
    // the newest records only, the older half's after the newer one's: one run of consecutive
    // ids that ends at the last one reported, or the one after it.
    const QList<QByteArray> records = readBack();
    QVERIFY(records.size() > 1000);
    QList<quint64> ids;
    for (const QByteArray &record : records) {
        const quint64 n = record.left(record.indexOf('\n')).toULongLong();
        QCOMPARE(record, awkward(n));
        ids << n;
    }
    std::sort(ids.begin(), ids.end());
    QCOMPARE(ids.last() - ids.first() + 1, quint64(ids.size()));
    QVERIFY2(ids.last() == reported || ids.last() == reported + 1,
             qPrintable(QStringLiteral("last %1, reported %2").arg(ids.last()).arg(reported)));
}

void TestJournal::oldFormatIsRead()
{
    // A journal of the previous version: JSON lines ended by '\n' in each half, zeros after
    // them, the last line of the second half cut short by a kill.
    QByteArray first = line(3) + '\n' + line(4) + '\n';
    QByteArray second = line(1) + '\n' + line(2) + '\n' + line(5).left(17);
    first.resize(Journal::kHalfBytes, '\0');
    second.resize(Journal::kHalfBytes, '\0');
    QFile file(path());
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(first + second), 2 * Journal::kHalfBytes);
    file.close();
    int dropped = 0;
    QCOMPARE(readBack(&dropped), (QList<QByteArray>{line(3), line(4), line(1), line(2)}));
    QCOMPARE(dropped, 1);
}

void TestJournal::halvesUsedInTurnOnceCommitted()
{
    Journal journal;
    QString error;
    QVERIFY2(journal.open(path(), &error), qPrintable(error));
    const qint64 perLine = Journal::frameBytes(line(1).size());
    const quint64 firstHalf = quint64(Journal::kSwitchBytes / perLine) + 1; // fills past 1 MiB
    quint64 id = 1;
    for (; id <= firstHalf; ++id)
        QVERIFY(journal.append(line(id), id, 0));
    // The other half is empty: the next line goes there.
    QVERIFY(journal.append(line(id), id, 0));
    ++id;
    for (; id <= 2 * firstHalf; ++id)
        QVERIFY(journal.append(line(id), id, 0));
    QCOMPARE(readBack().size(), int(2 * firstHalf));
    // Back to the first half only once the database holds all of it: it is zeroed first, so
    // its old lines are gone and the second half's remain.
    const quint64 next = id;
    QVERIFY(journal.append(line(next), next, firstHalf));
    const QList<QByteArray> lines = readBack();
    QCOMPARE(lines.first(), line(next));
    QCOMPARE(lines.size(), int(firstHalf) + 1);
    QCOMPARE(lines.at(1), line(firstHalf + 1));
}

void TestJournal::fullJournalRefuses()
{
    Journal journal;
    QString error;
    QVERIFY2(journal.open(path(), &error), qPrintable(error));
    const QByteArray big(64 * 1024, 'x');
    int accepted = 0;
    quint64 id = 1;
    // Nothing committed: the first half, then the second (the first half's switch found the
    // empty one), then nothing more.
    while (journal.append(big, id, 0)) {
        ++accepted;
        ++id;
        QVERIFY(accepted < 1000);
    }
    QVERIFY(accepted >= int(Journal::kHalfBytes / Journal::frameBytes(big.size())));
    // Small lines fill what is left of the second half.
    while (journal.append(line(id), id, 0)) {
        ++id;
        QVERIFY(id < 100000);
    }
    QVERIFY(!journal.append(line(id), id, 0));
    // Once the database holds everything, there is room again.
    QVERIFY(journal.append(line(id), id, id - 1));
    // A record larger than a half never fits; an empty one is no record.
    QVERIFY(!journal.append(QByteArray(Journal::kHalfBytes, 'y'), id + 1, id));
    QVERIFY(!journal.append(QByteArrayView(), id + 1, id));
}

void TestJournal::closeEmptyTruncates()
{
    {
        Journal journal;
        QString error;
        QVERIFY2(journal.open(path(), &error), qPrintable(error));
        QVERIFY(journal.append(line(1), 1, 0));
        journal.close(true);
    }
    QCOMPARE(QFileInfo(path()).size(), 0);
    QVERIFY(readBack().isEmpty());
}

void TestJournal::fileIsPrivate()
{
    // Started by hand with the usual umask, over a journal an older version left readable.
    const mode_t previous = ::umask(022);
    QFile old(path());
    QVERIFY(old.open(QIODevice::WriteOnly));
    old.close();
    QVERIFY(::chmod(QFile::encodeName(path()).constData(), 0644) == 0);
    Journal journal;
    QString error;
    const bool opened = journal.open(path(), &error);
    ::umask(previous);
    QVERIFY2(opened, qPrintable(error));
    struct stat st = {};
    QCOMPARE(::stat(QFile::encodeName(path()).constData(), &st), 0);
    QCOMPARE(st.st_mode & 0777, mode_t(0600));
}

void TestJournal::checksumIsCrc32()
{
    // The check value of CRC-32 (ISO 3309, as zlib and gzip compute it): journals written by
    // one build are read by the next.
    QCOMPARE(Journal::checksum("123456789"), quint32(0xCBF43926));
    QCOMPARE(Journal::checksum(QByteArrayView()), quint32(0));
}

void TestJournal::nonRegularFileIsLeftAlone()
{
    // The journal's name links to something that is not a regular file (tst_metrics links it
    // to /dev/null; a FIFO here, so that nothing outside this test can suffer): no journal,
    // and the thing is not changed (the mode of /dev/null once was).
    const QByteArray fifo = QFile::encodeName(m_dir->filePath(QStringLiteral("fifo")));
    QCOMPARE(::mkfifo(fifo.constData(), 0644), 0);
    QCOMPARE(::chmod(fifo.constData(), 0644), 0);
    QVERIFY(QFile::link(QFile::decodeName(fifo), path()));
    Journal journal;
    QString error;
    QVERIFY(!journal.open(path(), &error));
    QVERIFY2(error.contains(u"not a regular file"), qPrintable(error));
    QVERIFY(!journal.isOpen());
    struct stat st = {};
    QCOMPARE(::stat(fifo.constData(), &st), 0);
    QVERIFY(S_ISFIFO(st.st_mode));
    QCOMPARE(st.st_mode & 0777, mode_t(0644));
}

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
