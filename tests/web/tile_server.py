"""A tile server on 127.0.0.1 for ``basemap fetch`` tests: XYZ PNG tiles of a colour per
zoom, every request recorded, and the faults a real server shows when told to (tiles it
has not, refusals, "slow down" answers, pages that are not images)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.geodata.basemap_archives import png_tile

_PATH = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.png$")


@dataclass
class Behaviour:
    absent: set[tuple[int, int, int]] = field(default_factory=set)  # answered 404
    busy: dict[tuple[int, int, int], int] = field(default_factory=dict)  # 503s before a tile
    refuse: bool = False  # 403 for everything
    html: bool = False  # an error page with 200
    served: threading.Event = field(default_factory=threading.Event)
    notify_after: int = 0  # set ``served`` once this many tiles were sent


class TileServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append((self.path, dict(self.headers)))
                    sent = sum(1 for p, _ in server.requests if _PATH.match(p))
                b = server.behaviour
                m = _PATH.match(self.path)
                if not m:
                    return self._send(404, b"no such path", "text/plain")
                key = tuple(int(v) for v in m.groups())
                if b.refuse:
                    return self._send(403, b"bulk downloading is not allowed", "text/plain")
                if b.html:
                    return self._send(200, b"<html>blocked</html>", "text/html")
                if key in b.absent:
                    return self._send(404, b"", "text/plain")
                if b.busy.get(key, 0) > 0:
                    b.busy[key] -= 1
                    return self._send(503, b"busy", "text/plain", {"Retry-After": "0"})
                self._send(200, png_tile(key[0]), "image/png")
                if b.notify_after and sent >= b.notify_after:
                    b.served.set()

            def _send(self, status, body, kind, headers=None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.template = self.url + "/tiles/{z}/{x}/{y}.png"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def tile_requests(self) -> list[tuple[int, int, int]]:
        with self.lock:
            return [
                tuple(int(v) for v in m.groups()) for p, _ in self.requests if (m := _PATH.match(p))
            ]

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
