#pragma once

#include <QString>
#include <QStringList>
#include <QStringView>

#include <span>

namespace sb {

// What kind of value a configuration key holds.
enum class ConfigType {
    Integer, // a whole number from `min` to `max`
    Boolean, // true/false, yes/no, on/off, 1/0; a flag without a value on the command line
    Text,    // free text, trimmed
    Secret,  // text that is kept secret (api_key, jwt_secret)
    Path,    // a file or directory
    Choice,  // one of `choices`
    List,    // comma-separated items, each of `format`
};

// What the text of a Text or List value (each item) must look like (ConfigLoader::checkValue).
enum class ConfigFormat {
    Any,
    HostPort,  // host:port, e.g. 127.0.0.1:8080 or [::]:443
    PgUrl,     // empty, or a postgresql:// URL
    PgChannel, // 1..63 ASCII letters, digits or underscores
    Origin,    // https://app.example.com, or *
    HostName,  // app.example.com
    Cidr,      // 10.0.0.0/8 or one address
    RedisUrl,  // empty, or redis://... or unix://... (a cluster's Redis)
    NodeName,  // empty, or 1..64 printable ASCII characters without spaces
};

// One configuration key. It has three spellings (docs/deployment.md, "Configuration"): the INI
// key `name`, the flag --`flag` and the environment variable SWITCHBOARD_<NAME>.
struct ConfigKey
{
    const char *name; // INI key
    const char *flag; // command-line option, without "--"
    ConfigType type;
    ConfigFormat format;
    qint64 min;               // Integer: the smallest accepted value
    qint64 max;               // Integer: the largest accepted value
    const char *defaultValue; // as written in the file; "" = not set (the help says what then)
    const char *valueName;    // for --help; the unit of an Integer (bytes, seconds, days, n)
    const char *choices;      // Choice: the accepted values, comma-separated
    const char *help;         // one sentence, without the default or the range
};

// Every key that ConfigLoader knows, in the order of --help.
std::span<const ConfigKey> configSchema();
// The key named `name` (INI spelling), or null.
const ConfigKey *findConfigKey(QStringView name);

QString configKeyName(const ConfigKey &key);
QString configEnvName(const ConfigKey &key);
// "max_body_bytes (--max-body-bytes / SWITCHBOARD_MAX_BODY_BYTES / config key max_body_bytes)"
QString describeConfigKey(const ConfigKey &key);
// The accepted values of a Choice key.
QStringList configChoices(const ConfigKey &key);
// The --help text: help, range and default.
QString configHelpText(const ConfigKey &key);

} // namespace sb
