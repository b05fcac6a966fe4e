#!/usr/bin/env python3
"""Asserts, through a real Prometheus' HTTP API, that it scrapes the
routeros-exporter demo targets without errors and stores what we expect;
job mikrotik finds them through the exporter's /sd (http_sd_configs).

Every wait is bounded; on failure the last answer is printed and the exit
status is 1.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

REQUEST_TIMEOUT = 5  # seconds


def get_json(url):
    with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
        return json.load(response)


class Prom:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def query(self, expr):
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = get_json(url)
        if answer.get("status") != "success":
            raise RuntimeError(f"query {expr!r} failed: {answer}")
        return answer["data"]["result"]

    def targets(self):
        answer = get_json(f"{self.base}/api/v1/targets?state=active")
        return answer["data"]["activeTargets"]


def wait_for(description, condition, timeout, interval=1.0):
    """Polls condition() -> (ok, detail) until ok or the timeout; returns
    (ok, last detail)."""
    deadline = time.monotonic() + timeout
    detail = None
    while True:
        try:
            ok, detail = condition()
        except (urllib.error.URLError, OSError, RuntimeError, ValueError) as e:
            ok, detail = False, f"{type(e).__name__}: {e}"
        if ok:
            print(f"ok   {description}")
            return True, detail
        if time.monotonic() >= deadline:
            print(f"FAIL {description} (waited {timeout}s): {detail}", file=sys.stderr)
            return False, detail
        time.sleep(interval)


def values(result):
    return [float(r["value"][1]) for r in result]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, help="e.g. http://127.0.0.1:19090")
    parser.add_argument("--ready-timeout", type=float, default=60)
    parser.add_argument("--rate-timeout", type=float, default=40)
    parser.add_argument("--sd-url", required=True,
                        help="the exporter's /sd, where job mikrotik discovers its targets")
    args = parser.parse_args()
    prom = Prom(args.prometheus)
    failed = []

    def check(description, condition, timeout):
        ok, _ = wait_for(description, condition, timeout)
        if not ok:
            failed.append(description)
        return ok

    def instant(expr, expected_count, predicate):
        def condition():
            result = prom.query(expr)
            ok = len(result) == expected_count and all(predicate(v) for v in values(result))
            return ok, result
        return condition

    # 1. Both probe targets are up (Prometheus could scrape and parse them).
    if not check(
        'up{job="mikrotik"} has 2 series, all 1',
        instant('up{job="mikrotik"}', 2, lambda v: v == 1),
        args.ready_timeout,
    ):
        report_targets(prom)
        return 1

    # 1b. Job mikrotik found both demo routers through the exporter's /sd
    #     (http_sd_configs), and the example's relabelling made of each the
    #     scrape of /probe?target=NAME on the exporter (no module= : the demo
    #     routers name none) labelled router, instance and job only.
    def discovered_through_sd():
        found = {}
        for t in prom.targets():
            if t.get("scrapePool") != "mikrotik":
                continue
            labels = t.get("labels", {})
            router = labels.get("router")
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(t.get("scrapeUrl", "")).query)
            problems = []
            if t.get("discoveredLabels", {}).get("__meta_url") != args.sd_url:
                problems.append(f"__meta_url {t.get('discoveredLabels', {}).get('__meta_url')!r}")
            if t.get("health") != "up":
                problems.append(f"health {t.get('health')!r}")
            if sorted(labels) != ["instance", "job", "router"] or labels.get("instance") != router:
                problems.append(f"labels {labels}")
            if query != {"target": [router]}:
                problems.append(f"scrapeUrl {t.get('scrapeUrl')!r}")
            found[router] = problems
        ok = sorted(found) == ["demo", "demo-v6"] and not any(found.values())
        return ok, found

    check(f"job mikrotik discovered demo and demo-v6 through {args.sd_url}, both up",
          discovered_through_sd, 10)

    # 2. Values, as stored by Prometheus (label `router` from relabelling).
    for expr, count, predicate, text in [
        ('mikrotik_probe_success{job="mikrotik",router="demo"}', 1, lambda v: v == 1, "== 1"),
        ('mikrotik_probe_success{job="mikrotik",router="demo-v6"}', 1, lambda v: v == 1, "== 1"),
        (
            'mikrotik_collector_supported{job="mikrotik",router="demo-v6",collector="wireguard"}',
            1,
            lambda v: v == 0,
            "== 0",
        ),
        # Prometheus sends X-Prometheus-Scrape-Timeout-Seconds: 1; the exporter
        # keeps --timeout-offset (0.5s) back and reports the probe's budget.
        ('mikrotik_probe_timeout_seconds{job="mikrotik"}', 2, lambda v: v == 0.5, "2 series == 0.5"),
        ('up{job="mikrotik_connectivity"}', 2, lambda v: v == 1, "2 series == 1"),
        ('mikrotik_probe_success{job="mikrotik_connectivity"}', 2, lambda v: v == 1, "2 series == 1"),
        ('up{job="routeros_exporter"}', 1, lambda v: v == 1, "== 1"),
    ]:
        check(f"{expr} {text}", instant(expr, count, predicate), 10)

    # 3. Counters move: needs at least two scrapes in the window.
    expr = 'rate(mikrotik_interface_rx_bytes_total{job="mikrotik",router="demo",interface="ether1"}[30s])'
    check(f"{expr} > 0", instant(expr, 1, lambda v: v > 0), args.rate_timeout)

    # 4. No target has a scrape error (every target scraped at least once).
    def targets_clean():
        targets = prom.targets()
        bad = [
            {k: t.get(k) for k in ("scrapeUrl", "health", "lastError")}
            for t in targets
            if t.get("lastError") or t.get("health") != "up"
        ]
        return len(targets) == 5 and not bad, bad or f"{len(targets)} active targets, expected 5"

    if not check("/api/v1/targets: 5 targets up, lastError empty", targets_clean, 15):
        report_targets(prom)

    # 5. Prometheus silently drops samples it cannot append (duplicate series
    #    with different values, out-of-order samples): its own counters must
    #    stay zero.
    def no_dropped_samples():
        with urllib.request.urlopen(f"{prom.base}/metrics", timeout=REQUEST_TIMEOUT) as r:
            text = r.read().decode("utf-8")
        watched = {
            "prometheus_target_scrapes_sample_duplicate_timestamp_total",
            "prometheus_target_scrapes_sample_out_of_order_total",
            "prometheus_target_scrapes_sample_out_of_bounds_total",
            "prometheus_target_scrapes_exceeded_sample_limit_total",
            "prometheus_target_scrapes_exceeded_body_size_limit_total",
            "prometheus_target_scrapes_exemplar_out_of_order_total",
        }
        found, nonzero = set(), {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in watched:
                    found.add(sample.name)
                    if sample.value != 0:
                        nonzero[sample.name] = sample.value
        missing = watched - found
        return not nonzero and not missing, {"nonzero": nonzero, "missing": sorted(missing)}

    check("Prometheus dropped no samples", no_dropped_samples, 5)

    if failed:
        print(f"\n{len(failed)} Prometheus check(s) failed:", file=sys.stderr)
        for description in failed:
            print(f"  {description}", file=sys.stderr)
        return 1
    print("Prometheus checks passed")
    return 0


def report_targets(prom):
    try:
        for t in prom.targets():
            print(
                f"  target {t.get('scrapeUrl')}: health={t.get('health')} "
                f"lastError={t.get('lastError')!r}",
                file=sys.stderr,
            )
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(f"  cannot list targets: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
