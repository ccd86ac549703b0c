#include "widgets/SettingsDialog.h"

#include "config/ConfigLoader.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSettings>
#include <QSpinBox>
#include <QStyle>
#include <QTabWidget>
#include <QToolButton>
#include <QUrl>

#include <limits>
#include <QVBoxLayout>

namespace sb::ui {

namespace {

// The defaults of PROTOCOL.md's Configuration section, shown when the file has no value.
struct NumberDefault
{
    const char *key;
    int value;
};
constexpr NumberDefault kNumberDefaults[] = {
        {"max_body_bytes", 1048576},  {"max_message_bytes", 65536}, {"max_queue_bytes", 8388608},
        {"max_connections", 100000},  {"token_max_ttl", 604800},    {"read_timeout_s", 30},
        {"ping_interval_s", 30},      {"log_retention_days", 30},   {"log_max_rows", 10000000},
        {"history_per_room", 1000},
};

QWidget *formPage(QTabWidget *tabs, const QString &title)
{
    auto *page = new QWidget(tabs);
    auto *form = new QFormLayout(page);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    tabs->addTab(page, title);
    return page;
}

} // namespace

SettingsDialog::SettingsDialog(const QString &configPath, const QStringList &overridden,
                               QWidget *parent)
    : QDialog(parent),
      m_path(configPath),
      m_overridden(overridden),
      m_tabs(new QTabWidget(this)),
      m_problems(new QLabel(this))
{
    setWindowTitle(tr("Server settings"));
    setObjectName(QStringLiteral("settingsDialog"));

    QWidget *network = formPage(m_tabs, tr("Network"));
    addText(network, QStringLiteral("listen"), tr("Listen address"),
            tr("host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080"));
    QLineEdit *cert = addText(network, QStringLiteral("tls_cert"), tr("TLS certificate (PEM)"),
                              tr("empty: plain http and ws"));
    QLineEdit *key = addText(network, QStringLiteral("tls_key"), tr("TLS private key (PEM)"),
                             tr("empty: plain http and ws"));
    for (QLineEdit *edit : {cert, key}) {
        auto *browse = edit->addAction(style()->standardIcon(QStyle::SP_DirOpenIcon),
                                       QLineEdit::TrailingPosition);
        browse->setToolTip(tr("Choose a file"));
        connect(browse, &QAction::triggered, this, [this, edit] {
            const QString file = QFileDialog::getOpenFileName(this, tr("Choose a PEM file"),
                                                              edit->text(), tr("PEM (*.pem *.crt *.key);;All files (*)"));
            if (!file.isEmpty())
                edit->setText(file);
        });
    }
    addText(network, QStringLiteral("allowed_origins"), tr("Allowed origins"),
            tr("comma-separated, e.g. https://apex.example.com (empty: any)"));
    addText(network, QStringLiteral("trusted_networks"), tr("Trusted networks"),
            tr("CIDRs that may call the compatibility routes without a key"));

    QWidget *security = formPage(m_tabs, tr("Security"));
    for (const auto &[k, label] : {std::pair{QStringLiteral("api_key"), tr("API key")},
                                   std::pair{QStringLiteral("jwt_secret"), tr("JWT secret")}}) {
        QLineEdit *edit = addText(security, k, label, tr("generated on first start"), true);
        auto *generate = edit->addAction(style()->standardIcon(QStyle::SP_BrowserReload),
                                         QLineEdit::TrailingPosition);
        generate->setToolTip(tr("Generate a new random value"));
        generate->setObjectName(k + QStringLiteral("_generate"));
        connect(generate, &QAction::triggered, this,
                [edit] { edit->setText(QString::fromLatin1(ConfigLoader::generateSecret())); });
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
    addNumber(security, QStringLiteral("token_max_ttl"), tr("Longest token lifetime"), 1,
              std::numeric_limits<int>::max(), tr(" s"));

    QWidget *limits = formPage(m_tabs, tr("Limits"));
    addNumber(limits, QStringLiteral("max_body_bytes"), tr("Largest request body"), 1,
              std::numeric_limits<int>::max(), tr(" bytes"));
    addNumber(limits, QStringLiteral("max_message_bytes"), tr("Largest WebSocket message"), 1,
              std::numeric_limits<int>::max(), tr(" bytes"));
    addNumber(limits, QStringLiteral("max_queue_bytes"), tr("Unsent bytes per connection"), 1,
              std::numeric_limits<int>::max(), tr(" bytes"));
    addNumber(limits, QStringLiteral("max_connections"), tr("Most connections"), 1,
              std::numeric_limits<int>::max());
    addNumber(limits, QStringLiteral("read_timeout_s"), tr("Read timeout"), 1, 3600, tr(" s"));
    addNumber(limits, QStringLiteral("ping_interval_s"), tr("Ping interval"), 1, 3600, tr(" s"));

    QWidget *log = formPage(m_tabs, tr("Message log"));
    addText(log, QStringLiteral("log_database"), tr("Log database"),
            tr("empty: SQLite in the data dir; postgresql://user:password@host:port/db; off"));
    addNumber(log, QStringLiteral("log_retention_days"), tr("Keep records for"), 1, 36500,
              tr(" days"));
    addNumber(log, QStringLiteral("log_max_rows"), tr("Keep at most"), 1,
              std::numeric_limits<int>::max(), tr(" records"));
    addNumber(log, QStringLiteral("history_per_room"), tr("Events per room in memory"), 1,
              std::numeric_limits<int>::max());
    addText(log, QStringLiteral("pg_listen"), tr("PostgreSQL LISTEN"),
            tr("postgresql://user:password@host:port/db (empty: off)"));
    addText(log, QStringLiteral("pg_channel"), tr("LISTEN channel"), tr("switchboard"));

    auto *where = new QLabel(tr("Saved to %1. Changes apply when the hosted server starts again.")
                                     .arg(m_path),
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
    load();
    resize(620, sizeHint().height());
}

QLineEdit *SettingsDialog::addText(QWidget *page, const QString &key, const QString &label,
                                   const QString &hint, bool secret)
{
    auto *edit = new QLineEdit(page);
    edit->setObjectName(key);
    edit->setPlaceholderText(hint);
    if (secret)
        edit->setEchoMode(QLineEdit::Password);
    static_cast<QFormLayout *>(page->layout())->addRow(label, edit);
    m_texts.insert(key, edit);
    return edit;
}

void SettingsDialog::addNumber(QWidget *page, const QString &key, const QString &label, int min,
                               int max, const QString &suffix)
{
    auto *spin = new QSpinBox(page);
    spin->setObjectName(key);
    spin->setRange(min, max);
    spin->setSuffix(suffix);
    spin->setGroupSeparatorShown(true);
    static_cast<QFormLayout *>(page->layout())->addRow(label, spin);
    m_numbers.insert(key, spin);
}

void SettingsDialog::load()
{
    QSettings ini(m_path, QSettings::IniFormat);
    for (auto it = m_texts.cbegin(); it != m_texts.cend(); ++it)
        it.value()->setText(ini.value(it.key()).toString());
    for (const NumberDefault &d : kNumberDefaults) {
        const QString key = QString::fromLatin1(d.key);
        if (QSpinBox *spin = m_numbers.value(key)) {
            bool ok = false;
            const qlonglong v = ini.value(key).toLongLong(&ok);
            spin->setValue(ok ? int(std::clamp(v, qlonglong(spin->minimum()), qlonglong(spin->maximum()))) : d.value);
        }
    }
    if (m_texts.value(QStringLiteral("listen"))->text().isEmpty())
        m_texts.value(QStringLiteral("listen"))->setText(QStringLiteral("127.0.0.1:8080"));
}

QString SettingsDialog::value(const QString &key) const
{
    if (const QLineEdit *edit = m_texts.value(key))
        return edit->text();
    if (const QSpinBox *spin = m_numbers.value(key))
        return QString::number(spin->value());
    return {};
}

void SettingsDialog::setValue(const QString &key, const QString &value)
{
    if (QLineEdit *edit = m_texts.value(key))
        edit->setText(value);
    else if (QSpinBox *spin = m_numbers.value(key))
        spin->setValue(value.toInt());
}

QStringList SettingsDialog::problems() const
{
    QStringList out;
    QHostAddress address;
    quint16 port = 0;
    const QString listenError = ConfigLoader::parseListen(value(QStringLiteral("listen")).trimmed(),
                                                          &address, &port);
    if (!listenError.isEmpty())
        out << tr("Listen address: %1").arg(listenError);
    const QString cert = value(QStringLiteral("tls_cert")).trimmed();
    const QString key = value(QStringLiteral("tls_key")).trimmed();
    if (cert.isEmpty() != key.isEmpty())
        out << tr("TLS: give both the certificate and the key, or neither.");
    if (!cert.isEmpty() && !QFileInfo(cert).isReadable())
        out << tr("TLS certificate: %1 cannot be read.").arg(cert);
    if (!key.isEmpty() && !QFileInfo(key).isReadable())
        out << tr("TLS private key: %1 cannot be read.").arg(key);
    QList<QPair<QHostAddress, int>> networks;
    const QString networkError =
            ConfigLoader::parseNetworks(value(QStringLiteral("trusted_networks")), &networks);
    if (!networkError.isEmpty())
        out << tr("Trusted networks: %1").arg(networkError);
    for (const QString &k : {QStringLiteral("api_key"), QStringLiteral("jwt_secret")}) {
        const QString v = value(k);
        if (!v.isEmpty() && v.trimmed() != v)
            out << tr("%1: no spaces at the start or end.").arg(k);
    }
    const QString logDb = value(QStringLiteral("log_database")).trimmed();
    if (logDb.startsWith(u"postgres") && !QUrl(logDb).isValid())
        out << tr("Log database: '%1' is not a valid URL.").arg(logDb);
    const QString pg = value(QStringLiteral("pg_listen")).trimmed();
    if (!pg.isEmpty()) {
        const QString pgError = ConfigLoader::parsePgListen(pg);
        if (!pgError.isEmpty())
            out << tr("PostgreSQL LISTEN: %1").arg(pgError);
    }
    const QString channel = value(QStringLiteral("pg_channel")).trimmed();
    if (!channel.isEmpty()) {
        const QString channelError = ConfigLoader::parsePgChannel(channel);
        if (!channelError.isEmpty())
            out << tr("LISTEN channel: %1").arg(channelError);
    }
    return out;
}

bool SettingsDialog::save(QString *error)
{
    const QStringList wrong = problems();
    if (!wrong.isEmpty()) {
        *error = wrong.join(u'\n');
        return false;
    }
    QSettings ini(m_path, QSettings::IniFormat);
    for (auto it = m_texts.cbegin(); it != m_texts.cend(); ++it) {
        const QString v = it.value()->text().trimmed();
        if (v.isEmpty())
            ini.remove(it.key());
        else
            ini.setValue(it.key(), v);
    }
    for (auto it = m_numbers.cbegin(); it != m_numbers.cend(); ++it)
        ini.setValue(it.key(), it.value()->value());
    ini.sync();
    // The file holds secrets.
    QFile::setPermissions(m_path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (ini.status() != QSettings::NoError) {
        *error = tr("%1 could not be written.").arg(m_path);
        return false;
    }
    return true;
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
