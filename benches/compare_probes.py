#!/usr/bin/env python3
"""Compare `full` probes of two (or more) routeros-exporter builds, measured the
way Prometheus scrapes and what the router pays, in one run.

    python3 benches/compare_probes.py --sim target/release/routeros-sim \
        --exporter before=/path/to/old/routeros-exporter \
        --exporter after=target/release/routeros-exporter

Two simulated RouterOS 7 routers (each in its own `routeros-sim` process, up
for 3 days):

* default      the simulator's default board (a little of every hardware);
* access-edge   48 ports with PoE, 4 SFP cages, 200 DHCP leases, 2,000 PPP
                sessions, 100 wireless clients;
* core          the `core` board: two full BGP tables (2,000,000 routes), 50
                BGP sessions, 20 OSPF neighbours, 500 simple queues, 50
                netwatch hosts, 20 IPsec peers.

`--routers default,core` picks some of them (default: all).

Every exporter build runs at once (config file mode, 127.0.0.1 only) and is
probed in alternating rounds, so machine noise hits all builds alike. Per
probe: wall time from sending the HTTP request to the last body byte, with the
OpenMetrics `Accept` header and `Accept-Encoding: gzip` Prometheus sends; the
exporter's and the simulator's CPU time (utime+stime from /proc); the commands and
bytes the router sent (the simulator's control endpoint); series in the body
and its gzip size. Printed as a Markdown table of medians, with each build's
ratio to the first.
"""

import argparse
import gzip
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
PASSWORD = "bench"
ROUTERS = {
    "default": [],
    "access-edge": [
        "--scale-interfaces", "48", "--scale-poe-ports", "48", "--scale-sfp-ports", "4",
        "--scale-dhcp-leases", "200", "--scale-ppp-sessions", "2000",
        "--scale-wireless-clients", "100",
    ],
    "core": ["--board", "core"],
    "large": [
        "--scale-interfaces", "500", "--scale-firewall-rules", "5000",
        "--scale-conntrack", "50000", "--scale-wireguard-peers", "200",
    ],
}
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None, timeout=30):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.headers, response.read()


def start_sim(sim, flags):
    control = free_port()
    proc = subprocess.Popen(
        [sim, "--listen", "127.0.0.1:0", "--password", PASSWORD, "--uptime", "3d",
         "--control", f"127.0.0.1:{control}", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    api = re.search(r" api (\S+)", proc.stdout.readline())
    if not api:
        proc.kill()
        sys.exit("routeros-sim did not print its API address")
    proc.stdout.readline()  # the control line
    return proc, api.group(1), f"http://127.0.0.1:{control}/routers/r1/stats"


def router_totals(stats_url):
    stats = json.loads(get(stats_url)[2])
    commands = sum(n for c, n in stats["commands"].items() if c != "/login")
    return commands, stats["bytes_sent"], stats["logins_ok"]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_exporter(path, config):
    port = free_port()
    proc = subprocess.Popen(
        [path, "--config.file", config, "--web.listen-address", f"127.0.0.1:{port}",
         "--log.level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/-/ready", timeout=2)[0] == 200:
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"{path} did not become ready")


def probe(base, target):
    """One probe as Prometheus does it; returns (wall seconds, series, gzip bytes)."""
    url = f"{base}/probe?target={target}&module=full"
    headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip",
               "X-Prometheus-Scrape-Timeout-Seconds": "20"}
    start = time.perf_counter()
    status, response_headers, body = get(url, headers)
    wall = time.perf_counter() - start
    if status != 200 or response_headers.get("Content-Encoding") != "gzip":
        sys.exit(f"{url}: status {status}, headers {response_headers}")
    text = gzip.decompress(body).decode()
    if "mikrotik_probe_success 1" not in text:
        sys.exit(f"{url}: the probe failed")
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return wall, series, len(body)


def measure(builds, targets, sims, stats_urls, rounds, per_round):
    results = {(b, t): {"wall": [], "cpu": [], "sim": [], "cmd": [], "bytes": [], "series": 0,
                        "gz": 0}
               for b in builds for t in targets}
    for _ in range(rounds):
        for name, (proc, base) in builds.items():
            for target in targets:
                r = results[(name, target)]
                cpu0, sim0 = cpu_seconds(proc.pid), cpu_seconds(sims[target].pid)
                cmd0, bytes0, _ = router_totals(stats_urls[target])
                for _ in range(per_round):
                    wall, r["series"], r["gz"] = probe(base, target)
                    r["wall"].append(wall)
                cmd1, bytes1, _ = router_totals(stats_urls[target])
                r["cpu"].append((cpu_seconds(proc.pid) - cpu0) / per_round)
                r["sim"].append((cpu_seconds(sims[target].pid) - sim0) / per_round)
                r["cmd"].append((cmd1 - cmd0) / per_round)
                r["bytes"].append((bytes1 - bytes0) / per_round)
    return results


def report(builds, targets, results, rounds, per_round):
    first = next(iter(builds))
    print(f"{rounds} alternating rounds x {per_round} probes per build and router; medians.\n")
    print("| router | build | wall p50 | ratio | exporter CPU/probe | ratio | simulator CPU/probe | "
          "commands/probe | router bytes sent/probe | series | gzip body |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for target in targets:
        base = results[(first, target)]
        base_wall = statistics.median(base["wall"])
        base_cpu = statistics.median(base["cpu"])
        for name in builds:
            r = results[(name, target)]
            wall, cpu = statistics.median(r["wall"]), statistics.median(r["cpu"])
            print(f"| {target} | {name} | {wall * 1e3:.2f} ms | {wall / base_wall:.2f}x | "
                  f"{cpu * 1e3:.2f} ms | {cpu / max(base_cpu, 1e-9):.2f}x | "
                  f"{statistics.median(r['sim']) * 1e3:.2f} ms | "
                  f"{statistics.median(r['cmd']):.0f} | {statistics.median(r['bytes']):,.0f} | "
                  f"{r['series']:,} | {r['gz']:,} B |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", required=True)
    parser.add_argument("--exporter", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--routers", default=",".join(ROUTERS),
                        help="comma-separated: " + ", ".join(ROUTERS))
    args = parser.parse_args()

    procs = []
    work = tempfile.mkdtemp(prefix="compare-probes.")
    try:
        addresses, stats_urls, sims = {}, {}, {}
        chosen = {name: ROUTERS[name] for name in args.routers.split(",")}
        for target, flags in chosen.items():
            sims[target], addresses[target], stats_urls[target] = start_sim(args.sim, flags)
            procs.append(sims[target])
        config = os.path.join(work, "config.yml")
        with open(config, "w", encoding="utf-8") as out:
            out.write(f"auths:\n  sim:\n    username: admin\n    password: {PASSWORD}\ntargets:\n")
            for target, address in addresses.items():
                out.write(f"  {target}:\n    address: {address}\n    auth: sim\n")
        builds = {}
        for spec in args.exporter:
            name, _, path = spec.partition("=")
            builds[name] = start_exporter(path, config)
            procs.append(builds[name][0])
        for _, base in builds.values():  # warm-up: sessions, detection, caches
            for target in chosen:
                for _ in range(5):
                    probe(base, target)
        results = measure(builds, list(chosen), sims, stats_urls, args.rounds, args.per_round)
        report(builds, list(chosen), results, args.rounds, args.per_round)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        os.remove(os.path.join(work, "config.yml"))
        os.rmdir(work)


if __name__ == "__main__":
    main()
