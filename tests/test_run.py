"""`rapport run` as a user meets it: it prints the address, serves the page, and Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def test_run_prints_the_address_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}")
    rapport = Path(sys.executable).parent / "rapport"
    proc = subprocess.Popen(
        [str(rapport), "run", "--port", "18200", "--rasa-port", "15205", "--actions-port", "15255"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "open http://localhost:18200" in line or proc.poll() is not None:
            break
    assert any("open http://localhost:18200" in line for line in lines), lines
    with urllib.request.urlopen("http://127.0.0.1:18200/", timeout=10) as resp:
        assert b"Rapport" in resp.read()

    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout.split("\n")
    for port in ("18200", "15205", "15255"):
        addresses = {
            line.split()[3].rsplit(":", 1)[0]
            for line in listening
            if line.split()[3:4] and line.split()[3].endswith(":" + port)
        }
        assert addresses == {"127.0.0.1"}, (port, addresses)  # loopback only: the web app is the one door

    # Issue 8.4: a second instance on the same port in this checkout is refused, and does not touch the first
    endpoints = ROOT / "var" / "run" / "18200" / "endpoints.yml"
    before = endpoints.read_text()
    second = subprocess.run(
        [str(rapport), "run", "--port", "18200", "--rasa-port", "15206", "--actions-port", "15256"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2 and "already using" in second.stderr, second.stderr[-2000:]
    assert endpoints.read_text() == before and "15255" in before

    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 3
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "Stopped." in out
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_each_instance_has_its_own_runtime_folder(tmp_path: Path) -> None:
    """Issue 8.4: two instances in one checkout never share endpoints (the tracker store of one pointing at the
    other's database); the same port twice is refused."""
    from bot.services import InstanceBusy, Ports, Services

    model = tmp_path / "model.tar.gz"
    first = Services(model, f"sqlite:///{tmp_path / 'a.db'}", Ports(18301, 15301, 15351), log_dir=tmp_path / "log")
    other = Services(model, f"sqlite:///{tmp_path / 'b.db'}", Ports(18302, 15302, 15352), log_dir=tmp_path / "log")
    assert first.run_dir != other.run_dir and first.run_dir.name == "18301"
    first.run_dir = tmp_path / "run" / "18301"
    other.run_dir = tmp_path / "run" / "18302"
    first._claim_run_dir()
    other._claim_run_dir()
    try:
        again = Services(model, f"sqlite:///{tmp_path / 'c.db'}", Ports(18301, 15303, 15353), run_dir=first.run_dir)
        with pytest.raises(InstanceBusy, match="already using"):
            again._claim_run_dir()
    finally:
        first.stop()
        other.stop()
    from bot.services import write_endpoints

    a = write_endpoints(first.database_url, first.ports, first.run_dir / "endpoints.yml").read_text()
    b = write_endpoints(other.database_url, other.ports, other.run_dir / "endpoints.yml").read_text()
    assert "a.rasa-tracker.db" in a and "15351" in a and "b.rasa-tracker.db" in b and "15352" in b


def test_supervision_restarts_with_back_off() -> None:
    from bot.services import Backoff

    backoff = Backoff(cap_s=8.0, healthy_s=60.0)
    backoff.restarted(0.0)
    assert backoff.restarts == 0  # the first start is not a restart
    assert [backoff.died(t) for t in (1.0, 2.0, 3.0, 4.0, 5.0)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    backoff.restarted(10.0)
    assert backoff.restarts == 1
    assert backoff.died(100.0) == 1.0  # a minute up resets the delay
