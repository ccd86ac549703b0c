#pragma once

#include <string>
#include <string_view>

namespace loadgen {

// One line of progress or trouble on stderr, after "sb-loadgen: ". Stdout is for the result.
[[gnu::format(printf, 1, 2)]] void note(const char *format, ...);

std::string errnoText(int error);

// The first bytes of a server's answer, printable, for error messages.
std::string snippet(std::string_view text);

} // namespace loadgen
