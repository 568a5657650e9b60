"""The embedded SecantusDB server: shared, restarted after kill -9 on the same data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from sianode.store import EmbeddedServer, content_key, open_store

SIANODE = [sys.executable, "-m", "sianode.cli"]


def _run(args, env=None, timeout=60):
    return subprocess.run(SIANODE + args, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_is_shared_and_kill9_restarts_on_same_data(sianode_home):
    server = EmbeddedServer()
    state = server.start()
    try:
        assert state.host == "127.0.0.1"
        assert server.start().pid == state.pid  # a second start reuses it
        store = open_store()
        keys = [content_key("test", None, {}, {"i": i}) for i in range(20)]
        for k in keys:
            store.get_or_compute(k, lambda: {"energy_eV": -1.0})
        store.db.client.close()
        os.kill(state.pid, signal.SIGKILL)
        time.sleep(0.3)
        assert server.status()[0] == "stale"
        # any sianode command brings it back on the same data
        out = _run(["db", "uri"])
        assert out.returncode == 0, out.stderr
        new = server.read_state()
        assert new.pid != state.pid and new.storage_path == state.storage_path
        store = open_store()
        assert all(store.get(k)["status"] == "completed" for k in keys)
    finally:
        server.stop()
    assert server.status()[0] == "stopped"


def test_db_status_json(sianode_home):
    out = _run(["db", "status", "--json"])
    assert out.returncode == 0
    assert json.loads(out.stdout)["state"] == "stopped"


def test_unreachable_uri_is_one_line_naming_the_host_with_password_masked():
    port = _closed_port()
    t0 = time.time()
    out = _run(["--db", f"mongodb://alice:hunter2@127.0.0.1:{port}/x", "db", "status"])
    assert time.time() - t0 < 10 + 5  # 5 s server selection + interpreter start
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "hunter2" not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("uri", ["mongodb://bob:pw@host:notaport/db", "http://example.invalid/db", "mongodb://"])
def test_malformed_uri_is_one_line(uri):
    out = _run(["--db", uri, "db", "status"])
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "URI" in lines[0], out.stderr
    assert ":pw@" not in out.stderr


def test_launchpad_file_is_a_database_target(tmp_path, db_server):
    from sianode.store import resolve_target

    lp = tmp_path / "my_launchpad.yaml"
    lp.write_text(f"host: {db_server.host}\nport: {db_server.port}\nname: lpdb\nusername: u\npassword: p4ss\n")
    target = resolve_target(str(lp))
    assert target.database == "lpdb" and "p4ss" not in target.masked_uri and target.hosts.endswith(str(db_server.port))


def test_masking_formatter_hides_passwords(caplog):
    import logging

    from sianode.store.uri import MaskingFormatter, mask_secrets

    assert mask_secrets("mongodb://u:secret@h:1/db") == "mongodb://u:****@h:1/db"
    assert "secret" not in mask_secrets("password: secret")
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting to %s", ("mongodb://u:secret@h/db",), None)
    assert "secret" not in MaskingFormatter("%(message)s").format(rec)


def test_library_start_is_logged_and_db_stop_stops_it(sianode_home, caplog):
    import logging

    from sianode.store import database_target

    with caplog.at_level(logging.INFO, logger="sianode.store.server"):
        target = database_target()  # a library call that needs the database starts the server
    state = EmbeddedServer().read_state()
    started = [r.getMessage() for r in caplog.records if r.getMessage().startswith("started the embedded database")]
    assert len(started) == 1 and f":{state.port}" in started[0] and state.storage_path in started[0]
    assert "sianode db stop" in started[0] and target.uri == state.uri
    out = _run(["db", "stop"])
    assert out.returncode == 0 and out.stdout.strip() == "stopped"
    from sianode.store.server import pid_alive

    assert not pid_alive(state.pid) and EmbeddedServer().status()[0] == "stopped"
    assert _run(["db", "stop"]).stdout.strip().startswith("no embedded server was running")
