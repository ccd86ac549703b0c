#include "Stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

namespace loadgen {

namespace {

constexpr size_t kBucketCount = 256 + (64 - 8) * 128;

std::optional<std::string> readFile(const std::string &path)
{
    std::ifstream file(path);
    if (!file)
        return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::optional<long> parseLong(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    long value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr == text.data())
        return std::nullopt;
    return value;
}

} // namespace

LatencyHistogram::LatencyHistogram() : m_buckets(kBucketCount, 0) { }

size_t LatencyHistogram::bucketOf(uint64_t ns)
{
    if (ns < kLinearLimit)
        return size_t(ns);
    const int exponent = 63 - std::countl_zero(ns); // >= 8
    const int shift = exponent - kSubBits;
    const uint64_t sub = (ns >> shift) - (uint64_t(1) << kSubBits); // 0..127
    return size_t(kLinearLimit + uint64_t(exponent - kSubBits - 1) * (uint64_t(1) << kSubBits)
                  + sub);
}

uint64_t LatencyHistogram::midpointOf(size_t bucket)
{
    if (bucket < kLinearLimit)
        return bucket;
    const size_t offset = bucket - kLinearLimit;
    const int shift = int(offset >> kSubBits) + 1;
    const uint64_t sub = offset & ((uint64_t(1) << kSubBits) - 1);
    const uint64_t low = ((uint64_t(1) << kSubBits) + sub) << shift;
    return low + (uint64_t(1) << shift) / 2;
}

void LatencyHistogram::record(uint64_t ns)
{
    ++m_buckets[bucketOf(ns)];
    ++m_count;
    m_max = std::max(m_max, ns);
}

void LatencyHistogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = 0;
    m_max = 0;
}

uint64_t LatencyHistogram::quantile(double q) const
{
    if (m_count == 0)
        return 0;
    const auto rank = std::clamp<uint64_t>(uint64_t(std::ceil(q * double(m_count))), 1, m_count);
    uint64_t seen = 0;
    for (size_t bucket = 0; bucket < m_buckets.size(); ++bucket) {
        seen += m_buckets[bucket];
        if (seen >= rank)
            return std::min(midpointOf(bucket), m_max);
    }
    return m_max;
}

double ownCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto toSeconds = [](const timeval &tv) {
        return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
    };
    return toSeconds(usage.ru_utime) + toSeconds(usage.ru_stime);
}

std::optional<double> readCpuSeconds(int pid)
{
    const std::optional<std::string> stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return std::nullopt;
    // The command name (field 2) may hold spaces and parentheses: fields restart after the
    // last ')'. Then field 3 (state) comes first; utime and stime are fields 14 and 15.
    const size_t paren = stat->rfind(')');
    if (paren == std::string::npos)
        return std::nullopt;
    std::istringstream fields(stat->substr(paren + 1));
    std::string field;
    long ticks = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number < 14)
            continue;
        const std::optional<long> value = parseLong(field);
        if (!value)
            return std::nullopt;
        ticks += *value;
    }
    if (!fields)
        return std::nullopt;
    const long ticksPerSecond = sysconf(_SC_CLK_TCK);
    return double(ticks) / double(ticksPerSecond > 0 ? ticksPerSecond : 100);
}

std::optional<ProcessStatus> readProcessStatus(int pid)
{
    const std::optional<std::string> text = readFile("/proc/" + std::to_string(pid) + "/status");
    if (!text)
        return std::nullopt;
    ProcessStatus status;
    bool haveRss = false;
    bool haveThreads = false;
    std::string_view rest = *text;
    while (!rest.empty()) {
        const size_t newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
        if (line.starts_with("VmRSS:")) {
            if (const std::optional<long> kb = parseLong(line.substr(6))) {
                status.rssKb = *kb;
                haveRss = true;
            }
        } else if (line.starts_with("Threads:")) {
            if (const std::optional<long> threads = parseLong(line.substr(8))) {
                status.threads = *threads;
                haveThreads = true;
            }
        }
    }
    if (!haveRss || !haveThreads)
        return std::nullopt;
    return status;
}

} // namespace loadgen
