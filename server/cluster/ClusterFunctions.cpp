#include "cluster/ClusterFunctions.h"

namespace sb {

namespace {
// switchboard.lua as a raw string literal, generated at configure time.
#include "ClusterFunctionsLua.inc"
} // namespace

QByteArray clusterFunctionLibrary()
{
    return QByteArray::fromRawData(kClusterFunctionsLua, sizeof(kClusterFunctionsLua) - 1);
}

} // namespace sb
