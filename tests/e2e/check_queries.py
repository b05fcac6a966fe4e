#!/usr/bin/env python3
"""Proves the Grafana dashboard and the Prometheus rule files against the
metrics the exporter really emits.

Usage:
  check_queries.py --static                       # no Prometheus needed
  check_queries.py --prometheus http://HOST:PORT  # a Prometheus scraping --demo

--static checks deploy/grafana/routeros.json as a Grafana JSON model:
  * it is what deploy/grafana/make_dashboard.py writes (no hand edits that the
    generator would lose);
  * it survives a round trip through Grafana's own dashboard and panel models
    (grafana-foundation-sdk): no key that Grafana would silently ignore;
  * `__inputs` declares DS_PROMETHEUS (UI import) and a `datasource` variable
    DS_PROMETHEUS exists (file provisioning); every datasource reference in the
    file is {"type": "prometheus", "uid": "${DS_PROMETHEUS}"} (no hard-coded
    uid), bar Grafana's built-in annotation;
  * schemaVersion, unique panel ids, grid positions inside 24 columns and not
    overlapping, every panel has a title, a unit Grafana knows and targets,
    every target an expr and a unique refId;
  * every `$variable` used is defined (or a Grafana built-in), multi-value
    variables only inside `=~`/`!~` matchers;
  * every metric name is in README.md's "Metric reference" or "Exporter self
    metrics", every label in a matcher or legend is one of its labels (or job,
    instance, router, le), and every collector group of the reference has a
    panel.

--prometheus runs, against a Prometheus that scrapes the exporter in --demo
mode (tests/e2e/run.sh step d):
  * each variable's query (label_values through /api/v1/series): it must
    return values, and the values substitute the variable in what follows
    (multi-value variables as Grafana formats them: `(a|b)`; Grafana's
    $__rate_interval, $__interval and $__range as short windows, the e2e
    Prometheus scrapes every 2s);
  * EVERY panel target (nested rows included): it must not error and must
    return series, and the labels its legend uses must occur on a series;
    the annotation queries: they must not error;
  * every alerting/recording rule in deploy/prometheus/*.yml files that have
    `groups:` (none is fine): it must evaluate without error;
  * for all of them, every metric selector inside the expression (names that
    start with mikrotik_ or routeros_exporter_, with their label matchers) must
    return series on its own. An alert's comparison legitimately returns
    nothing while all is well, and `count(x == 0) or vector(0)` always
    returns something; the selectors are what a renamed metric or a wrong
    label would silently empty.
Empty answers are retried until --timeout (rates need two scrapes); errors
fail at once. Prints ok/FAIL per query with the panel title, then a summary;
exits 1 on any failure.
"""

import argparse
import copy
import dataclasses
import glob
import importlib.util
import json
import os
import re
import sys
import time

import yaml
from checklib import Prom, QueryError

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "routeros.json")
GENERATOR = os.path.join(ROOT, "deploy", "grafana", "make_dashboard.py")
README = os.path.join(ROOT, "README.md")
RULES_GLOB = os.path.join(ROOT, "deploy", "prometheus", "*.y*ml")

DS_UID = "${DS_PROMETHEUS}"
DS = {"type": "prometheus", "uid": DS_UID}
GRAFANA_BUILTIN_DS = {"type": "grafana", "uid": "-- Grafana --"}
PREFIXES = ("mikrotik_", "routeros_exporter_")
# Labels the series have in Prometheus besides the exporter's own: the
# scrape's job and instance, `router` from relabeling (histogram buckets' `le`
# comes with the _bucket names below).
SCRAPE_LABELS = {"job", "instance", "router"}
# Grafana's built-in variables and what they become against the e2e Prometheus
# (2s scrapes). __rate_interval: at least four scrapes.
BUILTINS = {
    "__rate_interval": "20s",
    "__interval": "10s",
    "__interval_ms": "10000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}
# Grafana unit ids this project may use, as Grafana spells them in
# packages/grafana-data/src/valueFormats/categories.ts. An unknown id is shown
# as a bare suffix (`rpm` is reads per minute there; fans are `rotrpm`), so
# add one here only after finding it in that file.
GRAFANA_UNITS = {
    "none", "short", "percent", "percentunit", "dB", "dBm",
    "bits", "bytes", "decbits", "decbytes", "pps", "bps", "Bps",
    "watt", "amp", "volt", "celsius", "rotrpm", "hertz",
    "ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dtdhms",
    "dateTimeAsIso", "dateTimeFromNow", "ops", "reqps", "cps",
}
REQUEST_TIMEOUT = 5
# $name, ${name}, ${name:format}, [[name]], [[name:format]]
VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")
LEGEND_RE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class Report:
    def __init__(self):
        self.ok = 0
        self.failed = []

    def check(self, condition, message, detail=""):
        if condition:
            self.ok += 1
            print(f"ok   {message}", flush=True)
        else:
            self.failed.append(message)
            print(f"FAIL {message}" + (f": {detail}" if detail else ""), file=sys.stderr)
        return condition

    def summary(self, what):
        print(f"\n{what}: {self.ok} ok, {len(self.failed)} failed", flush=True)
        for message in self.failed:
            print(f"  FAIL {message}", file=sys.stderr)
        return 1 if self.failed else 0


# ---------------------------------------------------------------- PromQL scan

def _skip_string(text, i):
    quote = text[i]
    i += 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return i


def _closing(text, i, open_char, close_char):
    """Index just past the bracket that closes the one at i (strings skipped)."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "\"'`":
            i = _skip_string(text, i)
            continue
        if c == open_char:
            depth += 1
        elif c == close_char:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def selectors(expr):
    """The vector selectors of metrics named mikrotik_*/routeros_exporter_* in
    a PromQL expression: [(name, "name{matchers}")]. Strings, comments, label
    lists of by/on/... and matchers of other metrics are skipped, so a label
    value such as job="mikrotik_connectivity" is never taken for a metric."""
    found = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
        elif c == "#":
            while i < n and expr[i] != "\n":
                i += 1
        elif c == "{":
            i = _closing(expr, i, "{", "}")
        elif c.isalpha() or c in "_:":
            j = i
            while j < n and (expr[j].isalnum() or expr[j] in "_:"):
                j += 1
            word = expr[i:j]
            k = j
            while k < n and expr[k].isspace():
                k += 1
            if word.startswith(PREFIXES):
                end = _closing(expr, k, "{", "}") if k < n and expr[k] == "{" else j
                found.append((word, word + expr[k:end] if end > j else word))
                i = end
            elif word in ("by", "without", "on", "ignoring", "group_left", "group_right") \
                    and k < n and expr[k] == "(":
                i = _closing(expr, k, "(", ")")
            else:
                i = j
        else:
            i += 1
    return found


def matcher_labels(selector):
    """Label names of the matchers in name{...}."""
    if "{" not in selector:
        return []
    body = selector[selector.index("{") + 1:-1]
    labels, i = [], 0
    while i < len(body):
        m = re.match(r"\s*(\w+)\s*(=~|!~|!=|=)\s*", body[i:])
        if not m:
            break
        labels.append(m.group(1))
        i += m.end()
        if i < len(body) and body[i] in "\"'`":
            i = _skip_string(body, i)
        while i < len(body) and body[i] in " ,":
            i += 1
    return labels


# ------------------------------------------------------------- the dashboard

def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def walk_json(node, path="$"):
    """(path, key, value) for every key of every object."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk_json(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_json(value, f"{path}[{index}]")


def variable_query(var):
    query = var.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    return query


@dataclasses.dataclass
class Query:
    where: str  # for the report: panel id, title and refId, or the rule
    expr: str
    legend: str = ""
    instant: bool = True
    # Panels must show something; an annotation or an alert is rightly empty
    # while nothing happens (its selectors are checked instead).
    must_return: bool = False


def queries(dashboard):
    """Every panel target and annotation of the dashboard, unsubstituted."""
    for panel in walk_panels(dashboard.get("panels", [])):
        for t in panel.get("targets", []):
            yield Query(f"panel {panel.get('id')} \"{panel.get('title')}\" {t.get('refId')}",
                        t.get("expr"), t.get("legendFormat", ""), bool(t.get("instant")), True)
    for a in dashboard.get("annotations", {}).get("list", []):
        if a.get("expr"):
            yield Query(f"annotation \"{a.get('name')}\"", a["expr"])


def parse_readme(path):
    """{metric: (labels, group)} from the metric reference and the self metrics."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    metrics = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*`(mikrotik_\w+)`\s*\|\s*(\w+)\s*\|([^|]*)\|[^|]*\|([^|]*)\|", line)
        if m:
            labels = set(re.findall(r"`(\w+)`", m.group(3)))
            metrics[m.group(1)] = (labels, m.group(4).strip())
    start = text.index("### Exporter self metrics")
    section = text[start:text.index("\n## ", start)]
    for m in re.finditer(r"`((?:routeros_exporter|process)_\w+)(?:\{([\w,]*)\})?`", section):
        name, labels = m.group(1), set(filter(None, (m.group(2) or "").split(",")))
        metrics[name] = (labels, "self")
        if section[m.end():].lstrip().startswith("(histogram)"):
            for suffix, extra in (("_bucket", {"le"}), ("_sum", set()), ("_count", set())):
                metrics[name + suffix] = (labels | extra, "self")
    return metrics


def load_generator():
    spec = importlib.util.spec_from_file_location("make_dashboard", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def static_checks(path, readme):
    report = Report()
    rel = os.path.relpath(path, ROOT)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        dashboard = json.loads(text)
    except json.JSONDecodeError as e:
        report.check(False, f"{rel} is valid JSON", str(e))
        return report.summary("dashboard static checks")
    report.check(True, f"{rel} is valid JSON")

    if os.path.abspath(path) == DASHBOARD:
        report.check(load_generator().render() == text,
                     f"{rel} is what make_dashboard.py writes",
                     "edit deploy/grafana/make_dashboard.py and run it")

    inputs = {i.get("name"): i for i in dashboard.get("__inputs", [])}
    ds_input = inputs.get("DS_PROMETHEUS", {})
    report.check(ds_input.get("type") == "datasource" and ds_input.get("pluginId") == "prometheus",
                 "__inputs declares DS_PROMETHEUS (datasource, prometheus)", str(inputs))
    schema = dashboard.get("schemaVersion")
    report.check(isinstance(schema, int) and schema >= 36, f"schemaVersion {schema} >= 36")
    report.check(bool(dashboard.get("uid")) and bool(dashboard.get("title")), "uid and title set")
    report.check(dashboard.get("id") is None, "id is null (Grafana assigns it)")

    variables = dashboard.get("templating", {}).get("list", [])
    names = [v.get("name") for v in variables]
    report.check(len(names) == len(set(names)), f"variable names unique: {names}")
    ds_vars = [v for v in variables if v.get("type") == "datasource"]
    report.check(len(ds_vars) == 1 and ds_vars[0].get("name") == "DS_PROMETHEUS"
                 and ds_vars[0].get("query") == "prometheus",
                 "one datasource variable DS_PROMETHEUS of type prometheus")

    # No datasource but ours anywhere (Grafana's own annotation excepted).
    bad = [f"{p}.{k}={v!r}" for p, k, v in walk_json(dashboard)
           if k == "datasource" and v != DS and v != GRAFANA_BUILTIN_DS]
    bad += [f"{p}.uid={v!r}" for p, k, v in walk_json(dashboard)
            if k == "uid" and p != "$" and v not in (DS_UID, GRAFANA_BUILTIN_DS["uid"])]
    report.check(not bad, "every datasource is ${DS_PROMETHEUS} (no hard-coded uid)",
                 "; ".join(bad[:5]))

    check_schema(report, dashboard)
    check_panels(report, dashboard)
    check_variables_used(report, dashboard, variables)
    check_metrics(report, dashboard, variables, parse_readme(readme))
    return report.summary("dashboard static checks")


# Keys of the file that Grafana's schema (grafana-foundation-sdk) does not
# model, and why they are right anyway.
SCHEMA_EXTRAS = [
    r"\.__(inputs|requires|elements)\b.*",  # import metadata, read by the import UI
    r"\.id",  # null: Grafana assigns the id
    # Prometheus annotation fields, read by the Prometheus datasource itself.
    r"\.annotations\.list\[\d+\]\.(step|titleFormat|textFormat|useValueForTime|tagKeys)",
    r"\.templating\.list\[\d+\]\.definition",  # the variable editor's display text
]


def json_paths(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from json_paths(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from json_paths(value, f"{path}[{index}]")
    else:
        yield path


def check_schema(report, dashboard):
    """Decodes the file with Grafana's own dashboard and panel models
    (grafana-foundation-sdk, generated from Grafana's schemas) and encodes it
    again: a misspelt key (`legendformat`, `unitt`) is silently ignored by
    Grafana, but it does not survive the round trip. (The models keep enum
    values as given, so values are not checked here.)"""
    try:
        from grafana_foundation_sdk.cog import plugins
        from grafana_foundation_sdk.cog.encoder import JSONEncoder
        from grafana_foundation_sdk.models import dashboard as model
    except ImportError as e:
        report.check(False, "Grafana schema round trip", f"{e} (pip install -r "
                     "tests/e2e/requirements.txt)")
        return
    plugins.register_default_plugins()
    try:
        decoded = model.Dashboard.from_json(copy.deepcopy(dashboard))
        encoded = json.loads(json.dumps(decoded, cls=JSONEncoder))
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        report.check(False, "Grafana schema round trip", f"{type(e).__name__}: {e}")
        return
    lost = set(json_paths(dashboard)) - set(json_paths(encoded))
    unknown = sorted(p for p in lost if not any(re.fullmatch(x, p) for x in SCHEMA_EXTRAS))
    report.check(not unknown, "every key is in Grafana's dashboard schema "
                              "(grafana-foundation-sdk round trip)", "; ".join(unknown[:8]))


def check_panels(report, dashboard):
    panels = list(walk_panels(dashboard.get("panels", [])))
    ids = [p.get("id") for p in panels]
    dupes = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    report.check(all(isinstance(i, int) for i in ids) and not dupes,
                 f"{len(ids)} panel ids unique integers", f"duplicates {dupes}")
    problems = []
    for p in panels:
        where = f"panel {p.get('id')} \"{p.get('title')}\""
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "xywh") or g["x"] < 0 or g["w"] < 1 \
                or g["h"] < 1 or g["x"] + g["w"] > 24:
            problems.append(f"{where}: gridPos {g}")
        if not p.get("title"):
            problems.append(f"{where}: no title")
        if p.get("type") == "row":
            if not p.get("collapsed") and p.get("panels"):
                problems.append(f"{where}: an open row must not nest panels")
            continue
        if p.get("datasource") != DS:
            problems.append(f"{where}: datasource {p.get('datasource')}")
        field_config = p.get("fieldConfig", {})
        units = [field_config.get("defaults", {}).get("unit")]
        units += [prop.get("value") for o in field_config.get("overrides", [])
                  for prop in o.get("properties", []) if prop.get("id") == "unit"]
        if not units[0]:
            problems.append(f"{where}: no unit")
        problems += [f"{where}: unit {u!r} is not a Grafana unit id" for u in units
                     if u and u not in GRAFANA_UNITS]
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)) or not all(refs):
            problems.append(f"{where}: refIds {refs}")
        for t in targets:
            if not isinstance(t.get("expr"), str) or not t["expr"].strip():
                problems.append(f"{where}: target {t.get('refId')} without expr")
            if t.get("datasource") != DS:
                problems.append(f"{where}: target {t.get('refId')} datasource {t.get('datasource')}")
    report.check(not problems, "every panel: title, grid position, datasource, a Grafana unit, "
                               "targets with expr and unique refId", "; ".join(problems[:8]))

    # Overlaps: among the top-level panels, and among each collapsed row's.
    groups = [[p for p in dashboard.get("panels", [])]]
    groups += [p.get("panels", []) for p in dashboard.get("panels", []) if p.get("type") == "row"]
    overlaps = []
    for group in groups:
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                ga, gb = a.get("gridPos", {}), b.get("gridPos", {})
                try:
                    if ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"] \
                            and ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"]:
                        overlaps.append(f"{a.get('title')!r} / {b.get('title')!r}")
                except KeyError:
                    pass  # reported above
    report.check(not overlaps, "no panels overlap", "; ".join(overlaps[:5]))


def check_variables_used(report, dashboard, variables):
    defined = {v.get("name") for v in variables} | set(BUILTINS)
    multi = {v.get("name") for v in variables if v.get("multi") or v.get("includeAll")}
    texts = [(q.where, q.expr) for q in queries(dashboard)]
    texts += [(f"variable {v.get('name')}", variable_query(v) or "")
              for v in variables if v.get("type") == "query"]
    undefined, misused = [], []
    for where, expr in texts:
        for m in VAR_RE.finditer(expr or ""):
            name = next(g for g in m.groups() if g)
            if name not in defined:
                undefined.append(f"{where}: ${name}")
            if name in multi:
                # A regex of several values only works in a regex matcher.
                before = expr[:m.start()].rstrip()
                if not re.search(r'(=~|!~)\s*"$', before):
                    misused.append(f"{where}: ${name}")
    report.check(not undefined, "every variable used is defined", "; ".join(undefined[:5]))
    report.check(not misused, "multi-value variables only in =~ / !~ matchers",
                 "; ".join(misused[:5]))
    for v in variables:
        if v.get("type") == "query":
            report.check(v.get("datasource") == DS and v.get("definition") == variable_query(v),
                         f"variable {v.get('name')}: datasource and definition")


def check_metrics(report, dashboard, variables, reference):
    texts = [(q.where, q.expr, q.legend) for q in queries(dashboard)]
    texts += [(f"variable {v.get('name')}", variable_query(v) or "", None)
              for v in variables if v.get("type") == "query"]
    unknown, bad_labels, bad_legends = [], [], []
    used_groups = set()
    for where, expr, legend in texts:
        # `process_*` are the exporter's process metrics: names checked too.
        found = selectors(expr) + [(n, n) for n in re.findall(r"\b(process_\w+)", expr)]
        allowed = set(SCRAPE_LABELS)
        for name, selector in found:
            if name not in reference:
                unknown.append(f"{where}: {name}")
                continue
            labels, group = reference[name]
            used_groups.add(group)
            allowed |= labels
            wrong = [l for l in matcher_labels(selector) if l not in labels | SCRAPE_LABELS]
            if wrong:
                bad_labels.append(f"{where}: {selector} ({', '.join(wrong)})")
        for label in LEGEND_RE.findall(legend or ""):
            if label not in allowed:
                bad_legends.append(f"{where}: {{{{{label}}}}}")
    report.check(not unknown, "every metric is in README's metric reference or self metrics",
                 "; ".join(unknown[:8]))
    report.check(not bad_labels, "every matcher's label is one of its metric's labels",
                 "; ".join(bad_labels[:8]))
    report.check(not bad_legends, "every legend label is one of its metrics' labels",
                 "; ".join(bad_legends[:8]))
    groups = {g for _, g in reference.values()} - {"self"}
    groups = {g for g in groups if not g.startswith("probe")}
    missing = sorted(groups - used_groups)
    report.check(not missing, f"every collector group of the metric reference has a panel "
                              f"({len(groups)} groups)", f"no panel for {missing}")


# ---------------------------------------------------------- live Prometheus

def regex_escape(value):
    """Grafana's escaping of a value substituted into a regex matcher: regex
    metacharacters get a backslash, itself escaped inside the PromQL string."""
    return re.sub(r"([\\^$*+?.()|\[\]{}])", r"\\\\\1", value)


def grafana_value(var, values):
    """What Grafana substitutes for the variable given the values its query
    returned: every value for a multi-value variable (never `.*`, which would
    also hide a misspelt label), the saved current value otherwise."""
    if var.get("multi") or var.get("includeAll"):
        escaped = [regex_escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    current = var.get("current", {}).get("value")
    return current if current in values else None


def substitute(expr, values):
    def one(m):
        name = next(g for g in m.groups() if g)
        if name not in values:
            raise KeyError(name)
        return values[name]
    return VAR_RE.sub(one, expr)


def label_values(prom, query):
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query, re.S) \
        or re.fullmatch(r"\s*label_values\(\s*()(\w+)\s*\)\s*", query)
    if not m:
        raise QueryError(f"unsupported variable query {query!r} (label_values only)")
    selector, label = m.group(1).strip(), m.group(2)
    series = prom.series(selector or f'{{{label}=~".+"}}')
    return sorted({s[label] for s in series if label in s})


def resolve_variables(prom, report, dashboard, timeout):
    """{name: substituted value} for the built-ins and every query variable,
    in dashboard order (a variable's query may use the ones before it)."""
    values = dict(BUILTINS)
    deadline = time.monotonic() + timeout
    for var in dashboard.get("templating", {}).get("list", []):
        name = var.get("name")
        if var.get("type") == "datasource":
            continue
        if var.get("type") != "query":
            report.check(False, f"variable {name}: type {var.get('type')} is not checked")
            continue
        query = variable_query(var)
        try:
            # Series appear with the first scrape of their job: wait for it.
            while not (found := label_values(prom, substitute(query, values))) \
                    and time.monotonic() < deadline:
                time.sleep(1)
        except (QueryError, KeyError, OSError) as e:
            report.check(False, f"variable {name}: {query}", str(e))
            continue
        value = grafana_value(var, found) if found else None
        if report.check(value is not None, f"variable {name}: {query} -> {found}",
                        f"no values, or the saved value {var.get('current', {}).get('value')!r} "
                        f"is not among them"):
            values[name] = value
    return values


def run_query(prom, expr, instant):
    result = prom.query(expr) if instant else prom.query_range(expr)
    return [r.get("metric", {}) for r in result]


def evaluate_all(prom, plan, timeout):
    """Runs every Query of plan. Returns [(ok, detail, series labels)]; empty
    answers of queries that must return series are retried until the
    timeout (rates need two scrapes), errors are final."""
    results = [None] * len(plan)
    pending = list(range(len(plan)))
    deadline = time.monotonic() + timeout
    while True:
        still = []
        for i in pending:
            q = plan[i]
            try:
                labels = run_query(prom, q.expr, q.instant)
            except QueryError as e:
                results[i] = (False, f"error {e}", [])
                continue
            except OSError as e:
                results[i] = (False, f"{type(e).__name__}: {e}", [])
                still.append(i)
                continue
            if labels:
                results[i] = (True, f"{len(labels)} series", labels)
            elif q.must_return:
                results[i] = (False, "no series", [])
                still.append(i)
            else:
                results[i] = (True, "evaluates (empty: nothing to show now)", [])
        pending = still
        if not pending or time.monotonic() >= deadline:
            return results
        time.sleep(2)


def live_checks(args):
    report = Report()
    prom = Prom(args.prometheus, timeout=REQUEST_TIMEOUT)
    with open(args.dashboard, encoding="utf-8") as f:
        dashboard = json.load(f)
    BUILTINS["__rate_interval"] = args.rate_interval
    values = resolve_variables(prom, report, dashboard, args.timeout)

    checks = []
    for q in queries(dashboard):
        try:
            checks.append(dataclasses.replace(q, expr=substitute(q.expr, values)))
        except KeyError as e:
            report.check(False, f"{q.where}: variable ${e.args[0]} has no value")

    rule_files = load_rule_files(report, args.rules)
    recorded = {rule["record"] for _, groups in rule_files for group in groups
                for rule in group.get("rules", []) if rule.get("record")}
    for path, groups in rule_files:
        for group in groups:
            for rule in group.get("rules", []):
                kind = "alert" if "alert" in rule else "record"
                where = f"{os.path.relpath(path, ROOT)} {group.get('name')}/{kind} " \
                        f"{rule.get(kind)}"
                checks.append(Query(where, str(rule.get("expr", ""))))

    # Every selector of every expression, once.
    selector_checks = {}
    for q in checks:
        for name, selector in selectors(q.expr):
            if name not in recorded:  # a rule's output is not the exporter's
                selector_checks.setdefault(selector, q.where)
    plan = checks + [Query(f"selector {s} (from {where})", f"count({s})", must_return=True)
                     for s, where in selector_checks.items()]
    results = evaluate_all(prom, plan, args.timeout)

    for q, (ok, detail, labels) in zip(plan, results):
        if q.where.startswith("selector "):
            report.check(ok, q.where, detail)
            continue
        report.check(ok, f"{q.where}: {q.expr}", detail)
        wanted = LEGEND_RE.findall(q.legend or "")
        if ok and labels and wanted:
            missing = [l for l in wanted if not any(l in s for s in labels)]
            report.check(not missing, f"{q.where}: legend {q.legend!r}",
                         f"no series carries {missing}")
    return report.summary("queries against Prometheus")


def load_rule_files(report, pattern):
    """[(path, groups)] of the files matching pattern that have `groups:`.
    Other YAML there (promtool unit tests, scrape configs) is skipped; a file
    that does not parse fails rather than silently dropping its rules."""
    found = []
    for path in sorted(glob.glob(pattern)):
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except yaml.YAMLError as e:
            report.check(False, f"{os.path.relpath(path, ROOT)} parses as YAML", str(e))
            continue
        if isinstance(doc, dict) and "groups" in doc:
            groups = doc["groups"] or []
            if report.check(isinstance(groups, list) and all(isinstance(g, dict) for g in groups),
                            f"{os.path.relpath(path, ROOT)}: rule groups"):
                found.append((path, groups))
    print(f"rule files: {[os.path.relpath(p, ROOT) for p, _ in found] or 'none'}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--static", action="store_true", help="check the dashboard file only")
    mode.add_argument("--prometheus", help="base URL of a Prometheus scraping the demo")
    parser.add_argument("--dashboard", default=DASHBOARD)
    parser.add_argument("--readme", default=README)
    parser.add_argument("--rules", default=RULES_GLOB, help="glob of rule files (default "
                        "deploy/prometheus/*.yml; files without `groups:` are skipped)")
    parser.add_argument("--timeout", type=float, default=30,
                        help="seconds to wait for queries that return no series yet")
    parser.add_argument("--rate-interval", default=BUILTINS["__rate_interval"],
                        help="what $__rate_interval becomes")
    args = parser.parse_args()
    if args.static:
        return static_checks(args.dashboard, args.readme)
    return live_checks(args)


if __name__ == "__main__":
    sys.exit(main())
