#!/usr/bin/env python3
"""The Kubernetes files, built and validated offline (no cluster needed).

Usage: check_k8s.py EXPORTER_BINARY

* `kubectl kustomize deploy/k8s` builds (kubectl's embedded kustomize) and
  gives exactly a ConfigMap, a Secret, a Deployment and a Service;
  `kubectl kustomize deploy/k8s/prometheus-operator` gives two Probes and a
  ServiceMonitor;
* every built object validates against the Kubernetes OpenAPI schemas of the
  oldest and the newest version that kubernetes-validate (PyPI) bundles, in
  strict mode (an unknown or misspelt field fails); the Probes and the
  ServiceMonitor against the Prometheus Operator's CRD models (PyPI
  cloudcoil-models-prometheus-operator: types and patterns), with unknown
  fields refused here since those models ignore them;
* the Deployment's security: pod runAsNonRoot with the Dockerfile's USER,
  seccomp RuntimeDefault, no service account token; the container with
  readOnlyRootFilesystem, allowPrivilegeEscalation false, capabilities drop
  ALL and none added, not privileged; liveness on /-/healthy and readiness on
  /-/ready, no probe on /health (503 while a router is down: an outage must
  not restart the exporter); requests and limits set, limits >= requests;
  the named port is the Dockerfile's EXPOSE;
* the references: ROUTER_PASSWORD from the generated Secret's (hashed) name
  and a key it has; the config volume from the generated ConfigMap; the
  --config.file path inside that mount is a key of the ConfigMap; the
  Service selects the pod and targets its port; the Probes' prober URL is
  that Service and port, the ServiceMonitor selects it;
* the Secret is a template: its value is the REPLACE_ME placeholder;
* the ConfigMap's config.yml passes `routeros-exporter --config.check` with
  the Secret's keys as environment, every ${VAR} in it is set by the
  Deployment, and its targets are the ones prometheus.example.yml's static
  jobs and the Probes scrape (same jobs, modules, intervals and timeouts);
  the example's /sd jobs ask the /sd of the exporter they scrape;
* the sharded overlay deploy/k8s-sharded (the replicas that
  deploy/prometheus/sharded.yml scrapes): `kubectl kustomize` builds it with
  no warning into exactly a ConfigMap, a Secret, a Service and a StatefulSet
  (the base's Deployment deleted); every object validates as the base's do;
  the security, probe, resource and reference checks above hold for the
  StatefulSet (ConfigMap and Secret by their generated, hashed names); its
  pod template is field for field the base Deployment's (it is a copy: any
  drift fails) and so is its selector; the Service is headless and is the
  StatefulSet's serviceName; its replica count is the number of shard jobs
  in sharded.yml (and their modulus), and every shard's replica address in
  sharded.yml, parsed as <statefulset>-<i>.<service>.<namespace>.svc:<port>,
  is pod i of this StatefulSet, Service, namespace and port; the exporters'
  own /metrics job there scrapes every replica;
* the overlay in docs/deploy.md, copied from the document as it is, builds
  on a copy of the base with an operator's config.yml and password file,
  and replaces both (the Deployment then refers to the overlay's objects);
  the same with deploy/k8s-sharded as its base (the StatefulSet then does).

Under kustomize v2 (Debian's kubectl 1.20) the overlays are built from
copies rewritten to v2's `bases:` and `patchesStrategicMerge:`.
"""

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import kubernetes_validate
import yaml
from cloudcoil.models.prometheus_operator import v1 as prometheus_operator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_docker import Image  # noqa: E402  (the Dockerfile's parsed final stage)
from check_sharding import replica_of, shard_layout  # noqa: E402  (sharded.yml's shard jobs)
from checklib import check, finish

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.path.join(REPO, "deploy", "k8s")
OPERATOR = os.path.join(BASE, "prometheus-operator")
SHARDED_DIR = "deploy/k8s-sharded"
SHARDED = os.path.join(REPO, SHARDED_DIR)
SHARDED_REL = "deploy/prometheus/sharded.yml"
SHARDED_PROMETHEUS = os.path.join(REPO, SHARDED_REL)
DOC = os.path.join(REPO, "docs", "deploy.md")
OVERLAY_MARKER = "# deploy/k8s-prod/kustomization.yaml"


def kustomize_version():
    """kubectl's embedded kustomize, as (major, text); kubectl < 1.21 does not say (v2.0.3)."""
    run = subprocess.run(["kubectl", "version", "--client", "-o", "json"],
                         capture_output=True, text=True, timeout=60)
    info = json.loads(run.stdout or "{}")
    text = info.get("kustomizeVersion", "v2.0.3 (kubectl < 1.21)")
    git = info.get("clientVersion", {}).get("gitVersion", "?")
    print(f"kubectl {git}, kustomize {text}")
    return int(re.match(r"v?(\d+)", text).group(1)), text


def build(path):
    run = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True, timeout=120)
    rel = os.path.relpath(path, REPO) if path.startswith(REPO) else path
    if not check(run.returncode == 0, f"kubectl kustomize {rel} builds {run.stderr.strip()}"):
        return []
    warnings = [line for line in run.stderr.splitlines() if line.strip()]
    check(not warnings, f"kubectl kustomize {rel}: no warnings {warnings}")
    return [d for d in yaml.safe_load_all(run.stdout) if d is not None]


def without_v2_residue(docs):
    """kustomize v2 leaves an object deleted by `$patch: delete` in the output
    as `metadata: {namespace: ...}` when the kustomization sets a namespace
    (kustomize issue #768, fixed in v3), which `kubectl apply` refuses: the
    reason deploy/k8s-sharded needs kubectl 1.21 or newer. Dropped here so the
    rest of its output is still checked under kustomize v2."""
    residue = [d for d in docs if "kind" not in d and set(d) == {"metadata"}
               and set(d["metadata"]) == {"namespace"}]
    if residue:
        print(f"note: kustomize v2: dropped {len(residue)} emptied object(s) left by `$patch: delete` {residue}")
    return [d for d in docs if d not in residue]


def by_kind(docs):
    kinds = {}
    for d in docs:
        kinds.setdefault(d.get("kind", "(no kind)"), []).append(d)
    return kinds


def k8s_schemas(docs, where):
    versions = sorted({v.split("-")[0].lstrip("v") for v in os.listdir(os.path.join(
        os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema"))},
        key=lambda v: tuple(int(x) for x in v.split(".")))
    for version in (versions[0], versions[-1]):
        for d in docs:
            name = f"{where}: {d['kind']}/{d['metadata']['name']} against Kubernetes {version} (strict)"
            try:
                kubernetes_validate.validate(d, version, strict=True)
                check(True, name)
            except kubernetes_validate.ValidationError as e:
                check(False, f"{name}: {e.message} at {'.'.join(str(p) for p in e.path)}")


def unknown_fields(given, dumped, path=""):
    """Keys of `given` the model dropped (it ignores unknown fields)."""
    if isinstance(given, dict) and isinstance(dumped, dict):
        missing = [f"{path}.{k}".lstrip(".") for k in given if k not in dumped]
        for k in given:
            if k in dumped:
                missing += unknown_fields(given[k], dumped[k], f"{path}.{k}")
        return missing
    if isinstance(given, list) and isinstance(dumped, list):
        return [m for g, d in zip(given, dumped) for m in unknown_fields(g, d, path + "[]")]
    return []


def operator_schemas(docs):
    for d in docs:
        model = getattr(prometheus_operator, d["kind"], None)
        name = f"{d['kind']}/{d['metadata']['name']} against the Prometheus Operator's CRD model"
        if not check(model is not None and d["apiVersion"] == "monitoring.coreos.com/v1",
                     f"{d['kind']} is a monitoring.coreos.com/v1 kind"):
            continue
        try:
            dumped = model.model_validate(copy.deepcopy(d)).model_dump(
                by_alias=True, exclude_unset=True, mode="json")
        except Exception as e:  # pydantic.ValidationError: the message names the field
            check(False, f"{name}: {e}")
            continue
        extra = unknown_fields(d, dumped)
        check(not extra, f"{name}{': unknown fields ' + str(extra) if extra else ''}")


def quantity(text):
    """CPU in cores or memory in bytes from a Kubernetes quantity."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9, "": 1}
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text)).groups()
    return float(number) * units[unit]


def check_workload(workload, image, where):
    """The pod of a Deployment or StatefulSet: security, probes, resources."""
    pod = workload["spec"]["template"]["spec"]
    pod_security = pod.get("securityContext", {})
    uid, gid = image.uid_gid()
    check(pod_security.get("runAsNonRoot") is True, f"{where}: pod runAsNonRoot")
    check((pod_security.get("runAsUser"), pod_security.get("runAsGroup")) == (uid, gid),
          f"{where}: pod runs as the Dockerfile's USER {image.user}")
    check(pod.get("automountServiceAccountToken") is False, f"{where}: no service account token mounted")
    check(len(pod["containers"]) == 1, f"{where}: one container")
    container = pod["containers"][0]
    security = container.get("securityContext", {})
    seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
    check(seccomp.get("type") == "RuntimeDefault", f"{where}: seccompProfile RuntimeDefault")
    check(security.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
    check(security.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation false")
    check(security.get("capabilities", {}).get("drop") == ["ALL"]
          and not security.get("capabilities", {}).get("add"), f"{where}: capabilities drop ALL, none added")
    check(not security.get("privileged"), f"{where}: not privileged")

    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    check(ports.get("http") == int(image.expose[0].split("/")[0]),
          f"{where}: port http {ports.get('http')} = Dockerfile EXPOSE {image.expose}")
    probes = {k: container.get(k) for k in ("livenessProbe", "readinessProbe", "startupProbe")}
    for kind, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        get = (probes[kind] or {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") in ("http", ports.get("http")),
              f"{where}: {kind} on {path} (port {get.get('port')})")
    for kind, probe in probes.items():
        if probe:
            check(not re.search(r"/health\b", str(probe)), f"{where}: {kind} is not on /health")

    resources = container.get("resources", {})
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    check({"cpu", "memory"} <= set(requests) and "memory" in limits,
          f"{where}: requests {requests} (cpu, memory) and limits {limits} (memory) set")
    for key in set(requests) & set(limits):
        check(quantity(limits[key]) >= quantity(requests[key]),
              f"{where}: limit {key} {limits[key]} >= request {requests[key]}")
    return pod, container


def check_references(kinds, pod, container, where):
    secret, configmap = kinds["Secret"][0], kinds["ConfigMap"][0]
    env = {e["name"]: e for e in container.get("env", [])}
    ref = env.get("ROUTER_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {})
    check(ref.get("name") == secret["metadata"]["name"] and ref.get("key") in secret.get("data", {}),
          f"{where}: ROUTER_PASSWORD from Secret {ref.get('name')} key {ref.get('key')} "
          f"(built: {secret['metadata']['name']}, keys {sorted(secret.get('data', {}))})")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
    config_volumes = [n for n, v in volumes.items()
                      if v.get("configMap", {}).get("name") == configmap["metadata"]["name"]]
    check(len(config_volumes) == 1, f"{where}: a volume of ConfigMap {configmap['metadata']['name']}")
    config_arg = [a.split("=", 1)[1] for a in container.get("args", []) if a.startswith("--config.file=")]
    config_env = [e.get("value") for n, e in env.items() if n == "CONFIG_FILE"]
    paths = config_arg + config_env
    if check(len(paths) == 1, f"{where}: the config file is named once (--config.file or CONFIG_FILE): {paths}") \
            and config_volumes:
        mount = mounts.get(config_volumes[0], {})
        key = os.path.relpath(paths[0], mount.get("mountPath", "/nonexistent"))
        check(mount.get("readOnly") is True and key in configmap.get("data", {}),
              f"{where}: {paths[0]} is key {key} of the ConfigMap mounted read-only at {mount.get('mountPath')}")
    return secret, configmap, env


def check_service(kinds, workload, where):
    service = kinds["Service"][0]
    labels = workload["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    check(all(labels.get(k) == v for k, v in selector.items()) and selector,
          f"{where}: Service selects the pod ({selector})")
    check(workload["spec"]["selector"]["matchLabels"] == selector,
          f"{where}: {workload['kind']} selector = Service selector")
    check(service["spec"]["ports"][0]["targetPort"] == "http", f"{where}: Service targets port http")
    return service


def check_config(binary, secret, configmap, env):
    placeholder = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    check(all("REPLACE_ME" in v for v in placeholder.values()),
          f"the Secret is a template: placeholder values only ({sorted(placeholder)})")
    text = configmap["data"]["config.yml"]
    wanted = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    check(wanted and wanted <= set(env), f"every ${{VAR}} of config.yml ({sorted(wanted)}) set by the Deployment")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        clean = {k: v for k, v in os.environ.items() if k not in ("CONFIG_FILE", "ROUTERS_CONFIG")}
        run = subprocess.run([binary, "--config.check", f"--config.file={path}"],
                             env={**clean, **placeholder}, capture_output=True, text=True, timeout=30)
        check(run.returncode == 0,
              f"ConfigMap config.yml: --config.check exit {run.returncode}: {(run.stdout + run.stderr).strip()}")
    return set(yaml.safe_load(text)["targets"])


def check_scrape_configs(configured, operator_kinds, service):
    """prometheus.example.yml's /probe jobs and the Probes scrape config.yml's routers."""
    with open(os.path.join(REPO, "prometheus.example.yml"), encoding="utf-8") as f:
        prom = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    probe_jobs = {n: j for n, j in jobs.items() if j.get("metrics_path") == "/probe"}
    for name, job in probe_jobs.items():
        if "http_sd_configs" in job:
            # Its targets are the exporter config's by construction; what can
            # drift is where it asks: the /sd of the exporter it scrapes.
            exporter = [r["replacement"] for r in job["relabel_configs"]
                        if r.get("target_label") == "__address__"]
            urls = [sd.get("url") for sd in job["http_sd_configs"]]
            check(len(exporter) == 1 and urls == [f"http://{exporter[0]}/sd"],
                  f"prometheus.example.yml job {name} discovers from {urls}, the /sd of the exporter "
                  f"it scrapes {exporter}")
        else:
            scraped = {t for s in job["static_configs"] for t in s["targets"]}
            check(scraped == configured, f"prometheus.example.yml job {name} scrapes {sorted(scraped)} "
                  f"= config.yml targets {sorted(configured)}")
    service_url = f"{service['metadata']['name']}.monitoring.svc:{service['spec']['ports'][0]['port']}"
    probes = {p["spec"].get("jobName"): p for p in operator_kinds.get("Probe", [])}
    check(set(probes) == set(probe_jobs), f"Probe jobNames {sorted(probes)} = example jobs {sorted(probe_jobs)}")
    for name, probe in probes.items():
        spec, job = probe["spec"], probe_jobs.get(name, {})
        # A Probe lists its targets (the operator's Probe has no HTTP SD): the
        # same routers as the example's job, whether it lists or discovers them.
        static = set(spec["targets"]["staticConfig"]["static"])
        check(static == configured, f"Probe {name} targets {sorted(static)} = config.yml targets")
        check(spec["prober"]["url"] == service_url and spec["prober"].get("path") == "/probe",
              f"Probe {name} prober {spec['prober']} = Service {service_url}, /probe")
        # Without `params: module` (a /sd job), /probe runs each router's own
        # module, `full` for config.yml's routers, which name none.
        module = job.get("params", {}).get("module", ["full"])
        check([spec.get("module")] == module, f"Probe {name} module {spec.get('module')} = example's {module}")
        interval = job.get("scrape_interval", prom["global"]["scrape_interval"])
        timeout = job.get("scrape_timeout", prom["global"]["scrape_timeout"])
        check((spec.get("interval"), spec.get("scrapeTimeout")) == (interval, timeout),
              f"Probe {name} interval/timeout {spec.get('interval')}/{spec.get('scrapeTimeout')} = example's")
        relabel = spec["targets"]["staticConfig"].get("relabelingConfigs", [])
        check({"sourceLabels": ["__param_target"], "targetLabel": "router"} in relabel,
              f"Probe {name} sets the router label")
    for monitor in operator_kinds.get("ServiceMonitor", []):
        spec = monitor["spec"]
        selects = all(service["metadata"]["labels"].get(k) == v
                      for k, v in spec["selector"]["matchLabels"].items())
        endpoint = spec["endpoints"][0]
        check(selects and endpoint["port"] == service["spec"]["ports"][0]["name"]
              and endpoint.get("path") == "/metrics",
              f"ServiceMonitor {monitor['metadata']['name']} selects the Service, port http, /metrics")
        job = [r.get("replacement") for r in endpoint.get("relabelings", []) if r.get("targetLabel") == "job"]
        self_jobs = [n for n, j in jobs.items() if j.get("metrics_path") == "/metrics"]
        check(job == self_jobs, f"ServiceMonitor job {job} = example's {self_jobs}")


def doc_overlay():
    """The overlay's kustomization.yaml as docs/deploy.md shows it."""
    with open(DOC, encoding="utf-8") as f:
        blocks = re.findall(r"```yaml\n(.*?)```", f.read(), re.S)
    found = [b for b in blocks if b.startswith(OVERLAY_MARKER)]
    check(len(found) == 1, f"docs/deploy.md has one yaml block starting {OVERLAY_MARKER!r}")
    return found[0] if found else None


def for_kustomize_v2(directory):
    """Rewrites directory/kustomization.yaml for kustomize v2 (Debian's kubectl
    1.20), which takes directories only as `bases:` and patch files only as
    `patchesStrategicMerge:`; the shipped files use today's `resources:` and
    `patches:` (kustomize v5 warns about the old fields)."""
    path = os.path.join(directory, "kustomization.yaml")
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    resources = doc.pop("resources", [])
    doc["bases"] = [r for r in resources if os.path.isdir(os.path.join(directory, r))]
    files = [r for r in resources if r not in doc["bases"]]
    if files:
        doc["resources"] = files
    if "patches" in doc:
        patches = doc.pop("patches")
        if any(set(p) != {"path"} for p in patches):
            raise ValueError(f"{path}: only `patches: - path:` has a kustomize v2 form")
        doc["patchesStrategicMerge"] = [p["path"] for p in patches]
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f)
    print(f"note: kustomize v2: {os.path.basename(directory)}/kustomization.yaml rewritten with "
          f"{', '.join(k for k in ('bases', 'resources', 'patchesStrategicMerge') if k in doc)}")


def build_copy(tmp, name, major):
    """deploy/k8s and deploy/<name> copied under tmp (rewritten for kustomize
    v2 if that is what builds them): where an overlay of <name> can sit."""
    for directory in sorted({"k8s", name}):
        shutil.copytree(os.path.join(REPO, "deploy", directory), os.path.join(tmp, "deploy", directory))
        if major < 3 and directory != "k8s":
            for_kustomize_v2(os.path.join(tmp, "deploy", directory))


def check_overlay(major, base="k8s", kind="Deployment"):
    """docs/deploy.md's overlay, with `../<base>` as its base."""
    text = doc_overlay()
    if text is None:
        return
    where = f"overlay of {base}"
    doc = yaml.safe_load(text)
    check("../k8s" in doc.get("resources", []), f"{where}: the document's overlay has ../k8s in resources")
    doc["resources"] = [f"../{base}" if r == "../k8s" else r for r in doc.get("resources", [])]
    with tempfile.TemporaryDirectory() as tmp:
        build_copy(tmp, base, major)
        overlay = os.path.join(tmp, "deploy", "k8s-prod")
        os.makedirs(overlay)
        with open(os.path.join(overlay, "kustomization.yaml"), "w") as f:
            f.write(text if base == "k8s" else yaml.safe_dump(doc))
        if major < 3:
            for_kustomize_v2(overlay)
        with open(os.path.join(overlay, "config.yml"), "w") as f:
            f.write("auths:\n  ro:\n    username: prometheus\n    password: \"${ROUTER_PASSWORD}\"\n"
                    "targets:\n  edge7:\n    address: 10.0.0.7\n    auth: ro\n")
        secret_env = doc["secretGenerator"][0]
        secret_file = secret_env.get("env") or secret_env.get("envs", [None])[0]
        with open(os.path.join(overlay, secret_file), "w") as f:
            f.write("ROUTER_PASSWORD=overlay-password\n")
        docs = build(overlay)
        kinds = by_kind(without_v2_residue(docs) if major < 3 else docs)
        if not kinds:
            return
        secrets, configmaps = kinds.get("Secret", []), kinds.get("ConfigMap", [])
        check(len(secrets) == 1 and base64.b64decode(secrets[0]["data"]["ROUTER_PASSWORD"]) == b"overlay-password",
              f"{where}: one Secret, with the overlay's password")
        check(len(configmaps) == 1 and "edge7:" in configmaps[0]["data"]["config.yml"],
              f"{where}: one ConfigMap, with the overlay's config.yml")
        if not check(len(kinds.get(kind, [])) == 1, f"{where}: one {kind}"):
            return
        pod = kinds[kind][0]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        check_references(kinds, pod, container, where)
        namespaces = {d["metadata"].get("namespace") for ds in kinds.values() for d in ds}
        check(namespaces == {"monitoring"}, f"{where}: every object in namespace monitoring ({namespaces})")
        check(set(kinds) <= {"ConfigMap", "Secret", kind, "Service", "Probe", "ServiceMonitor"},
              f"{where}: kinds {sorted(kinds)}")
        wanted = [f"{i['newName']}:{i['newTag']}" for i in doc.get("images", [])]
        check([container["image"]] == wanted, f"{where}: image {container['image']} (want {wanted})")


def differences(a, b, path="template"):
    """Paths where two decoded YAML trees differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def replica_addresses():
    """sharded.yml's shard -> replica address, as its own consistency check
    (check_sharding.shard_layout) reads it, and its routeros_exporter job's
    targets."""
    with open(SHARDED_PROMETHEUS, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    try:
        shards, n = shard_layout(config)
    except (ValueError, KeyError, TypeError) as e:
        check(False, f"{SHARDED_REL}: a consistent hashmod split: {e}")
        return None, None
    check(True, f"{SHARDED_REL}: {n} shard jobs, modulus {n}, shards 0..{n - 1} each kept once")
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    addresses = {i: replica_of(jobs[name]) for i, name in shards.items()}
    self_targets = [t for j in config["scrape_configs"] if j.get("metrics_path") == "/metrics"
                    for s in j.get("static_configs", []) for t in s["targets"]]
    return addresses, self_targets


def check_replica_names(kinds, addresses, self_targets):
    """Every shard's replica address is the DNS name of one of the
    StatefulSet's pods: <statefulset>-<i>.<serviceName>.<namespace>.svc:<port>
    with the headless Service named serviceName serving that port."""
    statefulset, service = kinds["StatefulSet"][0], kinds["Service"][0]
    replicas = statefulset["spec"].get("replicas", 1)
    check(replicas == len(addresses),
          f"{SHARDED_DIR}: StatefulSet replicas {replicas} = the {len(addresses)} shard jobs of {SHARDED_REL}")
    check(service["spec"].get("clusterIP") == "None", f"{SHARDED_DIR}: the Service is headless (clusterIP None)")
    check(statefulset["spec"].get("serviceName") == service["metadata"]["name"],
          f"{SHARDED_DIR}: StatefulSet serviceName {statefulset['spec'].get('serviceName')} "
          f"= the Service {service['metadata']['name']}")
    namespaces = {d["metadata"].get("namespace") for ds in kinds.values() for d in ds}
    port = service["spec"]["ports"][0]["port"]
    for shard, address in sorted(addresses.items()):
        match = re.fullmatch(r"([a-z0-9-]+)-(\d+)\.([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)",
                             address)
        if not check(match is not None, f"{SHARDED_REL} shard {shard}: {address} is a StatefulSet pod's name "
                     "<statefulset>-<i>.<service>.<namespace>.svc:<port>"):
            continue
        name, ordinal, subdomain, namespace, at = match.groups()
        got = (name, int(ordinal), subdomain, {namespace}, int(at))
        want = (statefulset["metadata"]["name"], shard, statefulset["spec"].get("serviceName"), namespaces, port)
        check(got == want, f"{SHARDED_REL} shard {shard}: {address} = pod {want[0]}-{shard} of "
              f"Service {want[2]} in namespace {sorted(map(str, namespaces))}, port {port} {got}")
    check(sorted(self_targets) == sorted(addresses.values()),
          f"{SHARDED_REL}: the exporters' own /metrics job scrapes every replica {sorted(self_targets)}")


def build_sharded(major):
    if major >= 3:
        return build(SHARDED)
    with tempfile.TemporaryDirectory() as tmp:
        build_copy(tmp, "k8s-sharded", major)
        return without_v2_residue(build(os.path.join(tmp, "deploy", "k8s-sharded")))


def check_sharded(major, image, deployment):
    """deploy/k8s-sharded: the replicas sharded.yml scrapes, with the base's pod."""
    docs = build_sharded(major)
    kinds = by_kind(docs)
    if not check(sorted(kinds) == ["ConfigMap", "Secret", "Service", "StatefulSet"]
                 and all(len(v) == 1 for v in kinds.values()),
                 f"{SHARDED_DIR}: one each of ConfigMap, Secret, Service, StatefulSet, no Deployment "
                 f"({ {k: len(v) for k, v in kinds.items()} })"):
        return
    k8s_schemas(docs, SHARDED_DIR)
    statefulset = kinds["StatefulSet"][0]
    pod, container = check_workload(statefulset, image, SHARDED_DIR)
    check_references(kinds, pod, container, SHARDED_DIR)
    check_service(kinds, statefulset, SHARDED_DIR)
    # The StatefulSet's pod is a copy of the Deployment's (a kind cannot be
    # patched into another): any difference is drift, whatever the field.
    drift = differences(deployment["spec"]["template"], statefulset["spec"]["template"])
    check(not drift, f"{SHARDED_DIR}: the StatefulSet's pod template = deploy/k8s's Deployment's"
          + (f" (differs at {', '.join(drift)})" if drift else ""))
    check(statefulset["spec"]["selector"] == deployment["spec"]["selector"],
          f"{SHARDED_DIR}: StatefulSet selector = the Deployment's")
    addresses, self_targets = replica_addresses()
    if addresses:
        check_replica_names(kinds, addresses, self_targets)


def main():
    binary = sys.argv[1]
    image = Image(os.path.join(REPO, "Dockerfile"))
    major, _ = kustomize_version()

    docs = build(BASE)
    kinds = by_kind(docs)
    if not check(sorted(kinds) == ["ConfigMap", "Deployment", "Secret", "Service"]
                 and all(len(v) == 1 for v in kinds.values()),
                 f"deploy/k8s: one each of ConfigMap, Deployment, Secret, Service ({sorted(kinds)})"):
        return finish("kubernetes")
    k8s_schemas(docs, "deploy/k8s")
    deployment = kinds["Deployment"][0]
    pod, container = check_workload(deployment, image, "deploy/k8s")
    secret, configmap, env = check_references(kinds, pod, container, "deploy/k8s")
    service = check_service(kinds, deployment, "deploy/k8s")
    configured = check_config(binary, secret, configmap, env)

    operator_docs = build(OPERATOR)
    operator_kinds = by_kind(operator_docs)
    check(sorted((k, len(v)) for k, v in operator_kinds.items()) == [("Probe", 2), ("ServiceMonitor", 1)],
          f"deploy/k8s/prometheus-operator: two Probes and a ServiceMonitor ({sorted(operator_kinds)})")
    operator_schemas(operator_docs)
    check_scrape_configs(configured, operator_kinds, service)

    check_sharded(major, image, deployment)
    check_overlay(major)
    check_overlay(major, "k8s-sharded", "StatefulSet")
    return finish("kubernetes")


if __name__ == "__main__":
    sys.exit(main())
