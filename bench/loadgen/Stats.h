#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace loadgen {

// Log-linear histogram of nanosecond values: exact below 256 ns, then 128 buckets per power
// of two, so a percentile is within 0.4% of the true value. Fixed size (58 KiB), so any number
// of samples fits.
class LatencyHistogram
{
public:
    LatencyHistogram();

    void record(uint64_t ns);
    void clear();

    uint64_t count() const { return m_count; }
    uint64_t max() const { return m_max; }
    // The value at or below which a fraction q (0..1) of the samples lie; 0 when empty.
    uint64_t quantile(double q) const;

private:
    static constexpr int kSubBits = 7;
    static constexpr uint64_t kLinearLimit = uint64_t(1) << (kSubBits + 1); // 256

    static size_t bucketOf(uint64_t ns);
    static uint64_t midpointOf(size_t bucket);

    std::vector<uint64_t> m_buckets;
    uint64_t m_count = 0;
    uint64_t m_max = 0;
};

// What /proc tells about the observed server.
struct ProcessStatus
{
    long rssKb = 0;
    long threads = 0;
};

// utime + stime of this process in seconds.
double ownCpuSeconds();
// utime + stime of a process in seconds, from /proc/<pid>/stat.
std::optional<double> readCpuSeconds(int pid);
// VmRSS and Threads from /proc/<pid>/status.
std::optional<ProcessStatus> readProcessStatus(int pid);

} // namespace loadgen
