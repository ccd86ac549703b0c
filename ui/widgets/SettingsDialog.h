#pragma once

#include <QDialog>
#include <QMap>

class QLabel;
class QLineEdit;
class QSpinBox;
class QTabWidget;

namespace sb::ui {

// Settings of the hosted server, saved to its INI configuration file (mode 0600): listen
// address, TLS files, API key and JWT secret (generate, copy), limits, message log and
// PostgreSQL LISTEN. Values given by command-line flags or environment variables still win
// at the next start (PROTOCOL.md, "Configuration"); the dialog says so.
class SettingsDialog final : public QDialog
{
    Q_OBJECT

public:
    // `overridden` lists keys that flags or variables set for this process.
    SettingsDialog(const QString &configPath, const QStringList &overridden,
                   QWidget *parent = nullptr);

    // Field access by INI key, for tests.
    QString value(const QString &key) const;
    void setValue(const QString &key, const QString &value);
    // Checks every field; empty when all are valid, else one line per problem naming it.
    QStringList problems() const;
    // Writes the file; false with a message when a field is wrong or the file cannot be written.
    bool save(QString *error);

    void accept() override;

private:
    QLineEdit *addText(QWidget *page, const QString &key, const QString &label,
                       const QString &hint, bool secret = false);
    void addNumber(QWidget *page, const QString &key, const QString &label, int min, int max,
                   const QString &suffix = {});
    void load();

    QString m_path;
    QStringList m_overridden;
    QTabWidget *m_tabs;
    QMap<QString, QLineEdit *> m_texts;
    QMap<QString, QSpinBox *> m_numbers;
    QLabel *m_problems;
};

} // namespace sb::ui
