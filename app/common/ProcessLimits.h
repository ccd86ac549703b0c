#pragma once

namespace sb {

// Raises the soft limit of open files to the hard limit: every WebSocket client is one file
// descriptor, and the usual soft limit of 1024 would cap the server far below max_connections.
// Returns the new soft limit (or the old one when it could not be raised).
long raiseOpenFileLimit();

} // namespace sb
