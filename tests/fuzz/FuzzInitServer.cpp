// LLVMFuzzerInitialize of the targets that talk to the in-process server (FuzzServer.h),
// linked into each of them by CMakeLists.txt: a quiet Qt, and the server started once.

#include "FuzzServer.h"
#include "FuzzSupport.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    sbfuzz::quietQt();
    sbfuzz::server();
    return 0;
}
