#pragma once

#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace sb {

// The values of an INI configuration file, by key, as text (a list is joined with commas).
using ConfigValues = QMap<QString, QString>;

// Reads the file at `path`; a file that does not exist has no values. Refuses, before QSettings
// reads it, a file with typed values (@Variant(...) and the like: QSettings would deserialize
// them with QDataStream, docs/fuzzing.md); the error names the file, the line and the key.
std::optional<ConfigValues> readConfigFile(const QString &path, QString *error);

// Sets `values` and removes `removed` in the file at `path` (created with its directory, mode
// 0600: it holds secrets); other keys stay as they are.
bool writeConfigFile(const QString &path, const ConfigValues &values, const QStringList &removed,
                     QString *error);

} // namespace sb
