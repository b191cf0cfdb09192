"""The read-only dashboard server: the standard library's ThreadingHTTPServer over one workspace.

Routes: ``/`` (tasks), ``/task/<name>`` (a task), ``/api/tasks``, ``/api/task/<name>``,
``/api/task/<name>/stamp`` (changes when the store does; polled by the pages), ``/api/task/<name>/importance``,
``/api/task/<name>/log/<id>``, ``/static/<file>``. Only GET and HEAD; nothing is written under ``.search-run/``.
An unknown task answers 404; a store that cannot be read (corrupt, locked) answers 503 with the reason, and the
server goes on serving. Task data is cached per task until its store changes (see ``task_stamp``).
"""
from __future__ import annotations

import errno
import json
import re
import socket
import sqlite3
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Tuple
from urllib.parse import unquote, urlsplit

from ..errors import GmlConfigError, GmlError
from ..search.task.workspace import TaskPaths, list_task_names
from . import pages
from .task_data import (UnknownTaskError, log_tail, task_data, task_entry, task_importance, task_stamp,
                        with_live_status)

_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_TASK_ROUTE = re.compile(r"^/(api/)?task/([^/]+)(?:/(stamp|importance|log/(\d+)))?/?$")


class StampedCache:
    """``get(key, stamp, compute)``: the value computed for ``key`` while its stamp stays the same (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: Dict[Any, Tuple[Any, Any]] = {}

    def get(self, key, stamp, compute: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = compute()
        with self._lock:
            self._values[key] = (stamp, value)
        return value


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: str, host: str, port: int):
        self.root = root
        self.cache = StampedCache()
        super().__init__((host, port), DashboardHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class DashboardHandler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-") -> None:
        """Only failed requests are logged (to stderr): the pages poll every few seconds."""
        if str(getattr(code, "value", code))[:1] in ("4", "5"):
            super().log_request(code, size)

    # -- answers -------------------------------------------------------------------------------------------------
    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, data: Any, status: int = 200) -> None:
        self._send(status, json.dumps(data, allow_nan=False), "application/json")

    def _problem(self, api: bool, status: HTTPStatus, title: str, message: str) -> None:
        if api:
            self._json({"error": message}, status)
        else:
            self._send(status, pages.error_page(title, message), "text/html; charset=utf-8")

    # -- routing -------------------------------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        api = path.startswith("/api/")
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError):     # the browser went away (page closed or reloaded)
            return
        except (UnknownTaskError, GmlConfigError) as err:     # no such task, or not a task name at all
            self._problem(api, HTTPStatus.NOT_FOUND, "404: no such task", str(err))
        except sqlite3.Error as err:
            self._problem(api, HTTPStatus.SERVICE_UNAVAILABLE, "The task's store cannot be read",
                          f"{err} ({type(err).__name__}).\nA corrupt store needs a backup or a fresh task; a locked "
                          f"one is usually released within seconds: reload then.")
        except (GmlError, OSError) as err:
            self._problem(api, HTTPStatus.INTERNAL_SERVER_ERROR, "Error", str(err))

    def _route(self, path: str) -> None:
        root = self.server.root
        if path == "/":
            return self._send(200, pages.home_page(root), "text/html; charset=utf-8")
        if path == "/api/tasks":
            cache = self.server.cache
            return self._json([with_live_status(root, cache.get(("entry", name), task_stamp(TaskPaths(root, name)),
                                                                lambda name=name: task_entry(root, name)))
                               for name in list_task_names(root)])
        if path.startswith("/static/"):
            name = path[len("/static/"):]
            if name in pages.STATIC_FILES:
                return self._send(200, pages.static_text(name), _CONTENT_TYPES[name[name.rfind("."):]])
        match = _TASK_ROUTE.match(path)
        if match is None:
            api = path.startswith("/api/")
            return self._problem(api, HTTPStatus.NOT_FOUND, "404: not found", f"nothing at {path}")
        api, name, what, job_id = match.groups()
        paths = TaskPaths(root, name)           # refuses a name that is not a task name (GmlConfigError: 404)
        if not paths.exists():
            raise UnknownTaskError(f"no task {name!r} in {root}")
        stamp = task_stamp(paths)
        if what == "stamp":
            return self._json({"stamp": ":".join(map(str, stamp))})
        if what == "importance":
            return self._json(self.server.cache.get(("importance", name), stamp, lambda: task_importance(root, name)))
        if job_id is not None:
            return self._json(log_tail(root, name, int(job_id)))
        data = with_live_status(root, self.server.cache.get(("data", name), stamp, lambda: task_data(root, name)))
        if api:
            return self._json(data)
        return self._send(200, pages.task_page(data), "text/html; charset=utf-8")


def make_server(root: str, host: str = "127.0.0.1", port: int = 8080) -> DashboardServer:
    """A bound server (``serve_forever()`` runs it). A port in use is a GmlConfigError naming ``--port``."""
    try:
        return DashboardServer(root, host, port)
    except socket.gaierror as err:
        raise GmlConfigError("--host", f"cannot resolve {host!r}: {err.strerror}") from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise GmlConfigError("--port", f"{port} is already in use on {host}; choose another port "
                                           f"(--port 0 picks a free one)") from None
        if err.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            raise GmlConfigError("--host/--port", f"cannot listen on {host}:{port}: {err.strerror}") from None
        raise
