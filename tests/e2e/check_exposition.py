#!/usr/bin/env python3
"""Exposition-format checks of a running routeros-exporter.

For every target given, /probe?target=T&module=M is fetched

* in the classic text format (no Accept header): parsed with
  prometheus_client.parser.text_string_to_metric_families;
* in OpenMetrics (Prometheus' Accept header): parsed with the strict
  prometheus_client.openmetrics.parser.text_string_to_metric_families, which
  raises on anything malformed (missing # EOF, clashing names, metadata after
  samples, bad counter values, ...);
* both again with Accept-Encoding: gzip, which must come back gzip-encoded and
  decode to a body that passes the same checks.

For every body it asserts: HTTP 200, the exact Content-Type, no duplicate
(name, labels) series, each metric family exactly once and contiguous, and
mikrotik_probe_success 1. The exporter's own /metrics (OpenMetrics) is checked
the same way. With --save-dir the text bodies are written to
DIR/probe-<target>-{1,2}.prom (first and second probe) for
`promtool check metrics`.

Exit status 0 when everything holds; otherwise every failure is printed and
the status is 1.
"""

import argparse
import gzip
import math
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

OPENMETRICS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
)
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TIMEOUT = 15  # seconds per request

failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")
    print(f"FAIL {where}: {message}", file=sys.stderr)


def fetch(url, accept=None, gzip_ok=False):
    headers = {}
    if accept:
        headers["Accept"] = accept
    # urllib sends "Accept-Encoding: identity" unless told otherwise.
    headers["Accept-Encoding"] = "gzip" if gzip_ok else "identity"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def family_order_problems(text, openmetrics):
    """Families in the order their metadata or samples appear; a family whose
    lines are interrupted by another family's is reported.

    A sample belongs to the family named by the last # TYPE line whose name is
    a prefix of the sample name with one of the type's suffixes."""
    problems = []
    suffixes = {
        "counter": ["_total", "_created"] if openmetrics else [""],
        "gauge": [""],
        "untyped": [""],
        "unknown": [""],
        "info": ["_info"],
        "stateset": [""],
        "histogram": ["_bucket", "_count", "_sum", "_created"],
        "gaugehistogram": ["_bucket", "_gcount", "_gsum"],
        "summary": ["", "_count", "_sum", "_created"],
    }
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind

    def family_of(sample_name):
        for name, kind in types.items():
            for suffix in suffixes.get(kind, [""]):
                if sample_name == name + suffix:
                    return name
        # Text 0.0.4 counters may also be typed under their full name.
        return sample_name

    closed = set()
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line == "# EOF":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE", "UNIT"):
                continue
            family = parts[2]
        else:
            end = min(
                (i for i in (line.find("{"), line.find(" ")) if i >= 0),
                default=len(line),
            )
            family = family_of(line[:end])
        if family != current:
            if family in closed:
                problems.append(
                    f"line {number}: family {family} appears again after other families"
                )
            if current is not None:
                closed.add(current)
            current = family
    return problems


def check_families(where, families):
    names = [f.name for f in families]
    seen = set()
    for name in names:
        if name in seen:
            fail(where, f"family {name} appears more than once")
        seen.add(name)
    series = set()
    for family in families:
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in series:
                fail(where, f"duplicate series {sample.name}{dict(key[1])}")
            series.add(key)
    return sum(len(f.samples) for f in families)


def check_probe_success(where, families):
    values = [
        s.value
        for f in families
        for s in f.samples
        if s.name == "mikrotik_probe_success"
    ]
    if values != [1.0]:
        fail(where, f"mikrotik_probe_success is {values}, expected [1.0]")


def check_body(where, status, headers, body, openmetrics, probe, gzipped):
    if status != 200:
        fail(where, f"HTTP {status}: {body[:200]!r}")
        return None
    content_type = headers.get("Content-Type")
    expected = OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
    if content_type != expected:
        fail(where, f"Content-Type {content_type!r}, expected {expected!r}")
    encoding = headers.get("Content-Encoding")
    if gzipped:
        if encoding != "gzip":
            fail(where, f"Content-Encoding {encoding!r}, expected 'gzip'")
            return None
        try:
            body = gzip.decompress(body)
        except OSError as e:
            fail(where, f"body is not valid gzip: {e}")
            return None
    elif encoding not in (None, "identity"):
        fail(where, f"Content-Encoding {encoding!r} without Accept-Encoding: gzip")
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(where, f"body is not UTF-8: {e}")
        return None
    if openmetrics and not text.endswith("# EOF\n"):
        fail(where, "OpenMetrics body does not end with '# EOF\\n'")
    parser = parse_openmetrics if openmetrics else parse_text
    try:
        families = list(parser(text))
    except Exception as e:  # the parsers raise ValueError and friends
        fail(where, f"parser rejected the body: {type(e).__name__}: {e}")
        return text
    for problem in family_order_problems(text, openmetrics):
        fail(where, problem)
    count = check_families(where, families)
    for family in families:
        for sample in family.samples:
            if isinstance(sample.value, float) and math.isnan(sample.value) and family.type == "counter":
                fail(where, f"counter sample {sample.name} is NaN")
    if probe:
        check_probe_success(where, families)
    print(f"ok   {where}: {len(families)} families, {count} samples")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="exporter URL, e.g. http://127.0.0.1:9436")
    parser.add_argument("--module", default="full")
    parser.add_argument("--save-dir", help="write the text bodies here")
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()

    for target in args.targets:
        query = urllib.parse.urlencode({"target": target, "module": args.module})
        url = f"{args.base}/probe?{query}"
        for openmetrics in (False, True):
            for gzipped in (False, True):
                where = (
                    f"probe {target} {'openmetrics' if openmetrics else 'text'}"
                    f"{' gzip' if gzipped else ''}"
                )
                accept = OPENMETRICS_ACCEPT if openmetrics else None
                status, headers, body = fetch(url, accept=accept, gzip_ok=gzipped)
                text = check_body(where, status, headers, body, openmetrics, True, gzipped)
                # Both text bodies are saved: the second probe of a target has
                # families the first cannot have (e.g. mikrotik_target_gap_seconds).
                if args.save_dir and text is not None and not openmetrics:
                    suffix = "-2" if gzipped else "-1"
                    path = os.path.join(args.save_dir, f"probe-{target}{suffix}.prom")
                    with open(path, "w", encoding="utf-8") as out:
                        out.write(text)

    # The exporter's own metrics: always OpenMetrics.
    for gzipped in (False, True):
        where = f"/metrics openmetrics{' gzip' if gzipped else ''}"
        status, headers, body = fetch(
            f"{args.base}/metrics", accept=OPENMETRICS_ACCEPT, gzip_ok=gzipped
        )
        check_body(where, status, headers, body, True, False, gzipped)

    if failures:
        print(f"\n{len(failures)} exposition check(s) failed", file=sys.stderr)
        return 1
    print("exposition checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
