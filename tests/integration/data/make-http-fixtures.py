#!/usr/bin/env python3
"""Writes the *.http fixtures of tst_database_http: the HTTP requests that
sql/oracle/websocket_pkg.pkb builds, byte for byte (CRLF line ends, exact bodies).

    python3 tests/integration/data/make-http-fixtures.py

The test starts switchboardd with the API key below and replays each file unchanged over a raw
TCP connection. How each file maps to the PL/SQL: README.md beside this script."""
import base64
import json
import os

API_KEY = "replay-0123456789abcdef0123456789abcdef"
HOST = "switchboard.example.com:8080"  # UTL_HTTP sends the URL's host:port for HTTP/1.1
HERE = os.path.dirname(os.path.abspath(__file__))


def json_string(s):
    # websocket_pkg.json_string: ", \\ and control characters escaped, the rest as is (UTF-8).
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    for c, e in (("\b", "\\b"), ("\t", "\\t"), ("\n", "\\n"), ("\f", "\\f"), ("\r", "\\r")):
        out = out.replace(c, e)
    return '"' + "".join(ch if ord(ch) >= 32 else "\\u%04X" % ord(ch) for ch in out) + '"'


def body(fields, data=None):
    # websocket_pkg.json_body: {<fields>[,"data":<p_data as given>]}
    text = "{" + ",".join('"%s":%s' % (k, json_string(v)) for k, v in fields)
    if data is not None:
        text += ',"data":' + data
    return (text + "}").encode("utf-8")


def utl_head(path, extra=()):
    # http_utl: begin_request (request line; Host by UTL_HTTP), then set_header in this order.
    lines = ["POST %s HTTP/1.1" % path, "Host: " + HOST,
             "Content-Type: application/json; charset=utf-8",
             "Accept: application/json",
             "X-API-Key: " + API_KEY,
             "User-Agent: websocket_pkg/1"]
    lines += list(extra)
    return lines


def apex_head(path, extra=()):
    # http_apex: make_rest_request with p_username/p_password/p_scheme => 'Basic' and
    # g_request_headers Content-Type and Accept.
    basic = base64.b64encode(("switchboard:" + API_KEY).encode()).decode()
    lines = ["POST %s HTTP/1.1" % path, "Host: " + HOST,
             "Authorization: Basic " + basic,
             "Content-Type: application/json; charset=utf-8",
             "Accept: application/json",
             "User-Agent: Oracle APEX"]
    lines += list(extra)
    return lines


def with_length(head, payload):
    return ("\r\n".join(head + ["Content-Length: %d" % len(payload)]) + "\r\n\r\n").encode() + payload


def chunked(head, payload, piece=32000):
    # write_raw pieces of c_piece_bytes; UTL_HTTP frames each as a chunk (hex size, CRLF).
    out = ("\r\n".join(head + ["Transfer-Encoding: chunked"]) + "\r\n\r\n").encode()
    for i in range(0, len(payload), piece):
        part = payload[i:i + piece]
        out += b"%X\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


ROOM = "hr:emp:1234"
DATA = '{"id": 1234, "name": "Grüße, 日本 €", "salary": 12345678901234567890.50, "tags": ["a", "b"]}'
BIG = json.dumps({"rows": ["x" * 1000 + str(i) for i in range(40)], "n": 1.0})  # > 32767 bytes

FIXTURES = {
    # register(p_room, p_user_name, p_session_id, p_token)
    "utl-register.http": with_length(utl_head("/api/register"), body(
        [("room", ROOM), ("user", "SCOTT"), ("session", "8086917342551")])),
    # emit_to_room(p_room, p_event, p_data) with a small body: Content-Length
    "utl-emit-room-content-length.http": with_length(utl_head("/api/emit/room"), body(
        [("room", ROOM), ("event", "RefreshEmployees")], DATA)),
    # emit_to_user with a body over 32767 bytes: Transfer-Encoding: chunked
    "utl-emit-user-chunked.http": chunked(utl_head("/api/emit/user"), body(
        [("user", "SCOTT"), ("event", "websocket::message")], BIG)),
    # emit_to_all without p_data; the same request should UTL_HTTP add Connection: close
    "utl-emit-all-connection-close.http": with_length(
        utl_head("/api/emit/all", ["Connection: close"]), body([("event", "websocket::refresh")])),
    # unregister(p_room, p_user_name, p_session_id)
    "utl-unregister.http": with_length(utl_head("/api/unregister"), body(
        [("room", ROOM), ("user", "SCOTT"), ("session", "8086917342551")])),
    # a name with a quote, a backslash and control characters, escaped by json_string
    "utl-emit-room-escapes.http": with_length(utl_head("/api/emit/room"), body(
        [("room", ROOM), ("event", 'say "hi"\\\t\x01')], '"text"')),
    # non-2xx: a wrong key (401) and an empty room (400): the messages go into ORA-20001
    "utl-error-wrong-key.http": with_length(
        [l if not l.startswith("X-API-Key") else "X-API-Key: not-the-key"
         for l in utl_head("/api/emit/room")],
        body([("room", ROOM), ("event", "e")])),
    "utl-error-empty-room.http": with_length(utl_head("/api/emit/room"), body(
        [("room", ""), ("event", "e")])),
    # APEX_WEB_SERVICE shapes: Basic with the key as the password
    "apex-emit-room-basic.http": with_length(apex_head("/api/emit/room"), body(
        [("room", ROOM), ("event", "websocket::message")], '{"message": "Hello World!"}')),
    "apex-register-basic.http": with_length(apex_head("/api/register"), body(
        [("room", ROOM), ("user", "ADAMS"), ("session", "APEX-SESSION-1")])),
    "apex-emit-room-chunked.http": chunked(apex_head("/api/emit/room"), body(
        [("room", ROOM), ("event", "BigRefresh")], BIG), piece=8000),
}

for name, payload in FIXTURES.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(payload)
    print("%-40s %6d bytes" % (name, len(payload)))
