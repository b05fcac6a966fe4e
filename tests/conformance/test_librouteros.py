"""Conformance of routeros-sim against the independent PyPI client librouteros.

Starts the simulator binary (``ROUTEROS_SIM``, default ``target/debug/routeros-sim``)
on ephemeral loopback ports and drives it the way real users of librouteros do.
"""

import json
import os
import re
import signal
import subprocess
import urllib.request

import pytest
from librouteros import connect
from librouteros.exceptions import FatalError, MultiTrapError, TrapError
from librouteros.login import plain, token
from librouteros.query import Key

SIM = os.environ.get("ROUTEROS_SIM", "target/debug/routeros-sim")
PASSWORD = "s3cret"
LINE = re.compile(r"^router (\S+) version (\S+) api (\S+):(\d+)")


@pytest.fixture(scope="module")
def sim():
    proc = subprocess.Popen(
        [
            SIM,
            "--listen", "127.0.0.1:0",
            "--routers", "2",
            "--versions", "7.18,6.42",
            "--password", PASSWORD,
            "--control", "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    routers, control = {}, None
    try:
        while control is None:
            line = proc.stdout.readline()
            assert line, "simulator exited before printing its addresses"
            if m := LINE.match(line):
                routers[m.group(1)] = {"version": m.group(2), "host": m.group(3), "port": int(m.group(4))}
            elif line.startswith("control "):
                control = line.split()[1]
        yield {"routers": routers, "control": control, "proc": proc}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, "simulator did not exit cleanly on SIGTERM"


def api_for(sim, name, **kwargs):
    r = sim["routers"][name]
    return connect(r["host"], "admin", kwargs.pop("password", PASSWORD), port=r["port"], timeout=5, **kwargs)


def control(sim, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{sim['control']}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)


def test_stdout_lists_every_router(sim):
    assert sim["routers"]["r1"]["version"] == "7.18"
    assert sim["routers"]["r2"]["version"] == "6.42"


def test_plain_login_print_proplist_and_query(sim):
    api = api_for(sim, "r1")
    identity = api.path("system", "identity")
    assert list(identity) == [{"name": "r1"}]
    assert list(identity.select(Key("name")).where(Key("name") == "r1")) == [{"name": "r1"}]
    # 7.18 answers an empty result with !empty + !done; librouteros must see no rows.
    assert list(identity.select(Key("name")).where(Key("name") == "nope")) == []
    assert list(identity.select(Key("name")).where(Key("name") != "nope")) == [{"name": "r1"}]
    assert list(identity.select(Key("comment"))) == []  # bare !re carries no attributes
    assert tuple(api("/system/identity/print", **{"count-only": ""})) == ({"ret": 1},)
    api.close()


def test_wrong_password_is_a_trap(sim):
    with pytest.raises(TrapError) as err:
        api_for(sim, "r1", password="wrong")
    assert err.value.message == "invalid user name or password (6)"


def test_missing_menu_gives_two_traps(sim):
    api = api_for(sim, "r1")
    with pytest.raises(MultiTrapError) as err:
        tuple(api.path("ip", "adress"))
    assert [t.message for t in err.value.traps] == [
        "no such command or directory (adress)",
        "no such command prefix",
    ]
    # The connection stays usable after the traps and their !done.
    assert list(api.path("system", "identity")) == [{"name": "r1"}]
    api.close()


def test_legacy_token_login_on_6_42(sim):
    api = api_for(sim, "r2", login_method=token)
    assert list(api.path("system", "identity").select(Key("name"))) == [{"name": "r2"}]
    api.close()
    # A plain login is answered with a challenge, so the session is not logged in.
    api = api_for(sim, "r2", login_method=plain)
    with pytest.raises(FatalError, match="not logged in"):
        tuple(api.path("system", "identity"))


def test_quit_is_fatal_and_the_simulator_survives(sim):
    api = api_for(sim, "r1")
    with pytest.raises(FatalError, match="session terminated on request"):
        tuple(api.rawCmd("/quit"))
    assert sim["proc"].poll() is None
    api = api_for(sim, "r1")
    assert list(api.path("system", "identity")) == [{"name": "r1"}]
    api.close()


def test_control_endpoint_faults_and_stats(sim):
    status, routers = control(sim, "GET", "/routers")
    assert status == 200 and [r["name"] for r in routers] == ["r1", "r2"]
    control(sim, "PUT", "/routers/r1/faults", {"auth_failure": True})
    try:
        with pytest.raises(TrapError):
            api_for(sim, "r1")
    finally:
        control(sim, "DELETE", "/routers/r1/faults")
    api_for(sim, "r1").close()
    status, stats = control(sim, "GET", "/routers/r1/stats")
    assert status == 200
    assert stats["commands"]["/system/identity/print"] >= 1
    assert stats["logins_failed"] >= 1
