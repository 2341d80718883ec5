"""Real servers for delivery tests: an SMTP server (aiosmtpd) that can refuse, and an HTTP server for the webhook."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from inventory.adapters.settings import Settings, load_settings


def free_port() -> int:
    """A port nobody listens on now (aiosmtpd cannot be given port 0: aiosmtpd issue 276)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """The SMTP server's handler: keeps every message accepted; answers `refuse` to DATA while it is set."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.attempts = 0
        self.refuse: str | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.attempts += 1
            if self.refuse:
                return self.refuse
            message = message_from_bytes(envelope.content, policy=default)
            assert isinstance(message, EmailMessage)
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.messages if address in rcpt]

    def recipients(self) -> list[str]:
        return sorted(address for rcpt, _message in self.messages for address in rcpt)


class SmtpServer:
    """aiosmtpd on a fixed local port, which can be stopped and started again (same port)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Hangup(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.close()  # accept, then drop the connection before any greeting


@contextmanager
def hanging_up(port: int) -> Iterator[None]:
    """A server on `port` that accepts each connection and drops it at once."""
    socketserver.TCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Hangup)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Hooks:
    """What the webhook server received: each POST's path and JSON body."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.posts.append(body)


@contextmanager
def webhook_server() -> Iterator[tuple[str, Hooks]]:
    """A local HTTP server taking JSON POSTs at /hook; yields its URL and what it received."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length))
            assert self.path == "/hook" and self.headers.get("Content-Type") == "application/json"
            hooks.add(body)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hooks
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def settings_for(database_url: str, tmp_path: Path, smtp_port: int, **extra: str) -> Settings:
    """Settings for a test program: its database, plain SMTP on the local server, alerts linked to a test URL."""
    return load_settings(
        {
            "INVENTORY_DATABASE_URL": database_url,
            "INVENTORY_INSTANCE_PATH": str(tmp_path),
            "INVENTORY_SMTP_HOST": "127.0.0.1",
            "INVENTORY_SMTP_PORT": str(smtp_port),
            "INVENTORY_SMTP_SECURITY": "none",
            "INVENTORY_SMTP_FROM": "inventory@example.org",
            "INVENTORY_BASE_URL": "https://inventory.example.org/",
            **extra,
        }
    )
