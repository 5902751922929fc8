"""Raw HTTP/1.1 over a socket, for requests a client library would refuse to send (bytes that are not
UTF-8 in a header, bodies of 5,000 ``[``), against the real server of a daemon under test."""

from __future__ import annotations

import socket

from tests.harness.lab import Lab


def raw(lab: Lab, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is; (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", lab.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def post(path: str, body: bytes, *headers: bytes) -> bytes:
    """A POST with a JSON content type, closing the connection after the answer."""
    extra = b"".join(h + b"\r\n" for h in headers)
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def get(path: str) -> bytes:
    """A GET, closing the connection after the answer."""
    return f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
