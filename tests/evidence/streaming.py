"""Send a huge callback request body in chunks and see whether (and when) the server refuses it.

Why: "the upload size limit is enforced server-side" must mean the server refuses a 1.4 GB body without
reading it — a client that fully sends it first proves nothing. This speaks HTTP/1.1 on a raw socket, streams
the body lazily (never holding it in memory), and stops as soon as the server answers or closes.
"""
from __future__ import annotations

import base64
import json
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit


@dataclass
class Streamed:
    status: int | None  # None: the server closed without an answer
    body: str
    sent: int
    total: int
    seconds: float


def upload_body_parts(callback: dict, file: Path, filename: str, sid: str) -> tuple[bytes, bytes, int]:
    """(prefix, suffix, base64 length): the JSON envelope of the upload callback around a data-URL whose
    base64 content is streamed from ``file`` in between."""
    size = file.stat().st_size
    b64_len = 4 * ((size + 2) // 3)
    marker = "\x00B64\x00"
    body = {
        "output": callback["output"],
        "outputs": [{"id": c.split(".")[0], "property": c.split(".")[1].split("@")[0]}
                    for c in callback["output"].strip(".").split("...")],
        "inputs": [{"id": "upload-data", "property": "contents", "value": "data:text/csv;base64," + marker}],
        "state": [{"id": s["id"], "property": s["property"],
                   "value": {("upload-data", "filename"): filename, ("session-id", "data"): sid}.get(
                       (s["id"], s["property"]))}
                  for s in callback.get("state", [])],
        "changedPropIds": ["upload-data.contents"],
    }
    text = json.dumps(body)
    pre, post = text.split(json.dumps(marker)[1:-1])
    return pre.encode(), post.encode(), b64_len


def b64_chunks(file: Path, chunk: int = 3 * 2**20) -> Iterator[bytes]:
    with open(file, "rb") as fh:
        while True:
            raw = fh.read(chunk)
            if not raw:
                return
            yield base64.b64encode(raw)


def post_streamed(url: str, path: str, prefix: bytes, parts: Iterator[bytes], suffix: bytes, total: int,
                  timeout: float = 60.0) -> Streamed:
    u = urlsplit(url)
    assert u.hostname in ("127.0.0.1", "localhost"), "loopback only"
    sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
    sock.setblocking(True)
    head = (f"POST {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {total}\r\nConnection: close\r\n\r\n").encode()
    t0 = time.monotonic()
    sent = 0
    answered = False

    def server_spoke() -> bool:
        r, _, _ = select.select([sock], [], [], 0)
        return bool(r)

    try:
        sock.sendall(head)
        for piece in _chain(prefix, parts, suffix):
            if server_spoke():
                answered = True
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                answered = True
                break
            sent += len(piece)
            if time.monotonic() - t0 > timeout:
                break
        data = b""
        sock.settimeout(timeout)
        try:
            while True:
                got = sock.recv(65536)
                if not got:
                    break
                data += got
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        sock.close()
    status = None
    body = ""
    if data.startswith(b"HTTP/"):
        status = int(data.split(b" ", 2)[1])
        body = data.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
    _ = answered
    return Streamed(status, body, sent, total, time.monotonic() - t0)


def _chain(prefix: bytes, parts: Iterator[bytes], suffix: bytes) -> Iterator[bytes]:
    yield prefix
    yield from parts
    yield suffix
