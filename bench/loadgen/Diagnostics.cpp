#include "Diagnostics.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace loadgen {

namespace {
constexpr size_t kSnippetBytes = 160;
} // namespace

void note(const char *format, ...)
{
    std::fputs("sb-loadgen: ", stderr);
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fputc('\n', stderr);
}

std::string errnoText(int error)
{
    return std::strerror(error);
}

// The first bytes of a server's answer, printable, for error messages.
std::string snippet(std::string_view text)
{
    std::string out(text.substr(0, kSnippetBytes));
    for (char &c : out) {
        if (uint8_t(c) < 0x20 || uint8_t(c) == 0x7f)
            c = ' ';
    }
    return out;
}

} // namespace loadgen
