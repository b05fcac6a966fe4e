#!/usr/bin/env python3
"""deploy/systemd/routeros-exporter.service, checked by systemd's own tools
and by running its command lines.

Usage: check_systemd.py --exporter BIN --sim SIM

* `systemd-analyze verify` on a copy whose ExecStart names the built binary
  (verify needs the binary to exist; nothing else is changed): exit 0 and no
  output at all, since verify only warns (exit 0) on an unknown directive or
  a misspelt system call group;
* `systemd-analyze security --offline=yes --threshold=15`: the unit's
  exposure score (printed) is at most 1.5 of 10;
* the directives issue 10 asks for are there, as written: DynamicUser,
  ProtectSystem=strict, ProtectHome, PrivateTmp, PrivateDevices,
  NoNewPrivileges, empty CapabilityBoundingSet and AmbientCapabilities,
  RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX, SystemCallFilter
  @system-service, MemoryDenyWriteExecute, an optional EnvironmentFile,
  ExecReload sending SIGHUP to $MAINPID, ExecStart on
  /etc/routeros-exporter/config.yml;
* the command lines work: ExecStart (binary and config file mapped to the
  built binary and a temporary file; the EnvironmentFile's variables as
  systemd would pass them) runs as an unprivileged user in a private network
  namespace (the unit's default port), probes a simulated router whose
  password comes from the EnvironmentFile, then ExecReload, run as written
  with $MAINPID, makes it load an edited config.yml.

Prints ok/FAIL lines; exits 1 on any failure. The runtime part needs root
(unshare, setuid), as CI is.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_docker import SIM_ADDR, get, loopback_up, start_sim  # noqa: E402
from checklib import check, failures, finish  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(REPO, "deploy", "systemd", "routeros-exporter.service")
BINARY = "/usr/local/bin/routeros-exporter"
CONFIG = "/etc/routeros-exporter/config.yml"
THRESHOLD = 15  # tenths: an exposure of at most 1.5
PASSWORD = "systemd-check-not-a-secret"
# The unit gives no listen address: the exporter's default port.
PORT = 9436
NOBODY = 65534
WAIT = 15.0


def directives(path):
    """{(section, key): [values]}; repeated keys kept in order."""
    result, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            result.setdefault((section, key.strip()), []).append(value.strip())
    return result


def check_directives(unit):
    def value(key):
        values = unit.get(("Service", key))
        return values[-1] if values else None

    wanted = {
        "DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "PrivateDevices": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
        "AmbientCapabilities": "", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute": "yes", "ExecReload": "/bin/kill -HUP $MAINPID",
    }
    for key, expected in wanted.items():
        check(value(key) == expected, f"{key}={value(key)!r} (want {expected!r})")
    check("@system-service" in (unit.get(("Service", "SystemCallFilter")) or []),
          "SystemCallFilter=@system-service")
    env_files = unit.get(("Service", "EnvironmentFile")) or []
    check(len(env_files) == 1 and env_files[0].startswith("-"),
          f"EnvironmentFile {env_files} is optional (leading -)")
    start = shlex.split(value("ExecStart") or "")
    check(start[:1] == [BINARY] and f"--config.file={CONFIG}" in start,
          f"ExecStart {start} runs {BINARY} on {CONFIG}")
    return start, env_files[0].lstrip("-") if env_files else None


def systemd_tools(binary):
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, os.path.basename(UNIT))
        with open(UNIT, encoding="utf-8") as f:
            text = f.read()
        mapped = re.sub(rf"^ExecStart={re.escape(BINARY)}\b", f"ExecStart={binary}", text, flags=re.M)
        check(mapped != text, f"ExecStart's {BINARY} mapped to {binary} for verify")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(mapped)
        version = subprocess.run(["systemd-analyze", "--version"], capture_output=True,
                                 text=True).stdout.splitlines()[0]
        run = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True,
                             timeout=60, cwd=tmp)
        output = (run.stdout + run.stderr).strip()
        check(run.returncode == 0 and not output,
              f"systemd-analyze verify ({version}): exit {run.returncode}, output {output!r}")
        run = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--threshold={THRESHOLD}",
                              copy], capture_output=True, text=True, timeout=60, cwd=tmp)
        score = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\S+)", run.stdout)
        check(run.returncode == 0 and score is not None,
              f"systemd-analyze security --offline=yes: exposure "
              f"{score.group(1) + ' ' + score.group(2) if score else '?'} of 10 "
              f"(threshold {THRESHOLD / 10}; exit {run.returncode}) {run.stderr.strip()}")


# ---- running the command lines ---------------------------------------------

def environment_file(path):
    """KEY=VALUE lines as systemd's EnvironmentFile= reads the simple case."""
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";")):
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip().strip('"')
    return env


def config(name):
    return (f"auths:\n  ro:\n    username: admin\n    password: \"${{ROUTER_PASSWORD}}\"\n"
            f"targets:\n  {name}:\n    address: \"{SIM_ADDR}\"\n    auth: ro\n")


def wait_for(predicate):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def inner(args):
    """In a private network namespace: loopback up, the sim, the unit's commands."""
    loopback_up()
    unit = directives(UNIT)
    start = shlex.split(unit[("Service", "ExecStart")][-1])
    reload_cmd = unit[("Service", "ExecReload")][-1]
    work = tempfile.mkdtemp(prefix="check-systemd.")
    os.chmod(work, 0o755)
    config_path = os.path.join(work, "config.yml")
    env_path = os.path.join(work, "environment")
    with open(config_path, "w") as f:
        f.write(config("first"))
    os.chmod(config_path, 0o644)
    with open(env_path, "w") as f:
        f.write(f"# as /etc/routeros-exporter/environment\nROUTER_PASSWORD={PASSWORD}\n")
    os.chmod(env_path, 0o600)
    argv = [args.exporter if a == BINARY else a.replace(CONFIG, config_path) for a in start]
    sim = start_sim(args.sim, work, PASSWORD)
    log = open(os.path.join(work, "exporter.log"), "w")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           **environment_file(env_path)}
    proc = subprocess.Popen(argv, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=as_nobody)
    try:
        print(f"   ExecStart as uid {NOBODY}: {argv}", flush=True)
        check(wait_for(lambda: get("/-/ready", PORT)[0] == 200), "ExecStart: ready on :9436")
        status, body = get("/probe?target=first&module=full", PORT)
        check(status == 200 and "mikrotik_probe_success 1" in body,
              "ExecStart: probe with the EnvironmentFile's password succeeds")
        with open(config_path, "w") as f:
            f.write(config("second"))
        command = reload_cmd.replace("$MAINPID", str(proc.pid))
        run = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=10)
        check(run.returncode == 0, f"ExecReload {command!r} exit {run.returncode}")
        check(wait_for(lambda: "second:" in get("/config", PORT)[1]), "ExecReload: the edited config.yml is loaded")
        status, body = get("/probe?target=second&module=full", PORT)
        check(status == 200 and "mikrotik_probe_success 1" in body, "ExecReload: the new target probes")
    finally:
        proc.terminate()
        try:
            code = proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        check(code == 0, f"SIGTERM (systemctl stop): exit {code}")
        sim.terminate()
        sim.wait(timeout=WAIT)
        log.close()
        if failures:
            with open(os.path.join(work, "exporter.log")) as f:
                print(f"   --- exporter log\n{f.read()[-3000:]}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    return finish("systemd")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--sim", required=True)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.exporter, args.sim = os.path.abspath(args.exporter), os.path.abspath(args.sim)
    if args.inner:
        return inner(args)
    check_directives(directives(UNIT))
    systemd_tools(args.exporter)
    if check(os.geteuid() == 0, "running as root (needed for unshare and setuid; CI is root)"):
        run = subprocess.run(["unshare", "--net", "--fork", "--", sys.executable, os.path.abspath(__file__),
                              "--inner", "--exporter", args.exporter, "--sim", args.sim], timeout=120)
        check(run.returncode == 0, f"the unit's command lines (exit {run.returncode})")
    return finish("systemd")


if __name__ == "__main__":
    sys.exit(main())
