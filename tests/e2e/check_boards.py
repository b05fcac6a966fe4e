#!/usr/bin/env python3
"""`full` on every simulated board kind: valid, lint-clean, never failed.

Boards lack hardware (a CHR has no sensors, SFP, PoE, LTE or radio; a PoE
switch has no LTE; ...) and RouterOS 6 and 7 answer the same question from
different menus. For every board of `routeros-sim --board`, on RouterOS 7.16,
7.12 (the wifiwave2 era) and 6.49, this starts the simulator, points a
routeros-exporter (config file mode, 127.0.0.1 only) at the routers and runs:

* check_exposition.py: strict OpenMetrics and text parsers, content types,
  gzip, no duplicate series, and mikrotik_probe_success 1 (a group that
  failed on a board that lacks its hardware fails the probe);
* promtool check metrics on every saved body, with tests/e2e/lint-allow.txt
  (exact lines) as the only accepted lint problems.

Exit status 0 when everything holds.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BOARDS = [
    "lab", "ccr", "poe-switch", "lte-cpe", "wireless-ap", "capsman", "pppoe", "chr", "core", "edge",
]
VERSIONS = {"v7": "7.16", "v712": "7.12.1", "v6": "6.49.10"}
PASSWORD = "e2e-boards"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(sim, board):
    """One simulator process per board, one router per version."""
    proc = subprocess.Popen(
        [
            sim,
            "--board", board,
            "--listen", "127.0.0.1:0",
            "--routers", str(len(VERSIONS)),
            "--versions", ",".join(VERSIONS.values()),
            "--password", PASSWORD,
            "--uptime", "3d",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    addresses = []
    for _ in VERSIONS:
        line = proc.stdout.readline()
        match = re.search(r" api (\S+)", line)
        if not match:
            proc.kill()
            sys.exit(f"routeros-sim --board {board} printed {line!r}")
        addresses.append(match.group(1))
    return proc, dict(zip(VERSIONS, addresses))


def write_config(path, targets):
    lines = [
        "auths:",
        "  sim:",
        "    username: admin",
        f"    password: {PASSWORD}",
        "targets:",
    ]
    for name, address in targets.items():
        lines += [f"  {name}:", f"    address: {address}", "    auth: sim"]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def wait_ready(url, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not answer 200 within {limit}s")


def allowed_lines(path):
    with open(path, encoding="utf-8") as f:
        return {l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")}


def lint(promtool, bodies, allow):
    problems = []
    for body in bodies:
        with open(body, encoding="utf-8") as f:
            out = subprocess.run(
                [promtool, "check", "metrics"], stdin=f, capture_output=True, text=True
            )
        lines = (out.stdout + out.stderr).splitlines()
        left = [l for l in lines if l.strip() and l not in allow]
        if left:
            problems.append(f"{os.path.basename(body)}: " + "; ".join(left))
        elif out.returncode != 0 and not lines:
            problems.append(f"{os.path.basename(body)}: promtool exited {out.returncode}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", required=True)
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="routeros-boards.")
    procs = []
    try:
        targets = {}
        for board in BOARDS:
            proc, addresses = start_sim(args.sim, board)
            procs.append(proc)
            for version, address in addresses.items():
                targets[f"{board}-{version}"] = address
        config = os.path.join(work, "boards.yml")
        write_config(config, targets)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(work, "exporter.log"), "w", encoding="utf-8")
        exporter = subprocess.Popen(
            [args.exporter, "--config.file", config, "--web.listen-address", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(exporter)
        wait_ready(f"{base}/-/ready", 30)
        checked = subprocess.run(
            [sys.executable, os.path.join(HERE, "check_exposition.py"),
             "--base", base, "--save-dir", work, *targets]
        )
        bodies = sorted(
            os.path.join(work, f) for f in os.listdir(work) if f.endswith(".prom")
        )
        problems = lint(args.promtool, bodies, allowed_lines(os.path.join(HERE, "lint-allow.txt")))
        for problem in problems:
            print(f"FAIL promtool check metrics {problem}", file=sys.stderr)
        if len(bodies) != 2 * len(targets):
            problems.append(f"expected {2 * len(targets)} bodies, found {len(bodies)}")
            print(f"FAIL {problems[-1]}", file=sys.stderr)
        if checked.returncode != 0 or problems:
            with open(os.path.join(work, "exporter.log"), encoding="utf-8") as f:
                sys.stderr.write("--- exporter log tail\n" + "".join(f.readlines()[-30:]))
            return 1
        print(f"boards: {len(targets)} routers ({len(BOARDS)} boards x {len(VERSIONS)} versions), "
              f"{len(bodies)} bodies parsed strictly and lint-clean")
        return 0
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for name in os.listdir(work):
            os.remove(os.path.join(work, name))
        os.rmdir(work)


if __name__ == "__main__":
    sys.exit(main())
