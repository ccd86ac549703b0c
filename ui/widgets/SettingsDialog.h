#pragma once

#include "backend/ConsoleTypes.h"

#include <QAbstractSpinBox>
#include <QDialog>
#include <QMap>

#include <optional>

class QLabel;
class QLineEdit;
class QTabWidget;

namespace sb::ui {

class ConsoleBackend;

// A spin box for whole numbers up to 64 bits (QSpinBox stops at 2^31 - 1): the settings
// dialog's field for an Integer setting, with the range of the server's schema. A number
// outside the range cannot be typed; setValue() clamps.
class SettingsNumberField final : public QAbstractSpinBox
{
    Q_OBJECT

public:
    explicit SettingsNumberField(QWidget *parent = nullptr);

    void setRange(qint64 minimum, qint64 maximum);
    qint64 minimum() const { return m_minimum; }
    qint64 maximum() const { return m_maximum; }
    qint64 value() const { return m_value; }
    void setValue(qint64 value);
    void setSuffix(const QString &suffix);

    void stepBy(int steps) override;
    QValidator::State validate(QString &input, int &pos) const override;
    void fixup(QString &input) const override;

protected:
    StepEnabled stepEnabled() const override;

private:
    std::optional<qint64> parse(const QString &text) const;
    QString textOf(qint64 value) const;
    void takeText();

    qint64 m_minimum = 0;
    qint64 m_maximum = 99;
    qint64 m_value = 0;
    QString m_suffix;
};

// Settings of the hosted server: listen address, TLS files, API key and JWT secret (generate,
// copy), limits, message log and PostgreSQL LISTEN. Read and written through the backend
// (ConsoleBackend::loadSettings/saveSettings), which checks them as the server does at start;
// fields and ranges come from the server's configuration schema. Values given by command-line
// flags or environment variables still win at the next start; the dialog says so.
class SettingsDialog final : public QDialog
{
    Q_OBJECT

public:
    // `overridden` lists keys that flags or variables set for this process.
    SettingsDialog(ConsoleBackend *backend, const QStringList &overridden,
                   QWidget *parent = nullptr);

    // Field access by INI key, for tests.
    QString value(const QString &key) const;
    void setValue(const QString &key, const QString &value);
    QWidget *field(const QString &key) const { return m_fields.value(key); }
    QStringList keys() const { return m_fields.keys(); }
    // Every field's value, as saved.
    SettingValues values() const;
    // Saves through the backend; false with the server's message naming each wrong setting.
    bool save(QString *error);

    void accept() override;

private:
    QWidget *addField(QWidget *page, const QString &key, const QString &label,
                      const QString &hint = {});
    QLineEdit *addText(const SettingSpec &spec, QWidget *page, const QString &hint);
    void addSecretActions(QLineEdit *edit, const QString &key);
    void addBrowseAction(QLineEdit *edit);
    void buildPages();
    bool load();

    ConsoleBackend *m_backend;
    QStringList m_overridden;
    QTabWidget *m_tabs;
    QMap<QString, QWidget *> m_fields;
    QLabel *m_problems;
};

} // namespace sb::ui
