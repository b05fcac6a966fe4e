"""What the check scripts of tests/e2e share: one `ok` or `FAIL` line per
check, a summary, the exit status, and a client of Prometheus' HTTP API.

Each script imports it from its own directory (python3 puts the script's
directory first on sys.path), so the scripts stay runnable one by one.
"""

import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Every failed check's message, in order; the scripts read it to decide
# whether to print extra context (a log tail) before finishing.
failures = []


def check(condition, message):
    """`ok   message` on stdout, or `FAIL message` on stderr and recorded;
    returns the condition so a caller can skip what depends on it. Flushed,
    because the scripts interleave their lines with child processes' output."""
    print(f"{'ok  ' if condition else 'FAIL'} {message}",
          file=sys.stdout if condition else sys.stderr, flush=True)
    if not condition:
        failures.append(message)
    return condition


def finish(what):
    """The summary line for `what` (e.g. "docker") and the exit status."""
    if failures:
        print(f"\n{len(failures)} {what} check(s) failed", file=sys.stderr)
        return 1
    print(f"{what} checks passed")
    return 0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QueryError(RuntimeError):
    """Prometheus answered, but not with `status: success`; the message is
    Prometheus' own (`errorType: error`)."""


class Prom:
    """The HTTP API of one Prometheus server: the calls the checks make."""

    def __init__(self, base, timeout=5.0):
        self.base = base.rstrip("/")
        self.timeout = timeout

    def get(self, path, params=None):
        """`data` of a `/api/v1/...` answer; QueryError unless `success`."""
        url = f"{self.base}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as r:
                answer = json.load(r)
        except urllib.error.HTTPError as e:
            # 400/422 carry Prometheus' error message in the body.
            try:
                answer = json.load(e)
            except ValueError:
                answer = {"status": "error", "error": f"HTTP {e.code}"}
        if answer.get("status") != "success":
            raise QueryError(f"{answer.get('errorType', '')}: {answer.get('error', answer)}")
        return answer["data"]

    def query(self, expr):
        """An instant query's result list."""
        return self.get("/api/v1/query", {"query": expr})["result"]

    def query_range(self, expr, seconds=60, step=5):
        """A range query's result list over the last `seconds`."""
        now = time.time()
        return self.get("/api/v1/query_range",
                        {"query": expr, "start": now - seconds, "end": now, "step": step})["result"]

    def series(self, selector, seconds=300):
        """The label sets `selector` matched over the last `seconds`."""
        now = time.time()
        return self.get("/api/v1/series",
                        {"match[]": selector, "start": now - seconds, "end": now})

    def targets(self):
        return self.get("/api/v1/targets", {"state": "active"})["activeTargets"]

    def rule_groups(self):
        return self.get("/api/v1/rules")["groups"]
