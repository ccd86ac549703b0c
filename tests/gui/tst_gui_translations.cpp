// German and Dutch are complete and load by --lang or the system locale.
#include "ConsoleApp.h"
#include "widgets/StatusPanel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QTest>
#include <QTranslator>
#include <QXmlStreamReader>

class TstGuiTranslations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void chooseLanguage();
    void tsFilesAreComplete_data();
    void tsFilesAreComplete();
    void germanAndDutchLoad();
};

void TstGuiTranslations::chooseLanguage()
{
    QString error;
    QCOMPARE(sb::ui::chooseLanguage(QStringLiteral("de"), QLocale(QLocale::English), &error), QStringLiteral("de"));
    QCOMPARE(sb::ui::chooseLanguage(QStringLiteral("NL"), QLocale(QLocale::German), &error), QStringLiteral("nl"));
    QVERIFY(error.isEmpty());
    QCOMPARE(sb::ui::chooseLanguage(QString(), QLocale(QLocale::German, QLocale::Austria), &error),
             QStringLiteral("de"));
    QCOMPARE(sb::ui::chooseLanguage(QString(), QLocale(QLocale::Dutch, QLocale::Belgium), &error),
             QStringLiteral("nl"));
    QCOMPARE(sb::ui::chooseLanguage(QString(), QLocale(QLocale::French), &error), QStringLiteral("en"));
    QVERIFY(error.isEmpty());
    sb::ui::chooseLanguage(QStringLiteral("fr"), QLocale(QLocale::English), &error);
    QVERIFY(error.contains(u"--lang"));
}

void TstGuiTranslations::tsFilesAreComplete_data()
{
    QTest::addColumn<QString>("path");
    QTest::newRow("de") << QStringLiteral(SB_TRANSLATIONS_DIR "/switchboard_de.ts");
    QTest::newRow("nl") << QStringLiteral(SB_TRANSLATIONS_DIR "/switchboard_nl.ts");
}

void TstGuiTranslations::tsFilesAreComplete()
{
    QFETCH(QString, path);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&file);
    int messages = 0;
    QStringList missing;
    QString source;
    while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement())
            continue;
        if (xml.name() == u"source") {
            source = xml.readElementText();
        } else if (xml.name() == u"translation") {
            ++messages;
            const QString type = xml.attributes().value(QStringLiteral("type")).toString();
            QString text;
            // Plural forms are <numerusform> children.
            while (!(xml.isEndElement() && xml.name() == u"translation") && !xml.atEnd()) {
                xml.readNext();
                if (xml.isCharacters())
                    text += xml.text();
            }
            if (type == u"unfinished" || text.trimmed().isEmpty())
                missing << source;
        }
    }
    QVERIFY(!xml.hasError());
    QVERIFY2(messages > 100, qPrintable(QString::number(messages)));
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(u'\n')));
}

void TstGuiTranslations::germanAndDutchLoad()
{
    int argc = 1;
    char name[] = "tst";
    char *argv[] = {name, nullptr};
    QApplication app(argc, argv);
    QVERIFY(sb::ui::installTranslations(app, QStringLiteral("de")));
    QCOMPARE(QCoreApplication::translate("sb::ui::StatusPanel", "Connections"), QStringLiteral("Verbindungen"));
    const auto translators = app.findChildren<QTranslator *>();
    for (QTranslator *t : translators)
        QCoreApplication::removeTranslator(t);
    QVERIFY(sb::ui::installTranslations(app, QStringLiteral("nl")));
    QCOMPARE(QCoreApplication::translate("sb::ui::StatusPanel", "Connections"), QStringLiteral("Verbindingen"));
    QVERIFY(sb::ui::installTranslations(app, QStringLiteral("en")));
}

QTEST_APPLESS_MAIN(TstGuiTranslations)
#include "tst_gui_translations.moc"
