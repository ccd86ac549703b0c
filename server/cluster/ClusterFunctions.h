#pragma once

#include <QByteArray>

namespace sb {

// The cluster's Redis function library (server/cluster/switchboard.lua, built into the
// program), as FUNCTION LOAD takes it.
QByteArray clusterFunctionLibrary();

} // namespace sb
