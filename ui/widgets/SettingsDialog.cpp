#include "widgets/SettingsDialog.h"

#include "backend/ConsoleBackend.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace sb::ui {

namespace {

QWidget *formPage(QTabWidget *tabs, const QString &title)
{
    auto *page = new QWidget(tabs);
    auto *form = new QFormLayout(page);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    tabs->addTab(page, title);
    return page;
}

} // namespace

SettingsNumberField::SettingsNumberField(QWidget *parent) : QAbstractSpinBox(parent)
{
    connect(lineEdit(), &QLineEdit::textEdited, this, [this] { takeText(); });
    connect(this, &QAbstractSpinBox::editingFinished, this, [this] {
        takeText();
        lineEdit()->setText(textOf(m_value));
    });
    lineEdit()->setText(textOf(m_value));
}

void SettingsNumberField::setRange(qint64 minimum, qint64 maximum)
{
    m_minimum = minimum;
    m_maximum = qMax(minimum, maximum);
    setValue(m_value);
}

void SettingsNumberField::setValue(qint64 value)
{
    m_value = std::clamp(value, m_minimum, m_maximum);
    lineEdit()->setText(textOf(m_value));
}

void SettingsNumberField::setSuffix(const QString &suffix)
{
    m_suffix = suffix;
    lineEdit()->setText(textOf(m_value));
}

void SettingsNumberField::stepBy(int steps)
{
    // Saturating: the range may end at the largest 64-bit integer.
    qint64 next = m_value;
    if (steps > 0)
        next = m_value > m_maximum - steps ? m_maximum : m_value + steps;
    else if (steps < 0)
        next = m_value < m_minimum - steps ? m_minimum : m_value + steps;
    setValue(next);
    selectAll();
}

QAbstractSpinBox::StepEnabled SettingsNumberField::stepEnabled() const
{
    StepEnabled enabled = StepNone;
    if (m_value < m_maximum)
        enabled |= StepUpEnabled;
    if (m_value > m_minimum)
        enabled |= StepDownEnabled;
    return enabled;
}

std::optional<qint64> SettingsNumberField::parse(const QString &text) const
{
    QString t = text;
    if (!m_suffix.isEmpty() && t.endsWith(m_suffix))
        t.chop(m_suffix.size());
    t = t.trimmed();
    t.remove(locale().groupSeparator());
    bool ok = false;
    const qint64 n = t.toLongLong(&ok);
    return ok ? std::optional<qint64>(n) : std::nullopt;
}

QString SettingsNumberField::textOf(qint64 value) const
{
    return locale().toString(value) + m_suffix;
}

void SettingsNumberField::takeText()
{
    if (const auto n = parse(lineEdit()->text()); n && *n >= m_minimum && *n <= m_maximum)
        m_value = *n;
}

QValidator::State SettingsNumberField::validate(QString &input, int &) const
{
    const std::optional<qint64> n = parse(input);
    if (!n) {
        QString bare = input;
        if (!m_suffix.isEmpty() && bare.endsWith(m_suffix))
            bare.chop(m_suffix.size());
        bare = bare.trimmed();
        return bare.isEmpty() || (bare == u"-" && m_minimum < 0) ? QValidator::Intermediate
                                                                 : QValidator::Invalid;
    }
    if (*n > m_maximum)
        return QValidator::Invalid; // no typing past the schema's maximum
    return *n < m_minimum ? QValidator::Intermediate : QValidator::Acceptable;
}

void SettingsNumberField::fixup(QString &input) const
{
    input = textOf(std::clamp(parse(input).value_or(m_value), m_minimum, m_maximum));
}

SettingsDialog::SettingsDialog(ConsoleBackend *backend, const QStringList &overridden,
                               QWidget *parent)
    : QDialog(parent),
      m_backend(backend),
      m_overridden(overridden),
      m_tabs(new QTabWidget(this)),
      m_problems(new QLabel(this))
{
    setWindowTitle(tr("Server settings"));
    setObjectName(QStringLiteral("settingsDialog"));
    buildPages();

    auto *where = new QLabel(tr("Saved to %1. Changes apply when the hosted server starts again.")
                                     .arg(m_backend->settingsLocation()),
                             this);
    where->setWordWrap(true);
    where->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problems->setObjectName(QStringLiteral("settingsProblems"));
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("QLabel { color: #c62828; }"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tabs);
    if (!m_overridden.isEmpty()) {
        auto *note = new QLabel(tr("Set by command-line flags or environment variables for this "
                                   "session (they win over the file): %1")
                                        .arg(m_overridden.join(QStringLiteral(", "))),
                                this);
        note->setWordWrap(true);
        layout->addWidget(note);
    }
    layout->addWidget(where);
    layout->addWidget(m_problems);
    layout->addWidget(buttons);
    if (!load()) {
        m_tabs->setEnabled(false);
        buttons->button(QDialogButtonBox::Save)->setEnabled(false);
    }
    resize(620, sizeHint().height());
}

void SettingsDialog::buildPages()
{
    QWidget *network = formPage(m_tabs, tr("Network"));
    addField(network, QStringLiteral("listen"), tr("Listen address"),
             tr("host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080"));
    addField(network, QStringLiteral("tls_cert"), tr("TLS certificate (PEM)"),
             tr("empty: plain http and ws"));
    addField(network, QStringLiteral("tls_key"), tr("TLS private key (PEM)"),
             tr("empty: plain http and ws"));
    addField(network, QStringLiteral("allowed_origins"), tr("Allowed origins"),
             tr("comma-separated, e.g. https://apex.example.com (empty: any)"));
    addField(network, QStringLiteral("trusted_networks"), tr("Trusted networks"),
             tr("CIDRs that may call the compatibility routes without a key"));

    QWidget *security = formPage(m_tabs, tr("Security"));
    addField(security, QStringLiteral("api_key"), tr("API key"), tr("generated on first start"));
    addField(security, QStringLiteral("jwt_secret"), tr("JWT secret"),
             tr("generated on first start"));
    addField(security, QStringLiteral("token_max_ttl"), tr("Longest token lifetime"));

    QWidget *limits = formPage(m_tabs, tr("Limits"));
    addField(limits, QStringLiteral("max_body_bytes"), tr("Largest request body"));
    addField(limits, QStringLiteral("max_message_bytes"), tr("Largest WebSocket message"));
    addField(limits, QStringLiteral("max_queue_bytes"), tr("Unsent bytes per connection"));
    addField(limits, QStringLiteral("max_connections"), tr("Most connections"));
    addField(limits, QStringLiteral("read_timeout_s"), tr("Read timeout"));
    addField(limits, QStringLiteral("ping_interval_s"), tr("Ping interval"));

    QWidget *log = formPage(m_tabs, tr("Message log"));
    addField(log, QStringLiteral("log_database"), tr("Log database"),
             tr("empty: SQLite in the data dir; postgresql://user:password@host:port/db; off"));
    addField(log, QStringLiteral("log_retention_days"), tr("Keep records for"));
    addField(log, QStringLiteral("log_max_rows"), tr("Keep at most"), tr(" records"));
    addField(log, QStringLiteral("history_per_room"), tr("Events per room in memory"));
    addField(log, QStringLiteral("pg_listen"), tr("PostgreSQL LISTEN"),
             tr("postgresql://user:password@host:port/db (empty: off)"));
    addField(log, QStringLiteral("pg_channel"), tr("LISTEN channel"), tr("switchboard"));
}

// A field for the schema's setting `key`: a number field with the schema's range (`hint`
// overrides the suffix of its unit), else a line edit with `hint` as placeholder.
QWidget *SettingsDialog::addField(QWidget *page, const QString &key, const QString &label,
                                  const QString &hint)
{
    const std::optional<SettingSpec> spec = ConsoleBackend::settingSpec(key);
    Q_ASSERT_X(spec, "SettingsDialog", qPrintable(key));
    QWidget *field = nullptr;
    if (spec->type == SettingSpec::Type::Integer) {
        auto *number = new SettingsNumberField(page);
        number->setRange(spec->minimum, spec->maximum);
        const QString suffix = !hint.isEmpty() ? hint
                : spec->unit == u"bytes"       ? tr(" bytes")
                : spec->unit == u"seconds"     ? tr(" s")
                : spec->unit == u"days"        ? tr(" days")
                                               : QString();
        number->setSuffix(suffix);
        field = number;
    } else {
        field = addText(*spec, page, hint);
    }
    field->setObjectName(key);
    field->setToolTip(spec->help);
    static_cast<QFormLayout *>(page->layout())->addRow(label, field);
    m_fields.insert(key, field);
    return field;
}

QLineEdit *SettingsDialog::addText(const SettingSpec &spec, QWidget *page, const QString &hint)
{
    auto *edit = new QLineEdit(page);
    edit->setPlaceholderText(hint);
    if (spec.type == SettingSpec::Type::Secret)
        addSecretActions(edit, spec.key);
    else if (spec.type == SettingSpec::Type::Path)
        addBrowseAction(edit);
    return edit;
}

void SettingsDialog::addSecretActions(QLineEdit *edit, const QString &key)
{
    edit->setEchoMode(QLineEdit::Password);
    auto *generate = edit->addAction(style()->standardIcon(QStyle::SP_BrowserReload),
                                     QLineEdit::TrailingPosition);
    generate->setToolTip(tr("Generate a new random value"));
    generate->setObjectName(key + QStringLiteral("_generate"));
    connect(generate, &QAction::triggered, this,
            [edit] { edit->setText(ConsoleBackend::generateSecret()); });
    auto *copy = edit->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton),
                                 QLineEdit::TrailingPosition);
    copy->setToolTip(tr("Copy to the clipboard"));
    connect(copy, &QAction::triggered, this,
            [edit] { QApplication::clipboard()->setText(edit->text()); });
    auto *show = edit->addAction(style()->standardIcon(QStyle::SP_FileDialogContentsView),
                                 QLineEdit::TrailingPosition);
    show->setToolTip(tr("Show or hide"));
    connect(show, &QAction::triggered, this, [edit] {
        edit->setEchoMode(edit->echoMode() == QLineEdit::Normal ? QLineEdit::Password
                                                                : QLineEdit::Normal);
    });
}

void SettingsDialog::addBrowseAction(QLineEdit *edit)
{
    auto *browse = edit->addAction(style()->standardIcon(QStyle::SP_DirOpenIcon),
                                   QLineEdit::TrailingPosition);
    browse->setToolTip(tr("Choose a file"));
    connect(browse, &QAction::triggered, this, [this, edit] {
        const QString file =
                QFileDialog::getOpenFileName(this, tr("Choose a PEM file"), edit->text(),
                                             tr("PEM (*.pem *.crt *.key);;All files (*)"));
        if (!file.isEmpty())
            edit->setText(file);
    });
}

// Shows the file's values, or the schema's default where the file has none. False when the
// backend cannot read the settings (the reason is shown).
bool SettingsDialog::load()
{
    QString error;
    const std::optional<SettingValues> file = m_backend->loadSettings(&error);
    QStringList notes;
    for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it) {
        const SettingSpec spec = *ConsoleBackend::settingSpec(it.key());
        const QString text = file ? file->value(it.key(), spec.defaultValue) : spec.defaultValue;
        if (auto *number = qobject_cast<SettingsNumberField *>(it.value())) {
            bool ok = false;
            const qint64 n = text.trimmed().toLongLong(&ok);
            if (ok && n >= spec.minimum && n <= spec.maximum) {
                number->setValue(n);
                continue;
            }
            number->setValue(spec.defaultValue.toLongLong());
            if (!text.isEmpty())
                notes << tr("%1: the file's value '%2' is outside %3..%4; the field shows the "
                            "default.")
                                 .arg(it.key(), text.left(40))
                                 .arg(spec.minimum)
                                 .arg(spec.maximum);
        } else if (auto *edit = qobject_cast<QLineEdit *>(it.value())) {
            edit->setText(text);
        }
    }
    if (!file)
        notes.prepend(error);
    m_problems->setText(notes.join(u'\n'));
    return file.has_value();
}

QString SettingsDialog::value(const QString &key) const
{
    if (const auto *number = qobject_cast<const SettingsNumberField *>(field(key)))
        return QString::number(number->value());
    if (const auto *edit = qobject_cast<const QLineEdit *>(field(key)))
        return edit->text();
    return {};
}

void SettingsDialog::setValue(const QString &key, const QString &value)
{
    if (auto *number = qobject_cast<SettingsNumberField *>(field(key))) {
        const QString text = value.trimmed();
        bool ok = false;
        const qint64 n = text.toLongLong(&ok);
        const bool negative = text.startsWith(u'-');
        const QStringView digits = QStringView(text).sliced(negative ? 1 : 0);
        if (ok)
            number->setValue(n);
        else if (!digits.isEmpty()
                 && std::all_of(digits.begin(), digits.end(), [](QChar c) { return c.isDigit(); }))
            number->setValue(negative ? number->minimum() : number->maximum()); // past 64 bits
    } else if (auto *edit = qobject_cast<QLineEdit *>(field(key))) {
        edit->setText(value);
    }
}

SettingValues SettingsDialog::values() const
{
    SettingValues out;
    for (const QString &key : m_fields.keys())
        out.insert(key, value(key));
    return out;
}

bool SettingsDialog::save(QString *error)
{
    return m_backend->saveSettings(values(), error);
}

void SettingsDialog::accept()
{
    QString error;
    if (!save(&error)) {
        m_problems->setText(error);
        return;
    }
    QDialog::accept();
}

} // namespace sb::ui
