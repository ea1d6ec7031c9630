"""Unit tests of tests/bench/ajp_client.py (tomcat.sh's CPing, answer check and warm-up), against
a scripted container on a socket pair:
python3 -B -m unittest discover -s tests/bench -p 'test_*.py'"""

import socket
import struct
import sys
import threading
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import ajp_client  # noqa: E402
import bench  # noqa: E402


def container_packet(payload):
    return b"AB" + struct.pack(">H", len(payload)) + payload


def send_headers(status, headers):
    """SEND_HEADERS with coded names where AJP13 has a code, as Tomcat sends them."""
    p = bytes([ajp_client.SEND_HEADERS]) + struct.pack(">H", status) + ajp_client.ajp_string("OK")
    p += struct.pack(">H", len(headers))
    for name, value in headers:
        if name in ajp_client.RESPONSE_HEADER_NAMES:
            p += struct.pack(">H", 0xA001 + ajp_client.RESPONSE_HEADER_NAMES.index(name))
        else:
            p += ajp_client.ajp_string(name)
        p += ajp_client.ajp_string(value)
    return container_packet(p)


def body_chunk(data):
    # Tomcat puts a NUL after the data; the length says where the data ends.
    return container_packet(bytes([ajp_client.SEND_BODY_CHUNK]) + struct.pack(">H", len(data))
                            + data + b"\0")


def end_response(reuse=True):
    return container_packet(bytes([ajp_client.END_RESPONSE, 1 if reuse else 0]))


def read_web_server_packet(sock):
    head = b""
    while len(head) < 4:
        head += sock.recv(4 - len(head))
    assert head[:2] == b"\x12\x34", head
    (length,) = struct.unpack(">H", head[2:])
    payload = b""
    while len(payload) < length:
        payload += sock.recv(length - len(payload))
    return payload


def parse_forward_request(payload):
    """What a container reads from FORWARD_REQUEST: method code, uri, headers, query string."""
    assert payload[0] == ajp_client.FORWARD_REQUEST
    method = payload[1]
    at = 2
    fields = []
    for _ in range(5):  # protocol, req_uri, remote_addr, remote_host, server_name
        text, at = ajp_client.read_string(payload, at)
        fields.append(text)
    port, is_ssl, count = struct.unpack_from(">HBH", payload, at)
    at += 5
    headers = {}
    for _ in range(count):
        (code,) = struct.unpack_from(">H", payload, at)
        if code >> 8 == 0xA0:
            name = {v: k for k, v in ajp_client.REQUEST_HEADER_CODES.items()}[code]
            at += 2
        else:
            name, at = ajp_client.read_string(payload, at)
        value, at = ajp_client.read_string(payload, at)
        headers[name.lower()] = value
    query = None
    while payload[at] != ajp_client.TERMINATOR:
        assert payload[at] == ajp_client.QUERY_STRING
        query, at = ajp_client.read_string(payload, at + 1)
    assert at == len(payload) - 1
    return method, fields[1], headers, query, port, is_ssl


class Exchanges(unittest.TestCase):
    def run_against(self, container, method, path, body=b""):
        client, server = socket.socketpair()
        seen = {}
        thread = threading.Thread(target=container, args=(server, seen))
        thread.start()
        try:
            result = ajp_client.exchange(client, ajp_client.Reader(client), 8009, method, path,
                                         body)
        finally:
            thread.join()
            client.close()
            server.close()
        return result, seen

    def test_get_sends_uri_query_and_host_and_collects_the_chunks(self):
        answer = bench.pattern(20000)

        def container(sock, seen):
            seen["request"] = parse_forward_request(read_web_server_packet(sock))
            sock.sendall(send_headers(200, [("Content-Type", "application/octet-stream"),
                                            ("Content-Length", "20000"), ("X-Other", "1")])
                         + body_chunk(answer[:8184]) + body_chunk(answer[8184:16368])
                         + body_chunk(answer[16368:]) + end_response())

        (status, headers, body, reuse), seen = self.run_against(
            container, "GET", "/bench/size.jsp?size=20000")
        self.assertEqual(seen["request"], (2, "/bench/size.jsp", {"host": "127.0.0.1:8009"},
                                           "size=20000", 8009, 0))
        self.assertEqual((status, reuse), (200, True))
        self.assertEqual(headers, {"content-type": "application/octet-stream",
                                   "content-length": "20000", "x-other": "1"})
        self.assertEqual(body, answer)
        self.assertIsNone(ajp_client.answer_problem(status, headers, body, 20000))

    def test_post_body_goes_first_packet_at_once_then_as_asked(self):
        upload = bytes(range(256)) * 80  # 20480 bytes: 8186 + 8186 + 4108

        def container(sock, seen):
            method, _, headers, _, _, _ = parse_forward_request(read_web_server_packet(sock))
            seen["method"], seen["headers"] = method, headers
            received = []
            while True:
                payload = read_web_server_packet(sock)
                if not payload:
                    break  # the empty packet: no more body
                (length,) = struct.unpack(">H", payload[:2])
                received.append(payload[2:2 + length])
                sock.sendall(container_packet(bytes([ajp_client.GET_BODY_CHUNK])
                                              + struct.pack(">H", 8186)))
            seen["sizes"] = [len(r) for r in received]
            seen["body"] = b"".join(received)
            sock.sendall(send_headers(200, [("Content-Length", "0")]) + end_response(False))

        (status, _, body, reuse), seen = self.run_against(container, "POST", "/bench/x", upload)
        self.assertEqual(seen["method"], 4)
        self.assertEqual(seen["headers"]["content-length"], "20480")
        self.assertEqual(seen["headers"]["content-type"], "application/octet-stream")
        self.assertEqual(seen["sizes"], [8186, 8186, 4108])
        self.assertEqual(seen["body"], upload)
        self.assertEqual((status, body, reuse), (200, b"", False))

    def test_wrong_answers_are_named(self):
        right = {"content-type": "application/octet-stream", "content-length": "300"}
        body = bench.pattern(300)
        self.assertEqual(ajp_client.answer_problem(404, right, body, 300), "status 404")
        self.assertIn("Content-Type", ajp_client.answer_problem(
            200, dict(right, **{"content-type": "text/html"}), body, 300))
        self.assertIn("Content-Length", ajp_client.answer_problem(200, {**right,
                      "content-length": None}, body, 300))
        self.assertEqual(ajp_client.answer_problem(200, right, body[:299], 300),
                         "299 body bytes")
        changed = body[:100] + b"\xff" + body[101:]
        self.assertIn("from byte 100 on", ajp_client.answer_problem(200, right, changed, 300))


class CPing(unittest.TestCase):
    def test_cpong_counts_and_a_connection_closed_without_one_does_not(self):
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]

        def serve(reply):
            conn, _ = listener.accept()
            with conn:
                self.assertEqual(conn.recv(5), b"\x12\x34\x00\x01\x0a")
                if reply:
                    conn.sendall(container_packet(bytes([ajp_client.CPONG])))

        for reply, expected in ((True, True), (False, False)):
            thread = threading.Thread(target=serve, args=(reply,))
            thread.start()
            self.assertEqual(ajp_client.cping(port, 0.5), expected)
            thread.join()
        listener.close()


if __name__ == "__main__":
    unittest.main()
