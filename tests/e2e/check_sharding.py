#!/usr/bin/env python3
"""Sharded replicas: deploy/prometheus/sharded.yml through Prometheus' own code.

Usage: check_sharding.py --exporter BINARY [--promtool promtool] [--routers 1000]

Starts a routeros-exporter (config file mode, 127.0.0.1 only) with a generated
config of ROUTERS routers. Their addresses are ports on 127.0.0.1 where nothing
listens: nothing here probes them, and the exporter connects to no router at
startup (only with STARTUP_CONNECTIVITY_TEST, which is removed from its
environment). Then:

1. GET /sd: `application/json`, one entry per router sorted by name, with its
   labels and, for a router naming a module, `__param_module`; no address.
2. The shipped sharded.yml is read as it is: N probe jobs, each with one
   http_sd_configs URL (the /sd of the replica it scrapes), one hashmod rule
   with the same modulus N and one keep rule, the shards 0..N-1 each once.
   For each shard a Prometheus config is derived holding that job only
   (layout B of the file: one Prometheus server per shard) with only the /sd
   URL rewritten to this exporter; `promtool check config` must pass.
3. `promtool check service-discovery CONFIG mikrotik_shard_<i>` on every shard
   config (Prometheus' own discovery and relabelling) must show: every router
   on exactly one shard; all of a shard's routers sent to its own replica
   (`__address__`), the replicas distinct; each shard within ±20% of
   ROUTERS/N; job="mikrotik", router = instance = `__param_target` = the
   name, the router's module hint kept as `__param_module`, no label but
   those (the router's labels stay on the exporter's series).
4. Stability: a second run assigns every router to the same shard, and that
   shard is MD5(name) mod N computed here, the hash every Prometheus server
   computes, so N servers (or restarts) agree on who owns a router.
5. prometheus.example.yml's job `mikrotik` (its /sd URL rewritten the same
   way) keeps every router, sends it to the exporter, keeps its module hint
   and ends with the same labels.

Prints an `ok` or `FAIL` line per check; exits 1 if any failed.
"""

import argparse
import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml
from checklib import check, failures, finish, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARDED = "deploy/prometheus/sharded.yml"
EXAMPLE = "prometheus.example.yml"
EXAMPLE_JOB = "mikrotik"
PASSWORD = "e2e-sharding-not-a-secret"
# promtool check service-discovery always waits this long for discovery
# updates before it prints what it got; /sd answers in milliseconds.
SD_TIMEOUT = "3s"
# Bound on one promtool run (its own timeout plus start-up).
PROMTOOL_LIMIT = 60
# Labels a probe target may end up with besides the `__` ones.
TARGET_LABELS = {"job", "instance", "router"}
# The configured module of every 11th router, besides the built-in
# `connectivity` of every 7th: both kinds of hint must pass.
CONFIGURED_MODULE = "light"


def routers(count):
    """name -> (labels, module or None), as written into the exporter config."""
    out = {}
    for i in range(count):
        module = "connectivity" if i % 7 == 0 else CONFIGURED_MODULE if i % 11 == 0 else None
        out[f"r{i:04d}"] = ({"site": f"s{i % 10}"}, module)
    return out


def write_exporter_config(path, fleet, dead_port):
    lines = [
        "auths:",
        "  fleet:",
        "    username: prometheus",
        f"    password: {PASSWORD}",
        "targets:",
    ]
    for name, (labels, module) in fleet.items():
        lines += [f"  {name}:", f"    address: 127.0.0.1:{dead_port}", "    auth: fleet"]
        lines.append("    labels: {" + ", ".join(f"{k}: {v}" for k, v in labels.items()) + "}")
        if module:
            lines.append(f"    module: {module}")
    lines += ["modules:", f"  {CONFIGURED_MODULE}:", "    groups: [system, interface]"]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def start_exporter(binary, config, addr, log):
    env = {k: v for k, v in os.environ.items() if k not in ("STARTUP_CONNECTIVITY_TEST", "STRICT_STARTUP_MODE")}
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", "--web.listen-address", addr, "--log.format", "json"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    started = time.monotonic()
    deadline = started + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"FAIL the exporter exited with {proc.returncode} (log: {log.name})")
        try:
            with urllib.request.urlopen(f"http://{addr}/-/ready", timeout=2) as r:
                if r.status == 200:
                    print(f"ok   exporter with {config} ready in {time.monotonic() - started:.1f}s")
                    return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"FAIL the exporter was not ready within 30s (log: {log.name})")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def check_sd(addr, fleet):
    with urllib.request.urlopen(f"http://{addr}/sd", timeout=10) as r:
        content_type = r.headers.get("Content-Type")
        body = r.read().decode("utf-8")
    check(content_type == "application/json", f"/sd Content-Type {content_type!r}")
    groups = json.loads(body)
    expected = []
    for name in sorted(fleet):
        labels, module = fleet[name]
        labels = dict(labels)
        if module:
            labels["__param_module"] = module
        expected.append({"targets": [name], "labels": labels})
    check(groups == expected, f"/sd lists the {len(fleet)} routers, sorted, with their labels and module hints")
    check("127.0.0.1" not in body and PASSWORD not in body, "/sd holds no address and no password")


def probe_jobs(config):
    return [job for job in config["scrape_configs"] if job.get("metrics_path") == "/probe"]


def rule(job, action):
    rules = [r for r in job.get("relabel_configs", []) if r.get("action", "replace") == action]
    if len(rules) != 1:
        raise ValueError(f"job {job['job_name']}: {len(rules)} {action} rules, expected 1")
    return rules[0]


def replica_of(job):
    rewrites = [r for r in job["relabel_configs"] if r.get("target_label") == "__address__"]
    if len(rewrites) != 1:
        raise ValueError(f"job {job['job_name']}: {len(rewrites)} __address__ rules, expected 1")
    return rewrites[0]["replacement"]


def shard_layout(sharded):
    """shard -> job name, and N, from the shipped file; ValueError if it is not
    one consistent hashmod split."""
    jobs = probe_jobs(sharded)
    moduli, shards = set(), {}
    for job in jobs:
        hashmod = rule(job, "hashmod")
        keep = rule(job, "keep")
        if hashmod.get("source_labels") != ["__address__"] or keep.get("source_labels") != [hashmod["target_label"]]:
            raise ValueError(f"job {job['job_name']}: keep must test the hashmod of __address__")
        moduli.add(hashmod["modulus"])
        shard = int(keep["regex"])
        if shard in shards:
            raise ValueError(f"shard {shard} kept by {shards[shard]} and {job['job_name']}")
        shards[shard] = job["job_name"]
        [sd] = job["http_sd_configs"]
        if sd["url"] != f"http://{replica_of(job)}/sd":
            raise ValueError(f"job {job['job_name']} discovers from {sd['url']}, not its replica {replica_of(job)}")
    if len(moduli) != 1:
        raise ValueError(f"the jobs disagree on the modulus: {sorted(moduli)}")
    [n] = moduli
    if sorted(shards) != list(range(n)):
        raise ValueError(f"modulus {n} but shards {sorted(shards)} are kept")
    return shards, n


def one_job_config(source, job_name, sd_url, path):
    """`source` with only `job_name` (layout B), its /sd URL set to sd_url."""
    config = copy.deepcopy(source)
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == job_name]
    [sd] = job["http_sd_configs"]
    sd["url"] = sd_url
    config["scrape_configs"] = [job]
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# Derived from {job_name} by tests/e2e/check_sharding.py.\n")
        yaml.safe_dump(config, f, sort_keys=False)


def run_promtool(promtool, runs):
    """Runs `promtool check service-discovery` for each (config, job) at once;
    returns the parsed answers in order."""
    procs = [
        subprocess.Popen(
            [promtool, "check", "service-discovery", f"--timeout={SD_TIMEOUT}", config, job],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for config, job in runs
    ]
    answers = []
    for (config, job), proc in zip(runs, procs):
        try:
            out, err = proc.communicate(timeout=PROMTOOL_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            sys.exit(f"FAIL promtool check service-discovery {config} {job}: no answer in {PROMTOOL_LIMIT}s")
        if proc.returncode != 0:
            sys.exit(f"FAIL promtool check service-discovery {config} {job} exited {proc.returncode}: {err.strip()}")
        if err.strip():
            # e.g. `Unable to refresh target groups`: /sd refused by Prometheus.
            check(False, f"promtool {job}: {err.strip()}")
        answers.append(json.loads(out))
    return answers


def kept_targets(answer, job, fleet):
    """name -> final labels of the kept targets; every router discovered once."""
    discovered = [entry["discoveredLabels"]["__address__"] for entry in answer]
    check(sorted(discovered) == sorted(fleet),
          f"{job}: promtool discovered all {len(fleet)} routers once (got {len(discovered)})")
    errors = [entry.get("error") for entry in answer if entry.get("error")]
    check(not errors, f"{job}: no relabelling errors {errors[:3]}")
    return {
        entry["discoveredLabels"]["__address__"]: entry["labels"]
        for entry in answer if entry.get("labels")
    }


def target_problems(name, labels, fleet, replica, job_label):
    """What is wrong with a kept target's final labels ([] when nothing)."""
    problems = []
    _, module = fleet[name]
    expected = {
        "__address__": replica, "__param_target": name, "__metrics_path__": "/probe",
        "job": job_label, "instance": name, "router": name,
    }
    for key, value in expected.items():
        if labels.get(key) != value:
            problems.append(f"{key}={labels.get(key)!r}")
    if labels.get("__param_module") != module:
        problems.append(f"__param_module={labels.get('__param_module')!r}, configured {module!r}")
    extra = {k for k in labels if not k.startswith("__")} - TARGET_LABELS
    if extra:
        problems.append(f"extra labels {sorted(extra)}")
    return problems


def md5_shard(name, n):
    """Prometheus' hashmod: the last 8 bytes of MD5, big-endian, modulo n."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[8:], "big") % n


def check_shards(promtool, sharded, sd_url, fleet, work):
    try:
        shards, n = shard_layout(sharded)
    except (KeyError, TypeError, ValueError) as e:
        check(False, f"{SHARDED} is one hashmod split: {e}")
        return
    check(True, f"{SHARDED}: {n} shards, modulus {n}, each shard kept by one job")
    replicas = {i: replica_of(next(j for j in probe_jobs(sharded) if j["job_name"] == job))
                for i, job in shards.items()}
    check(len(set(replicas.values())) == n, f"each shard has its own replica {sorted(replicas.values())}")
    runs = []
    for i, job in sorted(shards.items()):
        path = os.path.join(work, f"shard-{i}.yml")
        one_job_config(sharded, job, sd_url, path)
        out = subprocess.run([promtool, "check", "config", path], capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"promtool check config {os.path.basename(path)} ({job} only, layout B)")
        runs.append((path, job))

    order = sorted(shards.items())
    # The example's job runs alongside the first round (each run waits
    # SD_TIMEOUT whatever it finds).
    example_path, example_replica = example_config(sd_url, work)
    *first, example_answer = run_promtool(promtool, runs + [(example_path, EXAMPLE_JOB)])
    owner, problems = {}, {}
    for (i, job), answer in zip(order, first):
        for name, labels in kept_targets(answer, job, fleet).items():
            owner.setdefault(name, []).append(i)
            found = target_problems(name, labels, fleet, replicas[i], "mikrotik")
            if found:
                problems[name] = found
    # The same question again, from new promtool processes.
    again = {}
    for (i, _), answer in zip(order, run_promtool(promtool, runs)):
        for entry in answer:
            if entry.get("labels"):
                again.setdefault(entry["discoveredLabels"]["__address__"], []).append(i)
    check(sorted(owner) == sorted(fleet) and all(len(s) == 1 for s in owner.values()),
          f"every router on exactly one shard ({sum(len(s) > 1 for s in owner.values())} on several, "
          f"{len(set(fleet) - set(owner))} on none)")
    bad = dict(list(problems.items())[:3])
    check(not problems, f"kept targets: job=mikrotik, router=instance=target, own replica, module hint, "
                        f"no other labels ({len(problems)} wrong: {bad})")
    ideal = len(fleet) / n
    sizes = {i: sum(1 for s in owner.values() if s == [i]) for i in range(n)}
    check(all(abs(size - ideal) <= 0.2 * ideal for size in sizes.values()),
          f"balanced within ±20% of {ideal:.0f}: {sizes}")
    check(again == owner, "a second run puts every router on the same shard")
    by_md5 = {name: [md5_shard(name, n)] for name in fleet}
    check(owner == by_md5, "each router's shard is MD5(name) mod N, as on every Prometheus server")
    check_example(example_answer, example_replica, fleet)


def example_config(sd_url, work):
    """prometheus.example.yml's job mikrotik alone, its /sd URL set to sd_url;
    returns the file and the exporter address its targets are sent to."""
    with open(os.path.join(ROOT, EXAMPLE), encoding="utf-8") as f:
        example = yaml.safe_load(f)
    [job] = [j for j in example["scrape_configs"] if j["job_name"] == EXAMPLE_JOB]
    path = os.path.join(work, "example-sd.yml")
    one_job_config(example, EXAMPLE_JOB, sd_url, path)
    return path, replica_of(job)


def check_example(answer, replica, fleet):
    kept = kept_targets(answer, f"{EXAMPLE} {EXAMPLE_JOB}", fleet)
    check(sorted(kept) == sorted(fleet), f"{EXAMPLE} {EXAMPLE_JOB}: every router kept")
    problems = {name: p for name, labels in kept.items()
                if (p := target_problems(name, labels, fleet, replica, EXAMPLE_JOB))}
    check(not problems, f"{EXAMPLE} {EXAMPLE_JOB}: probes through {replica}, module hints kept, "
                        f"router labels left to the exporter ({len(problems)} wrong: {dict(list(problems.items())[:3])})")
    discovered = {e["discoveredLabels"]["__address__"]: e["discoveredLabels"] for e in answer}
    check(all(discovered[name].get("site") == labels["site"] for name, (labels, _) in fleet.items()),
          f"{EXAMPLE} {EXAMPLE_JOB}: the routers' labels reach relabelling (discoveredLabels)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--promtool", default="promtool")
    parser.add_argument("--routers", type=int, default=1000)
    args = parser.parse_args()
    with open(os.path.join(ROOT, SHARDED), encoding="utf-8") as f:
        sharded = yaml.safe_load(f)
    fleet = routers(args.routers)
    with tempfile.TemporaryDirectory(prefix="routeros-sharding.") as work:
        config = os.path.join(work, "fleet.yml")
        write_exporter_config(config, fleet, free_port())
        addr = f"127.0.0.1:{free_port()}"
        with open(os.path.join(work, "exporter.log"), "w", encoding="utf-8") as log:
            proc = start_exporter(args.exporter, config, addr, log)
            try:
                check_sd(addr, fleet)
                check_shards(args.promtool, sharded, f"http://{addr}/sd", fleet, work)
            finally:
                stop(proc)
        if failures:
            with open(log.name, encoding="utf-8") as f:
                print("--- last lines of the exporter log", *f.readlines()[-20:], sep="\n", file=sys.stderr)
    return finish("sharding")


if __name__ == "__main__":
    sys.exit(main())
