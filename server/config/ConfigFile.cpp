#include "config/ConfigFile.h"

#include <QByteArrayView>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>

#include <sys/stat.h>

namespace sb {

namespace {

bool fail(QString *error, const QString &text)
{
    if (error)
        *error = text;
    return false;
}

// QSettings reads values of the form @Variant(...) and @DateTime(...) with QDataStream, as any
// Qt type and of any size: a crafted config value made it allocate 58 GB (docs/fuzzing.md);
// @Rect(), @Size() and the like turn a key into an empty string. Every Switchboard key is
// text, so such a value is refused before QSettings reads the file. Conservative, on the raw
// text: a value, or a comma-separated part of one, whose first character (after spaces,
// quotes and backslash escapes, across continued lines) is '@' is refused unless it is "@@"
// (QSettings' escape for a literal '@'); so are \x and octal escapes, which could spell '@'.
// The error is "line N: ..." naming the key.
bool checkIniValues(QByteArrayView text, QString *error)
{
    int line = 1;
    bool lineStart = true, comment = false, inValue = false, partStart = false;
    qsizetype keyStart = -1, keyEnd = -1;
    const auto keyName = [&] {
        if (keyStart < 0 || keyEnd < keyStart)
            return QString();
        const QByteArrayView key = text.sliced(keyStart, keyEnd - keyStart).trimmed();
        return QString::fromUtf8(key.first(qMin<qsizetype>(60, key.size())));
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && !comment) {
            const char next = i + 1 < text.size() ? text[i + 1] : '\0';
            if (next == '\n' || next == '\r') { // continued on the next line
                ++i;
                if (next == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                    ++i;
                ++line;
                continue;
            }
            if (inValue && (next == 'x' || next == 'X' || (next >= '0' && next <= '7')))
                return fail(error,
                            QStringLiteral("line %1: the value of '%2' has a \\x or octal "
                                           "escape; write the character itself")
                                    .arg(line)
                                    .arg(keyName()));
            ++i; // an escape pair: it may produce nothing, so partStart stays as it is
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (c == '\n')
                ++line;
            lineStart = true;
            comment = inValue = partStart = false;
            keyStart = keyEnd = -1;
            continue;
        }
        if (comment)
            continue;
        if (lineStart) {
            if (c == ' ' || c == '\t')
                continue;
            lineStart = false;
            if (c == ';' || c == '#' || c == '[') {
                comment = true; // a comment or a section name
                continue;
            }
            keyStart = i;
        }
        if (!inValue) {
            if (c == '=') {
                inValue = partStart = true;
                keyEnd = i;
            }
            continue;
        }
        if (c == ',') {
            partStart = true;
        } else if (partStart && c != ' ' && c != '\t' && c != '"') {
            partStart = false;
            if (c == '@') {
                if (i + 1 < text.size() && text[i + 1] == '@') {
                    ++i;
                    continue;
                }
                return fail(error,
                            QStringLiteral("line %1: the value of '%2' starts with '@', which "
                                           "QSettings reads as a typed value (@Variant(...), "
                                           "@DateTime(...)); every value is text: write '@@' "
                                           "for a literal '@'")
                                    .arg(line)
                                    .arg(keyName()));
            }
        }
    }
    return true;
}

} // namespace

std::optional<ConfigValues> readConfigFile(const QString &path, QString *error)
{
    const QFileInfo info(path);
    if (!info.exists())
        return ConfigValues();
    QFile file(path);
    if (!info.isReadable() || !file.open(QIODevice::ReadOnly)) {
        fail(error, QStringLiteral("config: cannot read the configuration file %1").arg(path));
        return std::nullopt;
    }
    QString why;
    if (!checkIniValues(file.readAll(), &why)) {
        fail(error, QStringLiteral("config: %1 %2").arg(path, why));
        return std::nullopt;
    }
    const QSettings ini(path, QSettings::IniFormat);
    if (ini.status() == QSettings::FormatError) {
        fail(error, QStringLiteral("config: %1 is not a valid INI file").arg(path));
        return std::nullopt;
    }
    ConfigValues values;
    for (const QString &key : ini.allKeys()) {
        const QVariant v = ini.value(key);
        values.insert(key,
                      v.userType() == QMetaType::QStringList ? v.toStringList().join(u',')
                                                             : v.toString());
    }
    return values;
}

bool writeConfigFile(const QString &path, const ConfigValues &values, const QStringList &removed,
                     QString *error)
{
    // Refuses to rewrite a file it could not read safely: QSettings would read it first.
    if (!readConfigFile(path, error))
        return false;
    QDir().mkpath(QFileInfo(path).absolutePath());
    // The file holds secrets: never let it exist with a wider mode, not even briefly.
    const mode_t oldMask = ::umask(0077);
    QSettings ini(path, QSettings::IniFormat);
    for (auto it = values.cbegin(); it != values.cend(); ++it)
        ini.setValue(it.key(), it.value());
    for (const QString &key : removed)
        ini.remove(key);
    ini.sync();
    ::umask(oldMask);
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (ini.status() != QSettings::NoError)
        return fail(error, QStringLiteral("config: cannot write %1").arg(path));
    return true;
}

} // namespace sb
