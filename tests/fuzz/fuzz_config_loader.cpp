// Fuzzes the configuration loader (server/config/ConfigLoader; docs/fuzzing.md): the INI file
// goes through QSettings and every key through its parser (listen, trusted_networks,
// allowed_origins, pg_listen, pg_channel, the integers). The data dir comes from the command
// line (a flag outranks the file), so nothing outside the fuzzer's temporary directory is
// created; secrets are not generated (nothing is written).
//
// Input: the INI text. Its first line is also given to each value parser directly.

#include "FuzzSupport.h"
#include "config/ConfigLoader.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QHostAddress>
#include <QTemporaryDir>
#include <QUrl>

namespace {

QTemporaryDir *g_dir = nullptr;
quint64 g_run = 0;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sbfuzz::quietQt();
    static QCoreApplication app(*argc, *argv); // QSettings wants an application
    g_dir = new QTemporaryDir();
    return g_dir->isValid() ? 0 : 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text = sbfuzz::bytes(data, size);

    // The value parsers on the first line.
    const QString line = QString::fromUtf8(text.first(qMax<qsizetype>(0, text.indexOf('\n'))));
    QHostAddress address;
    quint16 port = 0;
    if (sb::ConfigLoader::parseListen(line, &address, &port, nullptr))
        SB_FUZZ_CHECK(!address.isNull());
    if (const auto networks = sb::ConfigLoader::parseNetworks(line, nullptr)) {
        for (const auto &network : *networks)
            SB_FUZZ_CHECK(!network.first.isNull() && network.second >= 0 && network.second <= 128);
    }
    (void)sb::ConfigLoader::parsePgChannel(line, nullptr);
    QString pgWhy;
    (void)sb::ConfigLoader::parsePgListen(line, &pgWhy);
    // The error never repeats the URL's password (docs/API.md). Checked where the password
    // cannot be in the message for another reason: the fixed "expected postgresql://user:
    // password@..." text, or a query item the message names.
    const QUrl url(line);
    const QString password = url.password(QUrl::FullyDecoded);
    if (!pgWhy.isEmpty() && password.size() >= 3 && !url.hasQuery()
        && !QStringLiteral("expected postgresql://user:password@host:port/database")
                    .contains(password))
        SB_FUZZ_CHECK(!pgWhy.contains(password));

    // The whole text as the INI file. A new name each run: QSettings caches files by name.
    const QString path = g_dir->filePath(QStringLiteral("fuzz-%1.ini").arg(++g_run));
    {
        QFile file(path);
        SB_FUZZ_CHECK(file.open(QIODevice::WriteOnly));
        SB_FUZZ_CHECK(file.write(text.data(), text.size()) == text.size());
    }
    QCommandLineParser parser;
    sb::ConfigLoader::addOptions(parser);
    SB_FUZZ_CHECK(
            parser.parse({QStringLiteral("switchboardd"), QStringLiteral("--config"), path,
                          QStringLiteral("--data-dir"), g_dir->filePath(QStringLiteral("data"))}));
    const sb::ConfigLoader::Result result =
            sb::ConfigLoader::load(parser, QProcessEnvironment(), false);
    if (result.errors.isEmpty()) {
        const sb::ServerConfig &c = result.config;
        SB_FUZZ_CHECK(c.maxBodyBytes > 0 && c.maxMessageBytes > 0 && c.tokenMaxTtl > 0);
        SB_FUZZ_CHECK(c.maxQueueBytes >= c.maxBodyBytes + 4096);
        SB_FUZZ_CHECK(c.readTimeoutS > 0 && c.pingIntervalS > 0);
        SB_FUZZ_CHECK(!c.jwtSecret.isEmpty());
    }
    QFile::remove(path);
    return 0;
}
