"""An S3-compatible server on loopback for tests: moto's server mode in a child process, and an
HTTP proxy in front of it that fails requests on purpose (transient errors, for the retries)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# moto's server, ending itself when its stdin closes: if the test process dies before its teardown
# (a worker killed by -x, a timeout), the server does not outlive it.
_SERVE = """
import os, sys, threading
from moto.server import main
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"""


class MotoServer:
    """`python -m moto.server` on 127.0.0.1 and a free port; `env` goes to the server process
    (e.g. INITIAL_NO_AUTH_ACTION_COUNT=0 makes it check credentials)."""

    def __init__(self, env: dict[str, str] | None = None):
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        for _ in range(3):  # the free port may be taken between choosing it and binding it
            self.port = free_port()
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(self.port)], stdin=subprocess.PIPE,
                env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stopped whole, whatever signals it inherited
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1).read()
                    return self
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"moto server did not start: {self.process.stderr.read().decode()[-2000:] if self.process else ''}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def s3_env(endpoint: str) -> dict[str, str]:
    """The standard AWS variables a test run points at the server (no config files, no instance metadata)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def upload_folder(fs, local: Path, target: str) -> list[str]:
    """Every file under `local` to `<target>/<relative path>` (target: bucket/prefix), one object
    each; an empty folder becomes a folder marker object (`<key>/`). Returns the keys written."""
    keys = []
    for folder, dirs, files in os.walk(local):
        base = Path(folder).relative_to(local).as_posix()
        prefix = f"{target}/{base}" if base != "." else target
        for name in files:
            fs.pipe_file(f"{prefix}/{name}", (Path(folder) / name).read_bytes())
            keys.append(f"{prefix}/{name}")
        if not files and not dirs and base != ".":
            fs.pipe_file(f"{prefix}/", b"")
            keys.append(f"{prefix}/")
    return keys


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}
_UNAVAILABLE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
                b"<Message>injected by the test proxy</Message></Error>")


class FaultProxy:
    """Forwards HTTP to the S3 server, except that it fails requests on purpose:
    `fail_next("503", "drop")` fails the next two matching requests (a 503 ServiceUnavailable
    answer, then a connection closed without an answer); `fail_always = "503"` fails every one.
    `only` picks the requests: "get_object" (GET of a key) or "list" (ListObjectsV2); None: all."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.faults: deque[str] = deque()
        self.fail_always: str | None = None
        self.only: str | None = None
        self.injected: list[tuple[str, str, str]] = []  # (fault, method, path)
        self.forwarded = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._fault_for(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "503":
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(_UNAVAILABLE)))
                    self.end_headers()
                    self.wfile.write(_UNAVAILABLE)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    with proxy._lock:  # counted before the client has its answer: a test reading the count then sees this request
                        proxy.forwarded += 1
                    self.send_response(response.status, response.reason)
                    for k, v in response.getheaders():
                        if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, *kinds: str) -> None:
        self.faults.extend(kinds)

    def _fault_for(self, method: str, path: str) -> str | None:
        is_list = method == "GET" and "list-type=2" in path
        is_get_object = method == "GET" and not is_list and path.count("/") >= 2
        if (self.only == "list" and not is_list) or (self.only == "get_object" and not is_get_object):
            return None
        with self._lock:
            fault = self.fail_always or (self.faults.popleft() if self.faults else None)
            if fault:
                self.injected.append((fault, method, path))
            return fault

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
