# syntax=docker/dockerfile:1
# routeros-exporter: multi-stage build.
#
#   docker build -t routeros-exporter .
#   docker run -p 9436:9436 -e ROUTER_PASSWORD=... \
#       -v "$PWD/config.yml:/etc/routeros-exporter/config.yml:ro" routeros-exporter
#
# The image carries the lean exporter (built without the `demo` feature: no
# simulator, no certificate generator; smaller and nothing in it that only a
# demo needs). To try it without routers, build the demo variant:
#
#   docker build --build-arg FEATURES=demo -t routeros-exporter:demo .
#   docker run -p 9436:9436 routeros-exporter:demo --demo

# ---- build -----------------------------------------------------------------
# rust:1.95 on bookworm, the runtime's Debian release: a binary linked on a
# newer glibc (the plain rust:1.95 tag follows Debian's newest release) may
# not start on bookworm-slim.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# Cargo features of the exporter: empty for the lean binary, `demo` for --demo.
ARG FEATURES=""
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
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin routeros-exporter \
 && mkdir -p /etc/routeros-exporter
COPY --from=builder /out/routeros-exporter /usr/local/bin/routeros-exporter
COPY config.example.yaml /etc/routeros-exporter/config.example.yaml

USER 10001:10001
EXPOSE 9436

# Liveness only: /-/healthy answers 200 while the process serves. Not /health,
# which is 503 while any router is unreachable: a router outage must not make
# the orchestrator restart the exporter. Assumes the default listen address
# (:9436); change the URL if you pass --web.listen-address.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9436/-/healthy"]

# SIGTERM: /-/ready turns 503 and in-flight probes get up to 10s to finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/routeros-exporter"]
CMD ["--config.file=/etc/routeros-exporter/config.yml"]
