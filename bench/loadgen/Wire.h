#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// What goes over the wire: WebSocket frames (RFC 6455), HTTP/1.1 responses, and the few bits
// of JSON the generator writes and scans.
namespace loadgen {

// xoshiro256**, seeded from getrandom(): masks and Sec-WebSocket-Key values.
class Rng
{
public:
    Rng();
    uint64_t next();

private:
    uint64_t m_state[4]{};
};

std::string base64Encode(std::string_view bytes);

// Appends s as a quoted JSON string.
void appendJsonString(std::string &out, std::string_view s);

// Finds `key` (e.g. "\"seq\":") and reads the unsigned integer after it.
std::optional<uint64_t> findUnsigned(std::string_view text, std::string_view key);

namespace ws {

enum Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// Appends a client frame (FIN set, masked with `mask`).
void appendClientFrame(std::string &out, Opcode opcode, std::string_view payload, uint32_t mask);

struct Frame
{
    bool fin = false;
    uint8_t opcode = 0;
    std::string_view payload; // points into the parsed buffer
};

enum class ParseStatus { Complete, Incomplete, Error };

// Parses the server frame at the start of data. On Complete, sets frame and consumed. Error: a
// protocol violation (reserved bits, a masked server frame, a payload above maxPayload).
ParseStatus parseServerFrame(std::string_view data, uint64_t maxPayload, Frame &frame,
                             size_t &consumed);

} // namespace ws

namespace http {

// The status code of an HTTP/1.x status line, or nothing.
std::optional<int> parseStatusLine(std::string_view line);

// Incremental parser of one HTTP/1.1 response at a time: status line, headers, then a body
// delimited by Content-Length, chunked encoding or the end of the connection.
class ResponseParser
{
public:
    enum class Result { NeedMore, Done, Error };

    // Keeps at most bodyLimit bytes of each body (enough for error messages and tokens).
    explicit ResponseParser(size_t bodyLimit = 512) : m_bodyLimit(bodyLimit) { }

    void reset();
    // Parses data; `consumed` tells how many bytes belong to this response.
    Result feed(std::string_view data, size_t &consumed);
    // At the end of the stream: whether the response is complete (a body that runs until the
    // connection closes).
    bool completeAtEof() const { return m_stage == Stage::UntilClose; }

    int status() const { return m_status; }
    bool closeAfter() const { return m_closeAfter; }
    const std::string &body() const { return m_body; }
    const std::string &error() const { return m_error; }

private:
    enum class Stage { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose, Done };

    Result fail(std::string message);
    bool parseHead(std::string_view head);
    void keep(std::string_view bytes);
    // Appends to m_line up to and including '\n'; true once the line is complete.
    bool takeLine(std::string_view &data);

    size_t m_bodyLimit;
    Stage m_stage = Stage::Head;
    std::string m_line; // the head, or the current chunk-size/trailer line
    uint64_t m_remaining = 0;
    int m_status = 0;
    bool m_closeAfter = false;
    std::string m_body;
    std::string m_error;
};

} // namespace http

} // namespace loadgen
