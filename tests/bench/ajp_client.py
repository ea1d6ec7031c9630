#!/usr/bin/env python3
"""A small AJP13 client, the web server's side, for tests/bench/tomcat.sh: asks a container on
127.0.0.1 for a CPONG, checks its answers to `?size=N` and warms it up. Python 3 standard
library only.

    ajp_client.py cping --port P [--timeout 3]
        exit 0 when the port answers a CPing with a CPONG within the timeout, else 1
    ajp_client.py check --port P [--path /bench/size.jsp] [--name tomcatA] [--warmup 2000]
        GETs path?size=N for several N (0 .. 10 MiB) and a 1 MiB POST, and checks every answer:
        status 200, Content-Type application/octet-stream, Content-Length N, and exactly the N
        bytes of the benchmark's pattern (bench.pattern, what ajp_responder.rs sends). Then
        --warmup more 1 KiB GETs on one connection, so that the page is compiled and the JIT has
        seen it before anything is measured. Exit 0 when all was right, else 1 with the reason.
"""

import argparse
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import bench  # noqa: E402  (tests/bench/bench.py: the pattern every backend answers with)

# Packets from the web server start with 0x12 0x34, the container's with "AB" (AJP13 §2).
TO_CONTAINER = b"\x12\x34"
FROM_CONTAINER = b"AB"
FORWARD_REQUEST = 2
CPING = 10
SEND_BODY_CHUNK = 3
SEND_HEADERS = 4
END_RESPONSE = 5
GET_BODY_CHUNK = 6
CPONG = 9
METHODS = {"GET": 2, "HEAD": 3, "POST": 4}
QUERY_STRING = 0x05
TERMINATOR = 0xFF
# Request header names with a code (AJP13 §4.1), those this client sends.
REQUEST_HEADER_CODES = {"content-type": 0xA007, "content-length": 0xA008, "host": 0xA00B}
# Response header codes (AJP13 §5.1), 0xA001..0xA00B.
RESPONSE_HEADER_NAMES = ("Content-Type", "Content-Language", "Content-Length", "Date",
                         "Last-Modified", "Location", "Set-Cookie", "Set-Cookie2",
                         "Servlet-Engine", "Status", "WWW-Authenticate")
# 8192-byte packets, as Tomcat's and the front ends' default: a body packet carries 8186 bytes.
MAX_PACKET = 8192
MAX_BODY_DATA = MAX_PACKET - 6

# Sizes `check` asks for: none, one byte, 1 KiB, around the 8184-byte body chunk, past one
# period of the pattern, and the scenarios' 100 KiB and 10 MiB.
CHECK_SIZES = (0, 1, 1024, 8184, 8185, bench.PATTERN_PERIOD + 1, 100 * 1024, 10 * 1024 * 1024)


class AjpError(Exception):
    pass


def ajp_string(text):
    """An AJP string: 16-bit length, the bytes, a NUL; None is the null string (0xFFFF)."""
    if text is None:
        return b"\xff\xff"
    data = text.encode("latin-1") if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data + b"\0"


def packet(payload):
    return TO_CONTAINER + struct.pack(">H", len(payload)) + payload


def forward_request(method, uri, query, headers, port):
    """A FORWARD_REQUEST packet (AJP13 §4): `headers` is a list of (name, value)."""
    p = bytearray([FORWARD_REQUEST, METHODS[method]])
    for text in ("HTTP/1.1", uri, "127.0.0.1", None, "127.0.0.1"):
        p += ajp_string(text)
    p += struct.pack(">HBH", port, 0, len(headers))  # server_port, is_ssl, num_headers
    for name, value in headers:
        code = REQUEST_HEADER_CODES.get(name.lower())
        p += struct.pack(">H", code) if code else ajp_string(name)
        p += ajp_string(value)
    if query is not None:
        p += bytes([QUERY_STRING]) + ajp_string(query)
    p.append(TERMINATOR)
    return packet(bytes(p))


def body_packet(data):
    """A request body packet; empty data is the empty packet that says "no more"."""
    return packet(struct.pack(">H", len(data)) + data if data else b"")


class Reader:
    """Container packets from a socket: (prefix code, payload)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def _take(self, n):
        while len(self.buffer) < n:
            data = self.sock.recv(256 * 1024)
            if not data:
                raise AjpError("the container closed the connection")
            self.buffer += data
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def packet(self):
        head = self._take(4)
        if head[:2] != FROM_CONTAINER:
            raise AjpError(f"bad packet magic {head[:2]!r}")
        (length,) = struct.unpack(">H", head[2:])
        if length == 0:
            raise AjpError("empty container packet")
        payload = self._take(length)
        return payload[0], payload[1:]


def read_string(data, at):
    """(text, next offset) of the AJP string at `at`; None for the null string."""
    (length,) = struct.unpack_from(">H", data, at)
    if length == 0xFFFF:
        return None, at + 2
    start = at + 2
    return data[start:start + length].decode("latin-1"), start + length + 1


def parse_send_headers(data):
    """(status, message, {lower-case name: value}) from a SEND_HEADERS payload (prefix gone)."""
    status, = struct.unpack_from(">H", data, 0)
    message, at = read_string(data, 2)
    (count,) = struct.unpack_from(">H", data, at)
    at += 2
    headers = {}
    for _ in range(count):
        (code,) = struct.unpack_from(">H", data, at)
        if code >> 8 == 0xA0:
            index = (code & 0xFF) - 1
            if not 0 <= index < len(RESPONSE_HEADER_NAMES):
                raise AjpError(f"unknown response header code {code:#06x}")
            name = RESPONSE_HEADER_NAMES[index]
            at += 2
        else:
            name, at = read_string(data, at)
        value, at = read_string(data, at)
        headers[name.lower()] = value
    return status, message, headers


def exchange(sock, reader, port, method, path, body=b""):
    """One request; returns (status, headers, body, reuse). A body is sent as AJP13 §6.5 says:
    the first packet right after the FORWARD_REQUEST, the others when asked for."""
    uri, _, query = path.partition("?")
    headers = [("Host", f"127.0.0.1:{port}")]
    if method == "POST":
        headers += [("Content-Type", "application/octet-stream"),
                    ("Content-Length", str(len(body)))]
    out = forward_request(method, uri, query or None, headers, port)
    sent = 0
    if body:
        sent = min(len(body), MAX_BODY_DATA)
        out += body_packet(body[:sent])
    sock.sendall(out)
    status, answer_headers, chunks = None, {}, []
    while True:
        code, data = reader.packet()
        if code == SEND_HEADERS:
            status, _, answer_headers = parse_send_headers(data)
        elif code == SEND_BODY_CHUNK:
            (length,) = struct.unpack_from(">H", data, 0)
            chunks.append(data[2:2 + length])
        elif code == GET_BODY_CHUNK:
            (asked,) = struct.unpack_from(">H", data, 0)
            n = min(asked, MAX_BODY_DATA, len(body) - sent)
            sock.sendall(body_packet(body[sent:sent + n]))
            sent += n
        elif code == END_RESPONSE:
            return status, answer_headers, b"".join(chunks), bool(data[:1] == b"\x01")
        else:
            raise AjpError(f"unexpected container packet type {code}")


def cping(port, timeout):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(packet(bytes([CPING])))
            code, _ = Reader(sock).packet()
            return code == CPONG
    except (OSError, AjpError, struct.error):
        return False


def answer_problem(status, headers, body, size):
    """None when an answer to ?size=`size` is right, else what is wrong with it."""
    if status != 200:
        return f"status {status}"
    if headers.get("content-type") != "application/octet-stream":
        return f"Content-Type {headers.get('content-type')!r}"
    if headers.get("content-length") != str(size):
        return f"Content-Length {headers.get('content-length')!r}"
    if len(body) != size:
        return f"{len(body)} body bytes"
    if body != bench.pattern(size):
        first = next(i for i, (a, b) in enumerate(zip(body, bench.pattern(size))) if a != b)
        return f"body bytes differ from the pattern from byte {first} on"
    return None


def check(port, path, name, warmup, timeout=120.0):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = Reader(sock)
        asked = [("GET", size, b"") for size in CHECK_SIZES]
        # The post-1m scenario: a 1 MiB body read through GET_BODY_CHUNK, a 1 KiB answer.
        asked.append(("POST", 1024, b"b" * (1024 * 1024)))
        for method, size, body in asked:
            status, headers, answer, reuse = exchange(sock, reader, port, method,
                                                      f"{path}?size={size}", body)
            why = answer_problem(status, headers, answer, size)
            if why:
                raise AjpError(f"{method} {path}?size={size}: {why}")
            if not reuse:
                raise AjpError(f"{method} {path}?size={size}: END_RESPONSE does not allow reuse")
        checked = time.monotonic()
        for i in range(warmup):
            status, _, answer, _ = exchange(sock, reader, port, "GET", f"{path}?size=1024")
            if status != 200 or len(answer) != 1024:
                raise AjpError(f"warm-up request {i}: status {status}, {len(answer)} bytes")
    done = time.monotonic()
    print(f"{name}: {len(asked)} answers right (status, Content-Type, Content-Length, bytes) in "
          f"{checked - started:.1f} s, then {warmup} warm-up requests in {done - checked:.1f} s",
          file=sys.stderr)


def main(argv):
    p = argparse.ArgumentParser(prog="ajp_client.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cping")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--timeout", type=float, default=3.0)
    c = sub.add_parser("check")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--path", default="/bench/size.jsp")
    c.add_argument("--name", default="backend")
    c.add_argument("--warmup", type=int, default=2000, help="1 KiB requests after the checks")
    args = p.parse_args(argv)
    if args.command == "cping":
        return 0 if cping(args.port, args.timeout) else 1
    try:
        check(args.port, args.path, args.name, args.warmup)
    except (OSError, AjpError, struct.error) as error:
        print(f"{args.name} (127.0.0.1:{args.port}): {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
