"""The sandbox's HTTP layer and command line: the request handler, the server, `run_server` and `python -m sandbox`.

Public API: ``SandboxConfig``, ``run_server(config, background=False)`` and the CLI ``main()``; the application
behind it is ``sandbox.app.SandboxApp``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json as std_json
import os
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, List, Optional

from sandbox.app import SandboxApp
from sandbox.catalog import Catalog, default_count
from sandbox.config import ASSOC_PAGE_SIZE, INLINE_ASSOC_LIMIT, SandboxConfig
from sandbox.responses import RESET, Response, cid, dumps
from sandbox.shapes import OBSERVED, SHAPES

__all__ = ["SandboxApp", "SandboxConfig", "RunningSandbox", "run_server", "build_arg_parser", "config_from_args",
           "main"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox/1.0"
    sys_version = ""

    server: "SandboxHTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def version_string(self) -> str:
        return self.server_version

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self, method: str) -> None:
        body = self._read_body()
        app = self.server.app
        try:
            resp = app.dispatch(method, self.path, self.headers, body)  # type: ignore[arg-type]
        except Exception as e:  # pragma: no cover
            resp = Response(500, dumps({"status": "error", "message": repr(e), "category": "INTERNAL_ERROR"}))
        if resp is RESET:
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        assert isinstance(resp, Response)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(resp.body)))
        if resp.ctype.startswith("application/json"):
            self.send_header("X-HubSpot-Correlation-Id", cid())
        for k, v in resp.headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(resp.body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: SandboxApp

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet
        pass


class RunningSandbox:
    """A sandbox serving in a thread of this process (run_server(background=True))."""

    def __init__(self, httpd: SandboxHTTPServer, app: SandboxApp, thread: Optional[threading.Thread] = None) -> None:
        self.httpd, self.app, self.thread = httpd, app, thread
        self.port = httpd.server_address[1]
        self.url = f"http://{app.cfg.host}:{self.port}"

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run_server(config: SandboxConfig, background: bool = False) -> Optional[RunningSandbox]:
    """Build the data, bind, announce and serve.

    background=False: blocks forever (serve_forever).  background=True: serves in a daemon thread and
    returns a RunningSandbox (``.url``, ``.port``, ``.app``, ``.shutdown()``). The object types served are the
    registry's (`source_hubspot.objects`) at this call.
    """
    if config.host not in ("127.0.0.1", "localhost"):
        raise ValueError("the sandbox only binds to 127.0.0.1")
    config.host = "127.0.0.1"
    app = SandboxApp(config)
    httpd = SandboxHTTPServer((config.host, config.port), Handler)
    httpd.app = app
    port = httpd.server_address[1]
    app.base_url = f"http://{config.host}:{port}"
    if config.port_file:
        tmp = config.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(port))
        os.replace(tmp, config.port_file)
    if background:
        t = threading.Thread(target=httpd.serve_forever, name="sandbox-http", daemon=True)
        t.start()
        return RunningSandbox(httpd, app, t)
    sys.stdout.write(f"sandbox listening on http://{config.host}:{port}\n")
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return None


def build_arg_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Fake HubSpot API server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--seed", type=int, default=42)
    for t in Catalog.from_registry().names:  # records per object type
        p.add_argument(f"--{t}", type=int, default=default_count(t))
    p.add_argument("--custom-objects", type=int, default=0,
                   help="custom objects of the portal: cars, dealers, owners, then widgets_4, ... (GET /crm/v3/schemas)")
    p.add_argument("--custom-properties", type=int, default=20)
    p.add_argument("--custom-properties-types", default="all",
                   help="comma list of the object types that get --custom-properties custom properties (the others "
                        "get 20), or 'all'")
    p.add_argument("--private-app-token", default="sandbox-private-app-token")
    p.add_argument("--client-id", default="sandbox-client-id")
    p.add_argument("--client-secret", default="sandbox-client-secret")
    p.add_argument("--refresh-token", default="sandbox-refresh-token")
    p.add_argument("--token-ttl", type=float, default=1800)
    p.add_argument("--rotate-refresh-token", action="store_true")
    p.add_argument("--scopes", default="all", help="comma list of granted scopes, or 'all'")
    p.add_argument("--search-rate", type=int, default=5, help="search requests per rolling second (0 = off)")
    p.add_argument("--general-rate", type=int, default=0, help="requests per rolling 10 s (0 = off)")
    p.add_argument("--daily-limit", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--latency-spread", type=float, default=0.5,
                   help="each call waits --latency-ms times a uniform draw from 1 - spread to 1 + spread")
    p.add_argument("--timeline", action="store_true",
                   help="/_sandbox/stats lists every API call: start, duration, endpoint, status")
    p.add_argument("--search-lag-seconds", type=float, default=0)
    p.add_argument("--max-url-length", type=int, default=8000)
    p.add_argument("--same-timestamp", type=int, default=0)
    p.add_argument("--archived", type=int, default=None, help="archived records per object (default 2%%)")
    p.add_argument("--assoc-page-size", type=int, default=ASSOC_PAGE_SIZE)
    p.add_argument("--inline-assoc-limit", type=int, default=INLINE_ASSOC_LIMIT)
    p.add_argument("--owners", type=int, default=10, help="active owners (at least the 5 owner ids records use)")
    p.add_argument("--archived-owners", type=int, default=3)
    p.add_argument("--list-order", choices=("ascending", "scrambled"), default="ascending",
                   help="the order of list pages: by id (HubSpot's) or a fixed scrambled order")
    p.add_argument("--quirks", type=std_json.loads, default=None,
                   help='JSON of hostile-but-legal answers to give (sandbox/quirks.py), e.g. \'{"empty_pages": 0.2}\'')
    p.add_argument("--answer-shape", choices=SHAPES, default=OBSERVED,
                   help="answer as HubSpot really does (observed) or as its OpenAPI documents say (documented); "
                        "sandbox/shapes.py lists the differences")
    p.add_argument("--fault-rate", type=float, default=0.0, help="shorthand for faults.error_rate")
    p.add_argument("--fault-seed", type=int, default=1)
    return p


def config_from_args(argv: Optional[List[str]] = None) -> SandboxConfig:
    a = build_arg_parser().parse_args(argv)
    fields = {f.name for f in dataclasses.fields(SandboxConfig)}
    kw = {name: getattr(a, name) for name in fields
          if name not in ("scopes", "faults", "portal_id", "counts", "custom_properties_types") and hasattr(a, name)}
    cfg = SandboxConfig(**kw)
    counts = {t: getattr(a, t) for t in Catalog.from_registry().names if t not in fields}
    cfg.counts = counts or None
    cfg.scopes = None if a.scopes.strip().lower() == "all" else [s.strip() for s in a.scopes.split(",") if s.strip()]
    wide = a.custom_properties_types.strip().lower()
    cfg.custom_properties_types = None if wide == "all" else [t.strip() for t in wide.split(",") if t.strip()]
    if a.fault_rate:
        cfg.faults = {"error_rate": a.fault_rate, "seed": a.fault_seed}
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    run_server(config_from_args(argv))


if __name__ == "__main__":
    main()
