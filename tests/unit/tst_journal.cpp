// Journal on a real file: lines read back in order, a line cut short by a kill is dropped,
// the two halves are used in turn only once the database holds the other one, and a full
// journal refuses rather than overwrite records the database lacks.

#include "store/Journal.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace sb;

class TestJournal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_dir = std::make_unique<QTemporaryDir>(); }
    void missingFileHasNoLines();
    void linesReadBackInOrder();
    void tornLineIsDropped();
    void halvesUsedInTurnOnceCommitted();
    void fullJournalRefuses();
    void closeEmptyTruncates();

private:
    QString path() const { return m_dir->filePath(QStringLiteral("messages.db.journal")); }
    static QByteArray line(quint64 id, int padding = 40);
    QList<QByteArray> readBack() const;

    std::unique_ptr<QTemporaryDir> m_dir;
};

QByteArray TestJournal::line(quint64 id, int padding)
{
    // Fixed width, so that every line has the same length.
    return QByteArray("{\"id\":\"") + QByteArray::number(id).rightJustified(10, '0')
            + QByteArray("\",\"pad\":\"") + QByteArray(padding, 'x') + QByteArray("\"}");
}

QList<QByteArray> TestJournal::readBack() const
{
    QList<QByteArray> lines;
    QString error;
    if (!Journal::readLines(path(), &lines, &error))
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
    QCOMPARE(journal.open(path()), QString());
    QCOMPARE(QFileInfo(path()).size(), 2 * Journal::kHalfBytes);
    for (quint64 id = 1; id <= 100; ++id)
        QVERIFY(journal.append(line(id), id, 0));
    // Read while still mapped, as a restart after a kill would find it.
    const QList<QByteArray> lines = readBack();
    QCOMPARE(lines.size(), 100);
    QCOMPARE(lines.first(), line(1));
    QCOMPARE(lines.last(), line(100));
}

void TestJournal::tornLineIsDropped()
{
    qint64 end = 0;
    {
        Journal journal;
        QCOMPARE(journal.open(path()), QString());
        for (quint64 id = 1; id <= 3; ++id) {
            QVERIFY(journal.append(line(id), id, 0));
            end += line(id).size() + 1;
        }
    }
    // A fourth line copied only in part: the kill came before its '\n'.
    QFile file(path());
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(file.seek(end));
    QVERIFY(file.write(line(4).left(20)) == 20);
    file.close();
    const QList<QByteArray> lines = readBack();
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines.last(), line(3));
}

void TestJournal::halvesUsedInTurnOnceCommitted()
{
    Journal journal;
    QCOMPARE(journal.open(path()), QString());
    const int perLine = int(line(1).size()) + 1;
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
    QCOMPARE(journal.open(path()), QString());
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
    QVERIFY(accepted >= int(Journal::kHalfBytes / (big.size() + 1)));
    // Small lines fill what is left of the second half.
    while (journal.append(line(id), id, 0)) {
        ++id;
        QVERIFY(id < 100000);
    }
    QVERIFY(!journal.append(line(id), id, 0));
    // Once the database holds everything, there is room again.
    QVERIFY(journal.append(line(id), id, id - 1));
}

void TestJournal::closeEmptyTruncates()
{
    {
        Journal journal;
        QCOMPARE(journal.open(path()), QString());
        QVERIFY(journal.append(line(1), 1, 0));
        journal.close(true);
    }
    QCOMPARE(QFileInfo(path()).size(), 0);
    QVERIFY(readBack().isEmpty());
}

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
