# syntax=docker/dockerfile:1
# routeros-exporter: multi-stage build.
#
#   docker build -t routeros-exporter .
#
# Configured the way the original mikrotik-exporter's image was, by the
# environment alone (ROUTERS_CONFIG, or ROUTEROS_ADDRESS/_USERNAME/_PASSWORD;
# README "Configuration"):
#
#   docker run -p 9436:9436 -e ROUTERS_CONFIG='[{"name":"core1","address":"192.168.88.1","username":"prometheus","password":"..."}]' routeros-exporter
#
# or by a mounted config file, named by CONFIG_FILE (or --config.file):
#
#   docker run -p 9436:9436 -e ROUTER_PASSWORD=... \
#       -e CONFIG_FILE=/etc/routeros-exporter/config.yml \
#       -v "$PWD/config.yml:/etc/routeros-exporter/config.yml:ro" routeros-exporter
#
# or against two simulated routers, without any:
#
#   docker run -p 9436:9436 routeros-exporter --demo
#
# The default image is built with the `demo` feature so that last command
# works: it adds the in-process simulator and a certificate generator (about
# 1.2 MB, BENCHMARKS.md "Workspace split") and nothing runs of it unless
# --demo is given. The lean image, without either, for production:
#
#   docker build --build-arg FEATURES= -t routeros-exporter:lean .
#
# docs/deploy.md has the whole contract; tests/e2e/check_docker.py runs the
# binary exactly as this image does (same argv, environment, user, read-only
# root) in CI, which cannot run Docker.

# ---- build -----------------------------------------------------------------
# rust:1.95 on bookworm, the runtime's Debian release: a binary linked on a
# newer glibc (the plain rust:1.95 tag follows Debian's newest release) may
# not start on bookworm-slim.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# Cargo features of the exporter: `demo` (the default, as in Cargo.toml) for
# --demo; empty for the lean binary.
ARG FEATURES="demo"
# Everything the workspace manifests name (the exporter, crates/, benches);
# target/ and .git are kept out by .dockerignore.
COPY . .
RUN cargo build --release --locked -p routeros-exporter --bin routeros-exporter \
        --no-default-features --features "$FEATURES" \
 && install -D -m 0755 target/release/routeros-exporter /out/routeros-exporter

# ---- runtime ---------------------------------------------------------------
FROM debian:bookworm-slim
# curl only for the HEALTHCHECK; the exporter itself needs no system
# libraries beyond glibc (rustls with built-in web PKI roots, no OpenSSL).
# Not pinned to a version: bookworm's security updates replace curl's
# version in the archive, and a pinned one would stop the image building.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin routeros-exporter \
 && mkdir -p /etc/routeros-exporter
COPY --from=builder /out/routeros-exporter /usr/local/bin/routeros-exporter
COPY config.example.yaml /etc/routeros-exporter/config.example.yaml

# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 9436

# Liveness only: /-/healthy answers 200 while the process serves. Not /health,
# which is 503 while any router is unreachable: a router outage must not make
# the orchestrator restart the exporter. Assumes the default listen address
# (:9436); change the URL if you set SERVER_ADDR or --web.listen-address.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9436/-/healthy"]

# SIGTERM: /-/ready turns 503 and in-flight probes get up to 10s to finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/routeros-exporter"]
# No arguments by default, so nothing overrides the environment contract: no
# --config.file (a file the image does not have; CONFIG_FILE names a mounted
# one) and no --web.listen-address (which would win over SERVER_ADDR).
# `docker run IMAGE --demo` (or any flags) replaces this empty CMD.
CMD []
