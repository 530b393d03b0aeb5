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

    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 3
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "Stopped." in out
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
