#!/usr/bin/env python3
"""Static checks of the deployment files (no Docker engine or cluster needed).

Usage: check_deploy.py EXPORTER_BINARY

* deploy/kubernetes.yaml parses (every document) and holds the expected kinds;
  the Deployment's livenessProbe is /-/healthy and its readinessProbe /-/ready
  (never /health: a router outage must not restart the exporter); the
  password comes from the Secret through the environment;
* the ConfigMap's config.yml passes `routeros-exporter --config.check` with
  ROUTER_PASSWORD set, and defines the targets prometheus.example.yml's
  static jobs scrape; its jobs using /sd ask the exporter they scrape through;
* the Dockerfile's HEALTHCHECK uses /-/healthy, and it exposes 9436.
"""

import os
import re
import subprocess
import sys
import tempfile

import yaml

failures = []


def check(condition, message):
    print(f"{'ok  ' if condition else 'FAIL'} {message}", file=sys.stdout if condition else sys.stderr)
    if not condition:
        failures.append(message)


def main():
    binary = sys.argv[1]
    with open("deploy/kubernetes.yaml", encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    kinds = {d["kind"]: d for d in docs}
    check(sorted(kinds) == ["ConfigMap", "Deployment", "Secret", "Service"],
          f"deploy/kubernetes.yaml kinds {sorted(kinds)}")
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    check(container["livenessProbe"]["httpGet"]["path"] == "/-/healthy", "livenessProbe on /-/healthy")
    check(container["readinessProbe"]["httpGet"]["path"] == "/-/ready", "readinessProbe on /-/ready")
    env = {e["name"]: e for e in container.get("env", [])}
    check("secretKeyRef" in env.get("ROUTER_PASSWORD", {}).get("valueFrom", {}),
          "ROUTER_PASSWORD from the Secret")

    config_text = kinds["ConfigMap"]["data"]["config.yml"]
    check("${ROUTER_PASSWORD}" in config_text, "ConfigMap uses ${ROUTER_PASSWORD}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(config_text)
        run = subprocess.run(
            [binary, "--config.check", f"--config.file={path}"],
            env={**os.environ, "ROUTER_PASSWORD": "e2e-not-a-secret"},
            capture_output=True, text=True, timeout=30,
        )
        check(run.returncode == 0,
              f"ConfigMap config.yml: --config.check exit {run.returncode}: {(run.stdout + run.stderr).strip()}")

    with open("prometheus.example.yml", encoding="utf-8") as f:
        prom = yaml.safe_load(f)
    configured = set(yaml.safe_load(config_text)["targets"])
    for job in prom["scrape_configs"]:
        if job["metrics_path"] != "/probe":
            continue
        if "http_sd_configs" in job:
            # Its targets are the exporter config's by construction; what can
            # drift is where it asks: the /sd of the exporter it scrapes.
            exporter = [r["replacement"] for r in job["relabel_configs"]
                        if r.get("target_label") == "__address__"]
            urls = [sd.get("url") for sd in job["http_sd_configs"]]
            check(len(exporter) == 1 and urls == [f"http://{exporter[0]}/sd"],
                  f"job {job['job_name']} discovers from {urls}, the /sd of the exporter it scrapes {exporter}")
        else:
            scraped = {t for s in job["static_configs"] for t in s["targets"]}
            check(scraped == configured,
                  f"job {job['job_name']} scrapes {sorted(scraped)} = ConfigMap targets {sorted(configured)}")

    with open("Dockerfile", encoding="utf-8") as f:
        dockerfile = f.read()
    healthcheck = re.search(r"^HEALTHCHECK .*?(?<!\\)$", dockerfile, re.M | re.S)
    check(healthcheck is not None and "/-/healthy" in healthcheck.group(0)
          and not re.search(r"/health\b", healthcheck.group(0)),
          "Dockerfile HEALTHCHECK on /-/healthy")
    check(re.search(r"^EXPOSE 9436$", dockerfile, re.M) is not None, "Dockerfile EXPOSE 9436")
    check(re.search(r"^USER (?!root|0\b)", dockerfile, re.M) is not None, "Dockerfile runs as non-root")

    if failures:
        print(f"\n{len(failures)} deploy check(s) failed", file=sys.stderr)
        return 1
    print("deploy checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
