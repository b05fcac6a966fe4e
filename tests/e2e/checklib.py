"""What the check scripts of tests/e2e share: one `ok` or `FAIL` line per
check, a summary, and the exit status.

Each script imports it from its own directory (python3 puts the script's
directory first on sys.path), so the scripts stay runnable one by one.
"""

import socket
import sys

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
