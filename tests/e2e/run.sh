#!/usr/bin/env bash
# End-to-end checks of routeros-exporter in --demo mode, on 127.0.0.1 only.
#
# Needs (installed by .ci/run, not here): promtool and prometheus (Debian's
# `prometheus` package, 2.42), python3 with tests/e2e/requirements.txt.
#
#   a. promtool check config: prometheus.example.yml, the e2e config derived
#      from it and deploy/prometheus/sharded.yml; promtool check web-config and
#      the exporter's --config.check on deploy/web-config.example.yml (with
#      throwaway openssl certificates where it names them), then an exporter
#      serving it answered over mTLS with the example's user (curl); promtool
#      check rules and test
#      rules on the alert rules (deploy/prometheus), check_rule_tests.py: every
#      alert tested firing and quiet; the deployment files: check_k8s.py
#      (deploy/k8s and the sharded overlay deploy/k8s-sharded built by kubectl
#      kustomize, validated against the Kubernetes and Prometheus Operator
#      schemas, the overlay's replicas against sharded.yml), check_compose.py
#      (deploy/docker-compose.yml against the Compose schema, its Prometheus
#      config by promtool as mounted); check_queries.py --static: the Grafana
#      dashboard's JSON model;
#   b. promtool check metrics (lint) on /probe?module=full for demo, demo-v6;
#   c. check_exposition.py: strict OpenMetrics and text parsers, content types,
#      duplicate series, family contiguity, gzip;
#   d. a real Prometheus scrapes the exporter (job mikrotik finds the demo
#      routers through the exporter's /sd) and evaluates the alert rules;
#      check_prometheus.py asserts through its HTTP API; check_queries.py runs
#      every dashboard query and every rule expression of deploy/prometheus/
#      against it;
#   e. check_boards.py: module full on every simulated board kind and on
#      RouterOS 7.16, 7.12 and 6.49: strict parsers, promtool lint, success;
#   f. check_sharding.py: a second exporter with 1,000 routers; its /sd fed
#      through deploy/prometheus/sharded.yml's relabelling by
#      `promtool check service-discovery`: one shard per router, balanced,
#      stable.
#   g. the binary run as the shipped files run it: check_docker.py (the
#      Dockerfile linted by hadolint, then argv, env, user and read-only root
#      of the image, in a private network namespace), check_systemd.py
#      (systemd-analyze verify and security, ExecStart and ExecReload).
#
# Every wait is bounded, both servers are stopped on exit, the temp dir is
# removed. Exits non-zero on the first failed step.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/tests/e2e

# Everything here talks to 127.0.0.1 only; never through a proxy.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${PROMTOOL:-promtool}
EXPORTER=$ROOT/target/release/routeros-exporter
SIM=$ROOT/target/release/routeros-sim

WORK=$(mktemp -d "${TMPDIR:-/tmp}/routeros-e2e.XXXXXX")
EXPORTER_PID=
PROMETHEUS_PID=

stop() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    # The exporter drains in-flight probes for up to 10s; do not wait longer.
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    stop "$PROMETHEUS_PID"
    stop "$EXPORTER_PID"
    if [ "$status" -ne 0 ]; then
        for log in exporter.log prometheus.log; do
            if [ -s "$WORK/$log" ]; then
                echo "--- last lines of $log" >&2
                tail -n 40 "$WORK/$log" >&2
            fi
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
passed() { PASSED=$((PASSED + 1)); }
section() { printf '\n-- e2e: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
    python3 - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, limit = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + limit
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    if time.monotonic() >= deadline:
        sys.exit(f"{url} did not answer 200 within {limit:.0f}s")
    time.sleep(0.2)
EOF
}

# alive PID NAME: fails if the process has exited.
alive() {
    kill -0 "$1" 2>/dev/null || { echo "$2 exited early" >&2; return 1; }
}

# check_web_config: deploy/web-config.example.yml checked by promtool (the
# exporter-toolkit's rules) and by the exporter's own loader, with throwaway
# certificates at the paths it names; then served: the example's user with a
# client certificate of its CA gets 200, without the password 401, without a
# certificate no answer. A second exporter on its own port, stopped at once.
check_web_config() {
    local dir=$WORK/web tls=$WORK/web/tls port pid code
    mkdir -p "$tls"
    cp deploy/web-config.example.yml "$dir/"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -days 2 -subj /CN=e2e-prometheus-ca \
        -keyout "$tls/prometheus-ca.key" -out "$tls/prometheus-ca.crt" 2>/dev/null
    openssl req -x509 "${ec[@]}" -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$tls/exporter.key" -out "$tls/exporter.crt" 2>/dev/null
    openssl req "${ec[@]}" -subj /CN=prometheus \
        -keyout "$tls/client.key" -out "$tls/client.csr" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >"$tls/client.ext"
    openssl x509 -req -in "$tls/client.csr" -CA "$tls/prometheus-ca.crt" \
        -CAkey "$tls/prometheus-ca.key" -CAcreateserial -days 2 \
        -extfile "$tls/client.ext" -out "$tls/client.crt" 2>/dev/null
    "$PROMTOOL" check web-config "$dir/web-config.example.yml"
    "$EXPORTER" --demo --config.check --web.config.file "$dir/web-config.example.yml" 2>/dev/null
    port=$(free_port)
    "$EXPORTER" --demo --web.listen-address "127.0.0.1:$port" \
        --web.config.file "$dir/web-config.example.yml" >"$WORK/exporter-web.log" 2>&1 &
    pid=$!
    local curl_tls=(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$tls/exporter.crt")
    local mtls=("${curl_tls[@]}" --cert "$tls/client.crt" --key "$tls/client.key")
    for _ in $(seq 100); do
        code=$("${mtls[@]}" "https://127.0.0.1:$port/-/healthy" || true)
        [ "$code" = 401 ] && break
        sleep 0.2
    done
    local ok unauthorized refused
    ok=$("${mtls[@]}" -u prometheus:change-me "https://127.0.0.1:$port/metrics" || true)
    unauthorized=$("${mtls[@]}" "https://127.0.0.1:$port/metrics" || true)
    refused=$("${curl_tls[@]}" -u prometheus:change-me "https://127.0.0.1:$port/metrics" || true)
    stop "$pid"
    if [ "$ok/$unauthorized/$refused" != "200/401/000" ]; then
        echo "FAIL web config served: user+cert $ok (want 200), cert only $unauthorized (want 401), user only $refused (want 000: no TLS session)" >&2
        tail -n 20 "$WORK/exporter-web.log" >&2
        return 1
    fi
    echo "web config example: promtool and --config.check OK; served: 200 with user and client certificate, 401 without the password, no answer without a certificate"
}

for tool in "$PROMETHEUS" "$PROMTOOL" python3 openssl curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (installed by .ci/run)" >&2; exit 1; }
done
"$PROMETHEUS" --version 2>&1 | head -n 1
"$PROMTOOL" --version 2>&1 | head -n 1
python3 -c 'import importlib.metadata as m, yaml, prometheus_client; print("prometheus-client", m.version("prometheus-client"), "PyYAML", yaml.__version__)'

section "build"
if [ "${E2E_SKIP_BUILD:-}" = 1 ] && [ -x "$EXPORTER" ] && [ -x "$SIM" ]; then
    echo "using existing $EXPORTER and $SIM (E2E_SKIP_BUILD=1)"
else
    cargo build --release --locked --bin routeros-exporter --bin routeros-sim
fi

section "start exporter (--demo)"
EXPORTER_PORT=$(free_port)
EXPORTER_ADDR=127.0.0.1:$EXPORTER_PORT
BASE=http://$EXPORTER_ADDR
"$EXPORTER" --demo --web.listen-address "$EXPORTER_ADDR" --log.format json \
    >"$WORK/exporter.log" 2>&1 &
EXPORTER_PID=$!
wait_http "$BASE/-/ready" 30
alive "$EXPORTER_PID" exporter
echo "exporter pid $EXPORTER_PID ready on $BASE"

section "a. promtool check config; deploy files"
python3 "$HERE/make_prometheus_config.py" prometheus.example.yml "$EXPORTER_ADDR" "$WORK/prometheus.yml"
"$PROMTOOL" check config prometheus.example.yml
"$PROMTOOL" check config "$WORK/prometheus.yml"
"$PROMTOOL" check config deploy/prometheus/sharded.yml
check_web_config
# The alert rules: syntax and templates, their unit tests, and that every
# alert has a test where it fires and one where it must not.
RULES=$ROOT/deploy/prometheus/alerts.yml
"$PROMTOOL" check rules "$RULES"
"$PROMTOOL" test rules "$ROOT/deploy/prometheus/alerts_test.yml"
python3 "$HERE/check_rule_tests.py" "$RULES" "$ROOT/deploy/prometheus/alerts_test.yml"
# The deployment files, statically and with their own tools (kubectl
# kustomize, kubernetes-validate, check-jsonschema, promtool): probes,
# security settings, references, the ConfigMap's config through
# --config.check; deploy/k8s-sharded's StatefulSet = the base's pod, its
# replicas and names = sharded.yml's shards; the compose stack's targets are
# the demo's (from $BASE).
python3 "$HERE/check_k8s.py" "$EXPORTER"
python3 "$HERE/check_compose.py" --exporter-url "$BASE" --promtool "$PROMTOOL"
# The dashboard: generated file up to date, Grafana model, names and labels
# against the README's metric reference.
python3 "$HERE/check_queries.py" --static
passed

section "c. exposition formats (strict parsers, content types, gzip)"
# Runs before b. because it also saves the text bodies that b. lints.
python3 "$HERE/check_exposition.py" --base "$BASE" --save-dir "$WORK" demo demo-v6
passed

section "b. promtool check metrics"
# promtool check metrics exits 1 and prints "NAME: problem" lines for lint
# problems. Known problems the lead has accepted go into lint-allow.txt, one
# exact line each (comments with #); everything else fails the step.
ALLOW=$HERE/lint-allow.txt
lint_failed=0
bodies=0
for body in "$WORK"/probe-*.prom; do
    [ -f "$body" ] || continue
    bodies=$((bodies + 1))
    target=$(basename "$body" .prom)
    set +e
    "$PROMTOOL" check metrics <"$body" >"$WORK/lint-$target.txt" 2>&1
    rc=$?
    set -e
    if [ -f "$ALLOW" ]; then
        grep -v '^#' "$ALLOW" | grep -v '^$' >"$WORK/allow.txt" || true
    else
        : >"$WORK/allow.txt"
    fi
    # Exact whole-line matches only.
    grep -vxF -f "$WORK/allow.txt" "$WORK/lint-$target.txt" >"$WORK/lint-left-$target.txt" || true
    allowed=$(grep -cxF -f "$WORK/allow.txt" "$WORK/lint-$target.txt" || true)
    if [ -s "$WORK/lint-left-$target.txt" ]; then
        echo "FAIL promtool check metrics ($target, exit $rc):" >&2
        sed 's/^/  /' "$WORK/lint-left-$target.txt" >&2
        lint_failed=1
    elif [ "$rc" -ne 0 ] && [ "$allowed" -eq 0 ]; then
        echo "FAIL promtool check metrics ($target) exited $rc with no output" >&2
        lint_failed=1
    else
        echo "ok   promtool check metrics $target ($(grep -c '^# TYPE' "$body") families, ${allowed:-0} allow-listed lint lines)"
    fi
done
[ "$bodies" -eq 4 ] || { echo "FAIL expected 4 saved probe bodies, found $bodies" >&2; exit 1; }
[ "$lint_failed" -eq 0 ]
passed

section "d. real Prometheus scrapes the exporter"
PROM_PORT=$(free_port)
while [ "$PROM_PORT" = 9090 ] || [ "$PROM_PORT" = "$EXPORTER_PORT" ]; do PROM_PORT=$(free_port); done
PROM_ADDR=127.0.0.1:$PROM_PORT
mkdir -p "$WORK/tsdb"
"$PROMETHEUS" \
    --config.file="$WORK/prometheus.yml" \
    --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="$PROM_ADDR" \
    --web.console.templates="$WORK" --web.console.libraries="$WORK" \
    --log.level=warn \
    >"$WORK/prometheus.log" 2>&1 &
PROMETHEUS_PID=$!
wait_http "http://$PROM_ADDR/-/ready" 60
alive "$PROMETHEUS_PID" prometheus
echo "prometheus pid $PROMETHEUS_PID ready on http://$PROM_ADDR"
python3 "$HERE/check_prometheus.py" --prometheus "http://$PROM_ADDR" --ready-timeout 60 --rate-timeout 40 \
    --rules "$RULES" --sd-url "$BASE/sd"
# Every dashboard panel query and every alert/recording rule expression, with
# the dashboard variables substituted: no errors, no dead panel, no selector
# that matches nothing. check_prometheus.py already waited for two scrapes.
python3 "$HERE/check_queries.py" --prometheus "http://$PROM_ADDR" --timeout 30
alive "$EXPORTER_PID" exporter
alive "$PROMETHEUS_PID" prometheus
if grep -iE '"level":"error"' "$WORK/exporter.log" >&2; then
    echo "FAIL exporter logged errors (above)" >&2
    exit 1
fi
passed

section "e. module full on every simulated board, RouterOS 7.16, 7.12 and 6.49"
# Boards that lack hardware (CHR, a CCR without radios, ...) must still give
# strictly valid, lint-clean output with every group succeeding.
python3 "$HERE/check_boards.py" --sim "$SIM" --exporter "$EXPORTER" --promtool "$PROMTOOL"
passed

section "f. sharded replicas: 1,000 routers through sharded.yml (promtool check service-discovery)"
# The shard configs are derived from the shipped file (only the /sd URL
# rewritten), so a broken sharded.yml fails here. The script starts and stops
# its own exporter; every promtool run is bounded.
python3 "$HERE/check_sharding.py" --exporter "$EXPORTER" --promtool "$PROMTOOL"
passed

section "g. the Docker image and the systemd unit, run as shipped"
# Each in its own network namespace (the exporter on its default :9436
# there, whatever runs here); needs root, as CI is.
python3 "$HERE/check_docker.py" --exporter "$EXPORTER" --sim "$SIM"
python3 "$HERE/check_systemd.py" --exporter "$EXPORTER" --sim "$SIM"
passed

section "passed"
# Reached only when every step passed (set -e): 7 steps (a-g).
echo "e2e: $PASSED passed, 0 failed"
