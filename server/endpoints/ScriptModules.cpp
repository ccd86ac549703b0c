// Module resolution and the import check of the script handlers (docs/ARCHITECTURE.md,
// "Script handlers"): nothing outside endpoints_dir is ever read.
#include "endpoints/ScriptModules.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

namespace sb::script {

using namespace Qt::StringLiterals;

ScriptFiles::Stamp ScriptFiles::stampOf(const QString &path)
{
    const QFileInfo info(path);
    Stamp stamp;
    stamp.exists = info.exists();
    if (stamp.exists) {
        stamp.modified = info.lastModified();
        stamp.size = info.size();
    }
    return stamp;
}

void ScriptFiles::record(const QString &path)
{
    m_files.insert(path, stampOf(path));
}

bool ScriptFiles::changed() const
{
    for (auto it = m_files.cbegin(); it != m_files.cend(); ++it) {
        const Stamp now = stampOf(it.key());
        if (now.exists != it->exists || now.modified != it->modified || now.size != it->size)
            return true;
    }
    return false;
}

const QStringList &builtinModuleNames()
{
    static const QStringList names = {u"net/v4/websockets"_s, u"net/websockets"_s, u"sdk/net"_s,
                                      u"switchboard"_s};
    return names;
}

bool isBuiltinModule(const QString &name)
{
    return builtinModuleNames().contains(name);
}

bool isInsideRoot(const QString &root, const QString &path)
{
    return !root.isEmpty() && path.size() > root.size() + 1 && path.startsWith(root)
            && path.at(root.size()) == u'/';
}

QString displayName(const QString &root, const QString &path)
{
    return isInsideRoot(root, path) ? path.mid(root.size() + 1) : path;
}

QString resolveRequire(const QString &root, const QString &fromFile, const QString &name,
                       QString *error)
{
    if (!name.startsWith("./"_L1) && !name.startsWith("../"_L1)) {
        *error = u"module '%1' is not available"_s.arg(name);
        return {};
    }
    QString target = QDir::cleanPath(QFileInfo(fromFile).absolutePath() + u'/' + name);
    if (!target.endsWith(".js"_L1))
        target += ".js"_L1;
    if (!isInsideRoot(root, target)) {
        *error = u"module '%1' is outside the handlers' folder"_s.arg(name);
        return {};
    }
    const QFileInfo info(target);
    const QString canonical = info.canonicalFilePath();
    if (canonical.isEmpty() || !info.isFile()) {
        *error = u"module '%1' not found"_s.arg(name);
        return {};
    }
    if (!isInsideRoot(root, canonical)) {
        *error = u"module '%1' is outside the handlers' folder"_s.arg(name);
        return {};
    }
    return canonical;
}

bool readScript(const QString &root, const QString &path, QString *source, QString *error)
{
    QFile file(path);
    if (!QFileInfo(path).isFile()) { // a FIFO or a device would block or never end
        *error = u"%1: not a regular file"_s.arg(displayName(root, path));
        return false;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = u"%1: cannot be read: %2"_s.arg(displayName(root, path), file.errorString());
        return false;
    }
    if (file.size() > kMaxScriptBytes) {
        *error = u"%1: larger than %2 bytes"_s.arg(displayName(root, path)).arg(kMaxScriptBytes);
        return false;
    }
    *source = QString::fromUtf8(file.read(kMaxScriptBytes));
    return true;
}

namespace {

bool isLineEnd(QChar c)
{
    return c == u'\n' || c == u'\r' || c == QChar(0x2028) || c == QChar(0x2029);
}

bool isIdentChar(QChar c)
{
    return c.isLetterOrNumber() || c.isMark() || c == u'_' || c == u'$' || c == QChar(0x200C)
            || c == QChar(0x200D) || c.isSurrogate();
}

bool isQuote(QChar c)
{
    return c == u'"' || c == u'\'';
}

// Whitespace and comments from i on; the index after them.
qsizetype skipSpace(const QString &s, qsizetype i)
{
    const qsizetype n = s.size();
    while (i < n) {
        if (s.at(i).isSpace() || s.at(i) == QChar(0xFEFF)) {
            ++i;
        } else if (s.at(i) == u'/' && i + 1 < n && s.at(i + 1) == u'/') {
            while (i < n && !isLineEnd(s.at(i)))
                ++i;
        } else if (s.at(i) == u'/' && i + 1 < n && s.at(i + 1) == u'*') {
            const qsizetype end = s.indexOf("*/"_L1, i + 2);
            i = end < 0 ? n : end + 2;
        } else {
            break;
        }
    }
    return i;
}

// A word at i (identifier characters and \uXXXX or \u{X} escapes, decoded); *end after it.
QString readWord(const QString &s, qsizetype i, qsizetype *end)
{
    QString word;
    const qsizetype n = s.size();
    while (i < n) {
        if (isIdentChar(s.at(i))) {
            word += s.at(i++);
        } else if (s.at(i) == u'\\' && i + 1 < n && s.at(i + 1) == u'u') {
            const bool braced = i + 2 < n && s.at(i + 2) == u'{';
            const qsizetype from = i + (braced ? 3 : 2);
            const qsizetype close = braced ? s.indexOf(u'}', from) : from + 4;
            bool ok = false;
            const char32_t code = close <= n ? s.mid(from, close - from).toUInt(&ok, 16) : 0;
            if (!ok || close - from > 8 || code > 0x10FFFF)
                break;
            word += QString::fromUcs4(&code, 1);
            i = close + (braced ? 1 : 0);
        } else {
            break;
        }
    }
    *end = i;
    return word;
}

// A string literal at i (a quote); *end after it, or -1 when it does not end on its line.
QString readString(const QString &s, qsizetype i, qsizetype *end)
{
    const QChar quote = s.at(i);
    const qsizetype n = s.size();
    qsizetype j = i + 1;
    while (j < n && s.at(j) != quote && !isLineEnd(s.at(j)))
        j += s.at(j) == u'\\' ? 2 : 1;
    if (j >= n || s.at(j) != quote) {
        *end = -1;
        return {};
    }
    *end = j + 1;
    return s.mid(i + 1, j - i - 1);
}

// The clause after an import or export word at i: its specifier, if it parses as one. Only
// what such a clause may hold is crossed: names, strings, `,`, `*`, one level of braces.
// *work counts the characters crossed.
std::optional<Specifier> clauseSpecifier(const QString &s, qsizetype i, qsizetype *work)
{
    const qsizetype start = i;
    int depth = 0;
    bool first = true;
    std::optional<Specifier> found;
    for (;;) {
        i = skipSpace(s, i);
        if (i >= s.size())
            break;
        const QChar c = s.at(i);
        qsizetype end = 0;
        if (isQuote(c)) {
            QString text = readString(s, i, &end);
            if (end < 0)
                break;
            if (first) {
                found = Specifier{text, i};
                break;
            }
            i = end;
        } else if (c == u'{' || c == u'}') {
            depth += c == u'{' ? 1 : -1;
            if (depth < 0 || depth > 1)
                break;
            ++i;
        } else if (c == u',' || c == u'*') {
            ++i;
        } else if (isIdentChar(c) || c == u'\\') {
            const QString word = readWord(s, i, &end);
            if (word.isEmpty())
                break;
            i = end;
            const qsizetype next = skipSpace(s, i);
            if (word == "from"_L1 && next < s.size() && isQuote(s.at(next))) {
                const QString text = readString(s, next, &end);
                if (end >= 0)
                    found = Specifier{text, next};
                break;
            }
        } else {
            break;
        }
        first = false;
    }
    *work += i - start;
    return found;
}

} // namespace

bool importSpecifiers(const QString &source, QList<Specifier> *specifiers, QString *error)
{
    // Every clause is scanned from its word: a budget keeps crafted text from making that
    // quadratic; real files stay far below it.
    const qsizetype budget = 16 * source.size() + 4096;
    qsizetype work = 0;
    qsizetype i = 0;
    while (i < source.size()) {
        const QChar c = source.at(i);
        if (!isIdentChar(c) && c != u'\\') {
            ++i;
            continue;
        }
        qsizetype end = 0;
        const QString word = readWord(source, i, &end);
        i = end > i ? end : i + 1;
        if (word != "import"_L1 && word != "export"_L1)
            continue;
        if (const auto spec = clauseSpecifier(source, i, &work))
            specifiers->append(*spec);
        if (work > budget) {
            *error = u"too convoluted to check its imports"_s;
            return false;
        }
    }
    return true;
}

bool looksLikeEsModule(const QString &source)
{
    static const QRegularExpression statement(
            uR"((^|[;}])\s*(import\s*[\w{*"'$]|export\s*[\w{*]))"_s,
            QRegularExpression::MultilineOption);
    return statement.match(source).hasMatch();
}

namespace {

// The file an import of `spec` from `fromPath` loads, as the engine resolves it (relative to
// the importer's path, no extension added), when it is allowed; null with *why otherwise.
QString importTarget(const QString &root, const QString &fromPath, const QString &spec,
                     QString *why)
{
    static const QString forbidden = u"\\%?#:"_s;
    const bool relative = spec.startsWith("./"_L1) || spec.startsWith("../"_L1);
    const bool plain =
            std::none_of(spec.cbegin(), spec.cend(), [](QChar c) { return forbidden.contains(c); });
    if (!relative || !plain) {
        *why = u"only the built-in modules and relative paths inside the handlers' folder can"
               u" be imported"_s;
        return {};
    }
    const QString target = QDir::cleanPath(QFileInfo(fromPath).absolutePath() + u'/' + spec);
    const QFileInfo info(target);
    const QString canonical = info.canonicalFilePath();
    if (!isInsideRoot(root, target) || (!canonical.isEmpty() && !isInsideRoot(root, canonical))) {
        *why = u"it is outside the handlers' folder"_s;
        return {};
    }
    if (canonical.isEmpty() || !info.isFile()) {
        *why = u"no such file (name it with its extension)"_s;
        return {};
    }
    return target;
}

} // namespace

int lineAt(const QString &source, qsizetype offset)
{
    int line = 1;
    for (qsizetype i = 0; i < offset && i < source.size(); ++i) {
        const QChar c = source.at(i);
        if (isLineEnd(c) && !(c == u'\r' && i + 1 < source.size() && source.at(i + 1) == u'\n'))
            ++line;
    }
    return line;
}

bool checkEsModule(const QString &root, const QString &file, ScriptFiles *files, CheckError *error)
{
    QStringList queue{file};
    QSet<QString> seen{file};
    while (!queue.isEmpty()) {
        const QString path = queue.takeFirst();
        files->record(path);
        QString source;
        QList<Specifier> specifiers;
        QString why;
        *error = CheckError{{}, path, 0};
        if (!readScript(root, path, &source, &error->message))
            return false;
        if (!importSpecifiers(source, &specifiers, &why)) {
            error->message = u"%1: %2"_s.arg(displayName(root, path), why);
            return false;
        }
        for (const Specifier &spec : std::as_const(specifiers)) {
            if (isBuiltinModule(spec.name))
                continue;
            const QString target = importTarget(root, path, spec.name, &why);
            if (target.isNull()) {
                error->message = u"import '%1' refused: %2"_s.arg(spec.name, why);
                error->line = lineAt(source, spec.offset);
                return false;
            }
            if (!seen.contains(target)) {
                seen.insert(target);
                queue.append(target);
            }
        }
    }
    return true;
}

} // namespace sb::script
