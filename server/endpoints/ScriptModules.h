#pragma once

#include <QDateTime>
#include <QHash>
#include <QString>
#include <QStringList>

namespace sb::script {

// The files a runtime read (its handler, the modules it required or imported) as they were
// when read: filesChanged() compares (docs/ARCHITECTURE.md, "Script handlers").
class ScriptFiles
{
public:
    void record(const QString &path);
    bool changed() const;
    void clear() { m_files.clear(); }

private:
    struct Stamp
    {
        bool exists = false;
        QDateTime modified;
        qint64 size = -1;
    };
    static Stamp stampOf(const QString &path);
    QHash<QString, Stamp> m_files; // at most the files under endpoints_dir
};

// The largest script file read (a module's source stays in the engine while it lives).
constexpr qint64 kMaxScriptBytes = 4 * 1024 * 1024;

// net/v4/websockets, net/websockets, sdk/net, switchboard.
const QStringList &builtinModuleNames();
bool isBuiltinModule(const QString &name);

// `path` strictly below `root` (both absolute and clean).
bool isInsideRoot(const QString &root, const QString &path);
// A file's name for messages: relative to root when below it.
QString displayName(const QString &root, const QString &path);

// require(name) from the module `fromFile` (canonical): "./x" and "../y" resolve against its
// folder (".js" appended) and must stay inside root once symbolic links are resolved. The
// canonical file, or null with *error ("module 'x' is not available", "... is outside ...",
// "... not found").
QString resolveRequire(const QString &root, const QString &fromFile, const QString &name,
                       QString *error);

// Reads a script (UTF-8, at most kMaxScriptBytes); false with *error.
bool readScript(const QString &root, const QString &path, QString *source, QString *error);

// The module specifiers of the import and export-from clauses in `source`: every place where
// the word import or export is followed by what parses as such a clause, wherever it stands
// (in a string or a comment too), so that no real one is missed. False with *error when the
// file is too convoluted to check.
struct Specifier
{
    QString name;
    qsizetype offset = 0; // of its opening quote in the source
};
bool importSpecifiers(const QString &source, QList<Specifier> *specifiers, QString *error);

// Whether a file that does not compile as a CommonJS module is meant as an ES module: an
// import or export statement starts one of its lines (or follows `;` or `}`).
bool looksLikeEsModule(const QString &source);

// Checks an ES module and, transitively, the files it imports before the engine loads any of
// them: each specifier is a built-in module or a relative path ("./x.js", "../y.js", resolved
// as the engine does, against the importing file's path) to a file inside root. Records the
// files read. False with *error naming the specifier, in the file *errorFile at line
// *errorLine (0 when it is not about one line).
struct CheckError
{
    QString message;
    QString file;
    int line = 0;
};
bool checkEsModule(const QString &root, const QString &file, ScriptFiles *files, CheckError *error);

} // namespace sb::script
