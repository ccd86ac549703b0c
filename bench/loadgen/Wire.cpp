#include "Wire.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>

namespace loadgen {

namespace {

uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t splitMix64(uint64_t &state)
{
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

char asciiLower(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return asciiLower(x) == asciiLower(y);
           });
}

bool containsIgnoringCase(std::string_view haystack, std::string_view needle)
{
    if (needle.size() > haystack.size())
        return false;
    for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (equalsIgnoringCase(haystack.substr(i, needle.size()), needle))
            return true;
    }
    return false;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

} // namespace

Rng::Rng()
{
    if (getrandom(m_state, sizeof m_state, 0) != ssize_t(sizeof m_state)) {
        uint64_t seed = uint64_t(time(nullptr)) ^ (uint64_t(getpid()) << 32);
        for (uint64_t &word : m_state)
            word = splitMix64(seed);
    }
    if (m_state[0] == 0 && m_state[1] == 0 && m_state[2] == 0 && m_state[3] == 0)
        m_state[0] = 1; // the one state xoshiro cannot leave
}

uint64_t Rng::next()
{
    const uint64_t result = rotl(m_state[1] * 5, 7) * 9;
    const uint64_t t = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= t;
    m_state[3] = rotl(m_state[3], 45);
    return result;
}

std::string base64Encode(std::string_view bytes)
{
    static constexpr char kAlphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8
                | uint8_t(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (const size_t rest = bytes.size() - i; rest > 0) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (rest == 2)
            v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

void appendJsonString(std::string &out, std::string_view s)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (const char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (uint8_t(c) < 0x20) {
                out += "\\u00";
                out += kHex[uint8_t(c) >> 4];
                out += kHex[uint8_t(c) & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

std::optional<uint64_t> findUnsigned(std::string_view text, std::string_view key)
{
    size_t pos = text.find(key);
    if (pos == std::string_view::npos)
        return std::nullopt;
    pos += key.size();
    while (pos < text.size() && text[pos] == ' ')
        ++pos;
    uint64_t value = 0;
    const char *begin = text.data() + pos;
    const auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), value);
    if (ec != std::errc() || ptr == begin)
        return std::nullopt;
    return value;
}

namespace ws {

void appendClientFrame(std::string &out, Opcode opcode, std::string_view payload, uint32_t mask)
{
    constexpr uint8_t kFin = 0x80;
    constexpr uint8_t kMasked = 0x80;
    out += char(kFin | opcode);
    const uint64_t length = payload.size();
    if (length < 126) {
        out += char(kMasked | length);
    } else if (length <= 0xffff) {
        out += char(kMasked | 126);
        out += char(length >> 8);
        out += char(length & 0xff);
    } else {
        out += char(kMasked | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += char((length >> shift) & 0xff);
    }
    const char key[4] = {char(mask >> 24), char(mask >> 16), char(mask >> 8), char(mask)};
    out.append(key, 4);
    const size_t start = out.size();
    out.append(payload);
    for (size_t i = 0; i < payload.size(); ++i)
        out[start + i] = char(out[start + i] ^ key[i & 3]);
}

ParseStatus parseServerFrame(std::string_view data, uint64_t maxPayload, Frame &frame,
                             size_t &consumed)
{
    if (data.size() < 2)
        return ParseStatus::Incomplete;
    const auto b0 = uint8_t(data[0]);
    const auto b1 = uint8_t(data[1]);
    if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0)
        return ParseStatus::Error; // reserved bits without an extension, or a masked frame
    uint64_t length = b1 & 0x7f;
    size_t header = 2;
    if (length == 126) {
        header = 4;
        if (data.size() < header)
            return ParseStatus::Incomplete;
        length = uint64_t(uint8_t(data[2])) << 8 | uint8_t(data[3]);
    } else if (length == 127) {
        header = 10;
        if (data.size() < header)
            return ParseStatus::Incomplete;
        length = 0;
        for (size_t i = 2; i < 10; ++i)
            length = length << 8 | uint8_t(data[i]);
        if (length >> 63)
            return ParseStatus::Error;
    }
    if (length > maxPayload)
        return ParseStatus::Error;
    if (data.size() - header < length)
        return ParseStatus::Incomplete;
    frame.fin = (b0 & 0x80) != 0;
    frame.opcode = b0 & 0x0f;
    frame.payload = data.substr(header, size_t(length));
    consumed = header + size_t(length);
    return ParseStatus::Complete;
}

} // namespace ws

namespace http {

namespace {
constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxLine = 4096;
} // namespace

std::optional<int> parseStatusLine(std::string_view line)
{
    // "HTTP/1.1 200 OK"
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ')
        return std::nullopt;
    int status = 0;
    const char *begin = line.data() + 9;
    const auto [ptr, ec] = std::from_chars(begin, begin + 3, status);
    if (ec != std::errc() || ptr != begin + 3 || status < 100 || status > 999)
        return std::nullopt;
    return status;
}

void ResponseParser::reset()
{
    m_stage = Stage::Head;
    m_line.clear();
    m_remaining = 0;
    m_status = 0;
    m_closeAfter = false;
    m_body.clear();
    m_error.clear();
}

ResponseParser::Result ResponseParser::fail(std::string message)
{
    m_error = std::move(message);
    return Result::Error;
}

void ResponseParser::keep(std::string_view bytes)
{
    if (m_body.size() < m_bodyLimit)
        m_body.append(bytes.substr(0, m_bodyLimit - m_body.size()));
}

bool ResponseParser::takeLine(std::string_view &data)
{
    const size_t newline = data.find('\n');
    const size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
    m_line.append(data.substr(0, take));
    data.remove_prefix(take);
    return newline != std::string_view::npos;
}

bool ResponseParser::parseHead(std::string_view head)
{
    size_t lineEnd = head.find("\r\n");
    const std::string_view statusLine = head.substr(0, lineEnd);
    const std::optional<int> status = parseStatusLine(statusLine);
    if (!status) {
        m_error = "bad status line '" + std::string(statusLine.substr(0, 80)) + "'";
        return false;
    }
    m_status = *status;
    bool keepAlive = statusLine.starts_with("HTTP/1.1");
    bool chunked = false;
    std::optional<uint64_t> contentLength;
    while (lineEnd != std::string_view::npos) {
        const size_t start = lineEnd + 2;
        lineEnd = head.find("\r\n", start);
        const std::string_view line = head.substr(start, lineEnd - start);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (equalsIgnoringCase(name, "content-length")) {
            uint64_t length = 0;
            const auto [ptr, ec] =
                    std::from_chars(value.data(), value.data() + value.size(), length);
            if (ec != std::errc() || ptr != value.data() + value.size()) {
                m_error = "bad Content-Length '" + std::string(value.substr(0, 40)) + "'";
                return false;
            }
            contentLength = length;
        } else if (equalsIgnoringCase(name, "transfer-encoding")) {
            chunked = containsIgnoringCase(value, "chunked");
        } else if (equalsIgnoringCase(name, "connection")) {
            if (containsIgnoringCase(value, "close"))
                keepAlive = false;
            else if (containsIgnoringCase(value, "keep-alive"))
                keepAlive = true;
        }
    }
    m_closeAfter = !keepAlive;
    if (m_status < 200 && m_status != 101) {
        m_stage = Stage::Head; // an interim response (100 Continue): the real one follows
    } else if (m_status < 200 || m_status == 204 || m_status == 304) {
        m_stage = Stage::Done;
    } else if (chunked) {
        m_stage = Stage::ChunkSize;
    } else if (contentLength) {
        m_remaining = *contentLength;
        m_stage = m_remaining == 0 ? Stage::Done : Stage::Body;
    } else {
        m_stage = Stage::UntilClose;
        m_closeAfter = true;
    }
    return true;
}

ResponseParser::Result ResponseParser::feed(std::string_view data, size_t &consumed)
{
    const size_t total = data.size();
    for (;;) {
        consumed = total - data.size();
        switch (m_stage) {
        case Stage::Head: {
            const size_t before = m_line.size();
            m_line.append(data);
            const size_t end = m_line.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
            if (end == std::string::npos) {
                consumed = total;
                return m_line.size() > kMaxHead ? fail("response head too large")
                                                : Result::NeedMore;
            }
            const std::string head = m_line.substr(0, end);
            data.remove_prefix(end + 4 - before);
            m_line.clear();
            if (!parseHead(head)) {
                consumed = total - data.size();
                return Result::Error;
            }
            break;
        }
        case Stage::Body:
        case Stage::ChunkData: {
            const size_t take = size_t(std::min<uint64_t>(m_remaining, data.size()));
            keep(data.substr(0, take));
            data.remove_prefix(take);
            m_remaining -= take;
            if (m_remaining > 0) {
                consumed = total;
                return Result::NeedMore;
            }
            m_stage = m_stage == Stage::Body ? Stage::Done : Stage::ChunkEnd;
            break;
        }
        case Stage::ChunkSize:
        case Stage::ChunkEnd:
        case Stage::Trailers: {
            if (!takeLine(data)) {
                consumed = total;
                return m_line.size() > kMaxLine ? fail("chunk line too long") : Result::NeedMore;
            }
            const std::string_view line = trim(std::string_view(m_line).substr(
                    0, std::string_view(m_line).find_first_of(";\r\n")));
            if (m_stage == Stage::ChunkEnd) {
                if (!line.empty())
                    return fail("missing CRLF after a chunk");
                m_stage = Stage::ChunkSize;
            } else if (m_stage == Stage::Trailers) {
                if (line.empty())
                    m_stage = Stage::Done;
            } else {
                uint64_t size = 0;
                const auto [ptr, ec] =
                        std::from_chars(line.data(), line.data() + line.size(), size, 16);
                if (line.empty() || ec != std::errc() || ptr != line.data() + line.size())
                    return fail("bad chunk size");
                m_remaining = size;
                m_stage = size == 0 ? Stage::Trailers : Stage::ChunkData;
            }
            m_line.clear();
            break;
        }
        case Stage::UntilClose:
            keep(data);
            consumed = total;
            return Result::NeedMore;
        case Stage::Done:
            return Result::Done;
        }
    }
}

} // namespace http

} // namespace loadgen
