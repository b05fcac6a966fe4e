#!/usr/bin/env python3
"""Asserts, through a real Prometheus' HTTP API, that it scrapes the
routeros-exporter demo targets without errors and stores what we expect;
job mikrotik finds them through the exporter's /sd (http_sd_configs).

With --rules it also checks the alert rules Prometheus loaded from that file
(deploy/prometheus/alerts.yml): every group and rule of the file is loaded,
every group has been evaluated at least twice without a failure, every rule's
health is ok, every metric a rule names exists in Prometheus (a renamed metric
cannot leave a rule that silently never fires), and the alerts active on the
demo are exactly those docs/alerting.md says the demo routers trigger.

Every wait is bounded; on failure the last answer is printed and the exit
status is 1.
"""

import argparse
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml
from prometheus_client.parser import text_string_to_metric_families

import checklib

REQUEST_TIMEOUT = 5  # seconds

# Alerts active (pending or firing) on the demo routers in their normal
# state, as (alert, router, identity): what the simulated boards deliberately
# have down or broken (docs/alerting.md, "On the demo"). The identity is the
# value of the label in DEMO_IDENTITY, so a rule that fires for the wrong
# thing (every netwatch host that is up) is caught too.
DEMO_IDENTITY = {
    "MikrotikPowerSupplyFailed": "sensor",
    "MikrotikCertificateExpired": "name",
    "MikrotikCertificateExpiringSoon": "name",
    "MikrotikBGPSessionDown": "name",
    "MikrotikOSPFNeighborNotFull": "router_id",
    "MikrotikNetwatchHostDown": "host",
    "MikrotikIPsecPolicyNotEstablished": "peer",
}
DEMO_ALERTS = {("MikrotikPowerSupplyFailed", "demo", "psu2-state")} | {
    (alert, router, identity)
    for router in ("demo", "demo-v6")
    for alert, identity in [
        ("MikrotikCertificateExpired", "old-vpn-server"),
        ("MikrotikBGPSessionDown", "peer3"),
        ("MikrotikOSPFNeighborNotFull", "10.255.0.3"),
        ("MikrotikNetwatchHostDown", "192.0.2.2"),
        ("MikrotikIPsecPolicyNotEstablished", "site-2"),
    ]
}
# Active or not depending on the date: the demo CA `local-ca` expires on a
# fixed date, 2027-01-02 12:00: within 30 days of it from 2026-12-03, expired
# after it.
DEMO_ALERTS_BY_DATE = {
    (alert, router, "local-ca")
    for router in ("demo", "demo-v6")
    for alert in ("MikrotikCertificateExpiringSoon", "MikrotikCertificateExpired")
}
# Metric names in a rule expression (the exporter's, and `up`).
METRIC_NAME = re.compile(r"\b(?:mikrotik|routeros_exporter)_[a-z0-9_]+\b")


class Prom(checklib.Prom):
    """checklib's client, plus Prometheus' own metrics."""

    def own_metrics(self):
        """Prometheus' own /metrics: {(name, frozenset(labels)): value}."""
        with urllib.request.urlopen(f"{self.base}/metrics", timeout=REQUEST_TIMEOUT) as r:
            text = r.read().decode("utf-8")
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


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
    parser.add_argument(
        "--rules", required=True, help="the alert rules file the config loads"
    )
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

    check_rules(prom, args.rules, check)

    if failed:
        print(f"\n{len(failed)} Prometheus check(s) failed:", file=sys.stderr)
        for description in failed:
            print(f"  {description}", file=sys.stderr)
        return 1
    print("Prometheus checks passed")
    return 0


def check_rules(prom, rules_path, check):
    """The alert rules of rules_path, as Prometheus loaded and evaluates them."""
    with open(rules_path, encoding="utf-8") as f:
        expected = {
            group["name"]: [rule["alert"] for rule in group["rules"]]
            for group in yaml.safe_load(f)["groups"]
        }
    rules_file = os.path.realpath(rules_path)

    def loaded():
        groups = {
            g["name"]: [r["name"] for r in g["rules"]]
            for g in prom.rule_groups()
            if os.path.realpath(g["file"]) == rules_file
        }
        return groups == expected, {"loaded": groups, "expected": expected}

    if not check(f"Prometheus loaded every rule group of {rules_path}", loaded, 10):
        return

    # Each group evaluated at least twice, never failing; each rule healthy.
    def evaluated():
        metrics = prom.own_metrics()
        bad = {}
        for name in expected:
            key = frozenset({("rule_group", f"{rules_file};{name}")})
            runs = metrics.get(("prometheus_rule_group_iterations_total", key), 0)
            failures = metrics.get(("prometheus_rule_evaluation_failures_total", key))
            if runs < 2 or failures != 0:
                bad[name] = {"iterations": runs, "failures": failures}
        for group in prom.rule_groups():
            for rule in group["rules"]:
                if rule["health"] != "ok":
                    bad[rule["name"]] = {"health": rule["health"], "error": rule.get("lastError")}
        return not bad, bad

    check("every rule group evaluated twice without failure, every rule health ok", evaluated, 20)

    # Every metric a rule names exists: an expression over a misspelt or
    # renamed metric evaluates fine and never fires.
    names = sorted(
        {
            name
            for group in prom.rule_groups()
            if os.path.realpath(group["file"]) == rules_file
            for rule in group["rules"]
            for name in METRIC_NAME.findall(rule["query"])
        }
    )

    def metrics_exist():
        selector = "|".join(names)
        result = prom.query(f'count by (__name__) ({{__name__=~"{selector}"}})')
        missing = set(names) - {r["metric"]["__name__"] for r in result}
        return bool(names) and not missing, {"missing": sorted(missing)}

    check(f"all {len(names)} metrics the rules use exist in Prometheus", metrics_exist, 10)

    # The alerts the demo triggers, and no others.
    def demo_alerts():
        active = {
            (
                rule["name"],
                alert["labels"].get("router"),
                alert["labels"].get(DEMO_IDENTITY.get(rule["name"], ""), ""),
            )
            for group in prom.rule_groups()
            for rule in group["rules"]
            for alert in rule.get("alerts", [])
            if alert["state"] in ("pending", "firing")
        }
        missing = DEMO_ALERTS - active
        unexpected = active - DEMO_ALERTS - DEMO_ALERTS_BY_DATE
        return not missing and not unexpected, {
            "missing": sorted(missing),
            "unexpected": sorted(unexpected),
        }

    check(
        f"active alerts on the demo are the {len(DEMO_ALERTS)} documented ones",
        demo_alerts,
        20,
    )


def report_targets(prom):
    try:
        for t in prom.targets():
            print(
                f"  target {t.get('scrapeUrl')}: health={t.get('health')} "
                f"lastError={t.get('lastError')!r}",
                file=sys.stderr,
            )
    except (checklib.QueryError, OSError, ValueError) as e:
        print(f"  cannot list targets: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
