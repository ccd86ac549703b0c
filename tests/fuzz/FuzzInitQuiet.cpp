// LLVMFuzzerInitialize of the targets that need no more than a quiet Qt (linked into each of
// them by CMakeLists.txt).

#include "FuzzSupport.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    sbfuzz::quietQt();
    return 0;
}
