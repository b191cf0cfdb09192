"""A small client of an MLflow tracking server's REST API (``/api/2.0/mlflow/...``), with the standard library.

gml reads a server while the controller runs, so every request has a short timeout and a failure is one
:class:`ServerUnreachable` (connection refused, timeout, an HTTP error, a reply that is not JSON) that the caller
retries later; nothing here sleeps or retries on its own. One persistent HTTP connection per client.
"""
from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from typing import Any, Iterator, List, Optional

from ...errors import GmlConfigError

API = "/api/2.0/mlflow/"
HISTORY_INTERVAL = "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"   # also served under /api/2.0
MAX_RUNS_PER_HISTORY_CALL = 100       # the server's limit of run ids in one bulk history call
MAX_VALUES_PER_RUN = 2500             # the server's largest max_results per run in that call (more: sampled)
PAGE_SIZE = 1000


class ServerUnreachable(Exception):
    """The server did not answer a request usefully; the message says why (for the user)."""


def check_tracking_uri(value: Any, where: str) -> str:
    """``value`` if it is the http(s) URL of a tracking server, else a config error naming ``where``."""
    if not isinstance(value, str) or not value.strip():
        raise GmlConfigError(where, f"must be the http(s) URL of an MLflow tracking server "
                                    f"(e.g. 'http://127.0.0.1:5000'), got {value!r}")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GmlConfigError(where, f"must be the http(s) URL of an MLflow tracking server (e.g. "
                                    f"'http://127.0.0.1:5000'); without it each job logs to an SQLite store in its "
                                    f"own directory; got {value!r}")
    try:
        parts.port
    except ValueError:
        raise GmlConfigError(where, f"has an invalid port: {value!r}") from None
    if parts.query or parts.fragment:
        raise GmlConfigError(where, f"must not have a query or fragment, got {value!r}")
    return value.rstrip("/")


class TrackingServerClient:
    """Requests to one tracking server. ``timeout``: seconds per request."""

    def __init__(self, uri: str, timeout: float = 2.0):
        parts = urllib.parse.urlsplit(uri)
        self.uri = uri
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._base = parts.path.rstrip("/")
        self._timeout = timeout
        self._connection: Optional[http.client.HTTPConnection] = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _request(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        if self._connection is None:
            make = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = make(self._host, self._port, timeout=self._timeout)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            self._connection.request(method, self._base + path, payload, headers)
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException, socket.timeout) as err:
            self.close()
            raise ServerUnreachable(f"{type(err).__name__}: {err}") from None
        if response.status != 200:
            text = data.decode("utf-8", "replace")[:300]
            raise ServerUnreachable(f"HTTP {response.status} from {path}: {text}")
        try:
            return json.loads(data)
        except ValueError:
            raise ServerUnreachable(f"a reply from {path} that is not JSON (is {self.uri} an MLflow "
                                    f"tracking server?)") from None

    def experiment_ids(self) -> List[str]:
        """Ids of the server's active experiments."""
        ids, token = [], None
        while True:
            body = {"max_results": PAGE_SIZE, "view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            reply = self._request("POST", API + "experiments/search", body)
            ids.extend(e["experiment_id"] for e in reply.get("experiments", []))
            token = reply.get("next_page_token")
            if not token:
                return ids

    def search_runs(self, experiment_ids: List[str], filter_string: str) -> Iterator[dict]:
        """Runs (as the API returns them: ``info``, ``data.metrics`` with each key's latest value, ``data.tags``)
        of the experiments that match ``filter_string``."""
        token = None
        while True:
            body = {"experiment_ids": experiment_ids, "filter": filter_string, "max_results": PAGE_SIZE,
                    "run_view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            reply = self._request("POST", API + "runs/search", body)
            yield from reply.get("runs", [])
            token = reply.get("next_page_token")
            if not token:
                return

    def history_between(self, run_ids: List[str], key: str, start_step: int, end_step: int) -> List[dict]:
        """The values of metric ``key`` of runs ``run_ids`` (at most :data:`MAX_RUNS_PER_HISTORY_CALL`) logged at
        steps ``start_step..end_step``: dicts with ``run_id``, ``step``, ``timestamp``, ``value``. The server
        returns at most :data:`MAX_VALUES_PER_RUN` values per run (evenly sampled beyond that)."""
        query = urllib.parse.urlencode({"run_ids": run_ids, "metric_key": key, "start_step": start_step,
                                        "end_step": end_step, "max_results": MAX_VALUES_PER_RUN}, doseq=True)
        return self._request("GET", f"{HISTORY_INTERVAL}?{query}").get("metrics", [])

    def full_history(self, run_id: str, key: str) -> List[dict]:
        """Every value of metric ``key`` of one run (paged)."""
        values, token = [], None
        while True:
            params = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            reply = self._request("GET", API + "metrics/get-history?" + urllib.parse.urlencode(params))
            values.extend(dict(m, run_id=run_id) for m in reply.get("metrics", []))
            token = reply.get("next_page_token")
            if not token:
                return values


def like_prefix(value: str) -> str:
    """A LIKE pattern of MLflow's search filter language matching strings that start with ``value``: the part of
    ``value`` before any quote or backslash (which the filter language cannot carry), then ``%``. ``_`` and ``%``
    in ``value`` match more than themselves: callers compare the exact value themselves."""
    cut = min([i for i in (value.find("'"), value.find("\\")) if i >= 0], default=len(value))
    return "'" + value[:cut] + "%'"
