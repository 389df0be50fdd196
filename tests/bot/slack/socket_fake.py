"""Slack's Socket Mode endpoint, faked on 127.0.0.1 with the standard library (no dependency).

slack_sdk's built-in client connects without TLS to any port but 443 ("only for library
testing"), does the RFC 6455 handshake and checks Sec-WebSocket-Accept, then expects a
`hello`, envelopes as text frames, and answers each with `{"envelope_id": …, "payload": …}`.
Client frames are masked; server frames are not.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import queue
import socket
import struct
import threading
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketSlack:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._clients: list[socket.socket] = []
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self._closed = False
        threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=test"

    def send(self, message: dict[str, Any]) -> None:
        frame = _frame(0x1, json.dumps(message).encode())
        for client in list(self._clients):
            client.sendall(frame)

    def ack_for(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's answer to an envelope (other messages are skipped)."""
        while True:
            message = self.received.get(timeout=timeout)
            if message.get("envelope_id") == envelope_id:
                return message

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for client in self._clients:
            client.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(1024)
            if not chunk:
                return
            request += chunk
        headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
        accept = base64.b64encode(hashlib.sha1((headers["Sec-WebSocket-Key"] + GUID).encode()).digest()).decode()
        client.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self._clients.append(client)
        client.sendall(_frame(0x1, json.dumps({"type": "hello", "num_connections": 1}).encode()))
        self.connected.set()
        with contextlib.suppress(OSError):
            self._read(client)

    def _read(self, client: socket.socket) -> None:
        while True:
            head = _exactly(client, 2)
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", _exactly(client, 2))[0]
            elif length == 127:
                length = struct.unpack("!Q", _exactly(client, 8))[0]
            mask = _exactly(client, 4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(client, length)))
            if opcode == 0x1:
                self.received.put(json.loads(data))
            elif opcode == 0x9:  # ping
                client.sendall(_frame(0xA, data))
            elif opcode == 0x8:  # close
                client.sendall(_frame(0x8, data[:2]))
                return


def _frame(opcode: int, data: bytes) -> bytes:
    length = len(data)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return head + data


def _exactly(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data
