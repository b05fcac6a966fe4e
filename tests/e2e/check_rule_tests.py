#!/usr/bin/env python3
"""Checks that the alert rules' unit tests cover every alert both ways.

Usage: check_rule_tests.py ALERTS_YML ALERTS_TEST_YML

promtool test rules only runs the cases that exist; it does not notice an
alert without a test. This fails when:
* an alert in ALERTS_YML has no alert_rule_test entry that expects it to fire
  (a non-empty `exp_alerts`), or none that expects it not to (`exp_alerts: []`
  written out: a missing key would also mean "no alerts", but by accident);
* a test names an alert that ALERTS_YML does not define (a renamed alert
  would otherwise leave a test that passes vacuously);
* ALERTS_TEST_YML does not load ALERTS_YML through its rule_files;
* an alert name is defined twice, or a rule lacks the conventions of
  docs/alerting.md: a `severity` label of critical, warning or info, `summary`
  and `description` annotations, and a comment directly above it.
Prints one ok/FAIL line per alert; exits 1 on any failure.
"""

import os
import sys

import yaml

SEVERITIES = {"critical", "warning", "info"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def rules_of(text):
    """(alert name, rule) for every alerting rule, in file order."""
    doc = yaml.safe_load(text)
    return [
        (rule["alert"], rule)
        for group in doc["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def commented(text, name):
    """Whether the line above `- alert: NAME` is a comment."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"- alert: {name}":
            return i > 0 and lines[i - 1].strip().startswith("#")
    return False


def convention_problems(text, name, rule):
    problems = []
    severity = rule.get("labels", {}).get("severity")
    if severity not in SEVERITIES:
        problems.append(f"severity {severity!r} not one of {sorted(SEVERITIES)}")
    for key in ("summary", "description"):
        if not rule.get("annotations", {}).get(key):
            problems.append(f"no {key} annotation")
    if not commented(text, name):
        problems.append("no comment directly above the rule")
    return problems


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    alerts_path, tests_path = sys.argv[1:3]
    alerts_text = load(alerts_path)
    tests = yaml.safe_load(load(tests_path))
    failures = []

    def fail(message):
        failures.append(message)
        print(f"FAIL {message}", file=sys.stderr)

    tests_dir = os.path.dirname(os.path.abspath(tests_path))
    loaded = {
        os.path.realpath(os.path.join(tests_dir, p)) for p in tests.get("rule_files") or []
    }
    if os.path.realpath(alerts_path) not in loaded:
        fail(f"{tests_path}: rule_files {tests.get('rule_files')} do not load {alerts_path}")

    rules = rules_of(alerts_text)
    names = [name for name, _ in rules]
    for name in sorted({n for n in names if names.count(n) > 1}):
        fail(f"alert {name} is defined {names.count(name)} times")

    firing, quiet = {}, {}
    for test in tests.get("tests") or []:
        for case in test.get("alert_rule_test") or []:
            name = case.get("alertname")
            where = f"test {test.get('name')!r} at {case.get('eval_time')}"
            if name not in names:
                fail(f"{where} names alert {name!r}, which {alerts_path} does not define")
                continue
            if case.get("exp_alerts"):
                firing.setdefault(name, []).append(where)
            elif "exp_alerts" in case and case["exp_alerts"] == []:
                quiet.setdefault(name, []).append(where)
            else:
                fail(f"{where} ({name}): write `exp_alerts: []` for a case that must not fire")

    for name, rule in rules:
        problems = convention_problems(alerts_text, name, rule)
        if name not in firing:
            problems.append("no test case where it fires")
        if name not in quiet:
            problems.append("no test case where it must not fire (exp_alerts: [])")
        if problems:
            fail(f"{name}: " + "; ".join(problems))
        else:
            print(
                f"ok   {name}: fires in {len(firing[name])} case(s), "
                f"quiet in {len(quiet[name])}"
            )

    if not rules:
        fail(f"{alerts_path} defines no alerts")
    if failures:
        print(f"{len(failures)} problem(s) in the alert rule tests", file=sys.stderr)
        return 1
    print(f"{len(rules)} alerts, each tested firing and quiet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
