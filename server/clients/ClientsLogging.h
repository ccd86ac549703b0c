#pragma once

#include <QLoggingCategory>

namespace sb {

// The log category of the outbound clients ("[clients]" in the server's log).
Q_DECLARE_LOGGING_CATEGORY(lcClients)

} // namespace sb
