#include "ProcessLimits.h"

#include <sys/resource.h>

namespace sb {

long raiseOpenFileLimit()
{
    struct rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        struct rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            return long(raised.rlim_cur);
    }
    return long(limit.rlim_cur);
}

} // namespace sb
