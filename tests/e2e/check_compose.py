#!/usr/bin/env python3
"""The demo stack, deploy/docker-compose.yml, as far as it can be proven
without a Docker engine.

Usage: check_compose.py [--exporter-url URL] [--promtool PROMTOOL]

* the file validates against the Compose Specification's JSON schema (the
  copy check-jsonschema vendors, PyPI);
* every host path it names exists: the build context and its Dockerfile, and
  each bind mount's source (deploy/prometheus/alerts.yml and
  deploy/grafana/routeros.json included: a missing one fails); named volumes
  are declared; images are pinned to a tag, not `latest`;
* the exporter service runs the repository's Dockerfile with --demo on the
  Dockerfile's EXPOSEd port;
* Prometheus: its config file is laid out as the container sees it (every
  bind mount of the service copied to its container path in a temporary
  directory) and `promtool check config` passes there, which also checks
  the rule files at the paths the config names; its jobs are
  prometheus.example.yml's, with the exporter at `exporter:PORT` and the
  targets the demo serves (read from --exporter-url's /config when given:
  the --demo exporter of tests/e2e/run.sh), and the example's rule files by
  name;
* Grafana: the provisioning files the service mounts parse with the keys
  Grafana expects; the datasource points at the prometheus service and is
  the default; the dashboard provider's path holds the mounted dashboard;
  the dashboard parses and every `${VAR}` datasource it uses is a
  `datasource` template variable of type prometheus (provisioning does not
  resolve `__inputs`; the variable picks the default datasource).

Prints ok/FAIL lines; exits 1 on any failure.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_docker import Image  # noqa: E402
from checklib import check, finish

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPOSE = os.path.join(REPO, "deploy", "docker-compose.yml")
HERE = os.path.dirname(COMPOSE)
EXAMPLE_EXPORTER = "127.0.0.1:9436"


def rel(path):
    return os.path.relpath(path, REPO)


def schema(compose_path):
    # As a module of this interpreter: under pyenv its scripts are not on PATH.
    tool = [sys.executable, "-m", "check_jsonschema"]
    version = subprocess.run(tool + ["--version"], capture_output=True, text=True)
    if not check(version.returncode == 0, "check-jsonschema installed (pip install -r tests/e2e/requirements.txt)"):
        return
    version = version.stdout.strip()
    run = subprocess.run(tool + ["--builtin-schema", "vendor.compose-spec", compose_path],
                         capture_output=True, text=True, timeout=60)
    check(run.returncode == 0,
          f"{rel(compose_path)} against the Compose Specification schema ({version}): "
          f"{(run.stdout + run.stderr).strip()}")


def binds(service):
    """[(host path, container path, options)] of the service's bind mounts."""
    result = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                result.append((os.path.normpath(os.path.join(HERE, volume["source"])), volume["target"],
                               "ro" if volume.get("read_only") else ""))
            continue
        source, target, *options = volume.split(":")
        if source.startswith((".", "/")):
            result.append((os.path.normpath(os.path.join(HERE, source)), target, ",".join(options)))
    return result


def check_files(compose):
    named = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" not in service:
            check(re.search(r":[^/]+$", image) is not None and not image.endswith(":latest"),
                  f"{name}: image {image} pinned to a tag")
        for host, container, options in binds(service):
            check(os.path.exists(host), f"{name}: bind source {rel(host)} exists (-> {container})")
            check("ro" in options.split(","), f"{name}: {container} mounted read-only")
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith((".", "/")):
                check(volume.split(":")[0] in named, f"{name}: named volume {volume.split(':')[0]} declared")


def check_exporter(compose):
    service = compose["services"].get("exporter", {})
    build = service.get("build", {})
    context = os.path.normpath(os.path.join(HERE, build.get("context", ".")))
    dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
    check(context == REPO and os.path.isfile(dockerfile),
          f"exporter: built from {rel(dockerfile)} with the repository as context")
    check(service.get("command") == ["--demo"], f"exporter: command {service.get('command')} is --demo")
    port = Image(dockerfile).expose[0].split("/")[0] if os.path.isfile(dockerfile) else "?"
    check(any(str(p).endswith(f":{port}") for p in service.get("ports", [])),
          f"exporter: publishes the Dockerfile's port {port}")
    return port


def container_view(service, tmp):
    """Copies each bind mount to tmp + its container path; returns the mapper."""
    for host, container, _ in binds(service):
        dest = os.path.join(tmp, container.lstrip("/"))
        if os.path.isdir(host):
            shutil.copytree(host, dest, dirs_exist_ok=True)
        elif os.path.isfile(host):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(host, dest)
    return lambda path: os.path.join(tmp, path.lstrip("/"))


def demo_targets(url):
    if not url:
        return ["demo", "demo-v6"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/config", timeout=10) as r:
        return sorted(yaml.safe_load(r.read())["targets"])


def expected_prometheus(example, targets, exporter):
    """prometheus.example.yml as the compose network needs it."""
    text = json.dumps(example).replace(EXAMPLE_EXPORTER, exporter)
    expected = json.loads(text)
    for job in expected["scrape_configs"]:
        if job.get("metrics_path") == "/probe":
            for static in job.get("static_configs", []):
                static["targets"] = targets
    expected["rule_files"] = [os.path.basename(r) for r in example.get("rule_files", [])]
    return expected


def check_prometheus(compose, promtool, url, port):
    service = compose["services"].get("prometheus", {})
    flags = dict(a.split("=", 1) for a in service.get("command", []) if "=" in a)
    config_path = flags.get("--config.file", "/etc/prometheus/prometheus.yml")
    with tempfile.TemporaryDirectory() as tmp:
        inside = container_view(service, tmp)
        config = inside(config_path)
        if not check(os.path.isfile(config), f"prometheus: {config_path} is mounted"):
            return
        run = subprocess.run([promtool, "check", "config", config], capture_output=True, text=True, timeout=60)
        output = (run.stdout + run.stderr).strip().replace(tmp, "")
        check(run.returncode == 0, f"prometheus: promtool check config {config_path} (as mounted): {output}")
        with open(config, encoding="utf-8") as f:
            actual = yaml.safe_load(f)
    with open(os.path.join(REPO, "prometheus.example.yml"), encoding="utf-8") as f:
        example = yaml.safe_load(f)
    targets = demo_targets(url)
    expected = expected_prometheus(example, targets, f"exporter:{port}")
    actual.setdefault("rule_files", [])
    # Job by job, so a drift names its job and shows what to write.
    got_jobs = {j.get("job_name"): j for j in actual.pop("scrape_configs", None) or []}
    want_jobs = {j["job_name"]: j for j in expected.pop("scrape_configs")}
    for key, got, want in [(k, actual.get(k), expected.get(k)) for k in sorted(set(expected) | set(actual))] \
            + [(f"scrape_configs[{n}]", got_jobs.get(n), want_jobs.get(n))
               for n in sorted(set(got_jobs) | set(want_jobs))]:
        check(got == want,
              f"prometheus: `{key}` = prometheus.example.yml's for exporter:{port} and targets {targets}"
              + ("" if got == want else f"\n     got:\n{yaml.safe_dump(got, sort_keys=False)}"
                 f"     expected:\n{yaml.safe_dump(want, sort_keys=False)}"))


def check_grafana(compose):
    service = compose["services"].get("grafana", {})
    mounts = {container: host for host, container, _ in binds(service)}
    provisioning = mounts.get("/etc/grafana/provisioning")
    if not check(provisioning is not None and os.path.isdir(provisioning),
                 "grafana: a provisioning directory mounted at /etc/grafana/provisioning"):
        return
    datasources, providers = [], []
    for kind, bucket, key in (("datasources", datasources, "datasources"), ("dashboards", providers, "providers")):
        directory = os.path.join(provisioning, kind)
        files = sorted(f for f in os.listdir(directory) if f.endswith((".yml", ".yaml"))) \
            if os.path.isdir(directory) else []
        check(files, f"grafana: provisioning/{kind}/ has YAML files")
        for name in files:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                doc = yaml.safe_load(f)
            check(doc.get("apiVersion") == 1 and isinstance(doc.get(key), list) and doc[key],
                  f"grafana: {kind}/{name} has apiVersion 1 and a `{key}` list")
            bucket += doc.get(key) or []
    prometheus_port = "9090"
    for ds in datasources:
        check({"name", "type", "url", "access"} <= set(ds), f"grafana: datasource {ds.get('name')} keys")
        check(ds.get("type") == "prometheus" and ds.get("access") == "proxy"
              and ds.get("url") == f"http://prometheus:{prometheus_port}"
              and "prometheus" in compose["services"],
              f"grafana: datasource {ds.get('name')} is the prometheus service ({ds.get('url')})")
    check(sum(1 for ds in datasources if ds.get("isDefault")) == 1, "grafana: exactly one default datasource")
    dashboards = []
    for provider in providers:
        path = provider.get("options", {}).get("path", "")
        check(provider.get("type") == "file" and path, f"grafana: provider {provider.get('name')} is type file")
        dashboards += [(c, h) for c, h in mounts.items() if os.path.dirname(c) == path.rstrip("/")]
    check(len(dashboards) == 1, f"grafana: the provider's path holds one mounted dashboard {dashboards}")
    home = service.get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        check(home in mounts, f"grafana: the home dashboard {home} is mounted")
    for container, host in dashboards:
        if not check(os.path.isfile(host), f"grafana: dashboard {rel(host)} exists"):
            continue
        with open(host, encoding="utf-8") as f:
            try:
                dashboard = json.load(f)
            except json.JSONDecodeError as e:
                check(False, f"grafana: {rel(host)} is JSON: {e}")
                continue
        variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
        used = set(re.findall(r'"uid":\s*"\$\{?([A-Za-z0-9_]+)\}?"', json.dumps(dashboard)))
        check(used, f"grafana: {rel(host)} names its datasource through a variable ({sorted(used)})")
        for name in sorted(used):
            variable = variables.get(name, {})
            check(variable.get("type") == "datasource" and variable.get("query") == "prometheus",
                  f"grafana: ${{{name}}} is a datasource variable of type prometheus, which provisioning "
                  "resolves (it does not read __inputs)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exporter-url", help="a --demo exporter, for the demo's target names")
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()
    schema(COMPOSE)
    with open(COMPOSE, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    check(sorted(compose.get("services", {})) == ["exporter", "grafana", "prometheus"],
          f"services {sorted(compose.get('services', {}))}")
    check_files(compose)
    port = check_exporter(compose)
    check_prometheus(compose, args.promtool, args.exporter_url, port)
    check_grafana(compose)
    return finish("compose")


if __name__ == "__main__":
    sys.exit(main())
