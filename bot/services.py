"""Starting and stopping the three processes behind ``rapport run``: Rasa, the action server, the web app.

Each child writes its log under ``var/log``; Ctrl-C (or SIGTERM) stops all three and waits for them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"


@dataclass
class Ports:
    web: int = 8000
    rasa: int = 5005
    actions: int = 5055


def tracker_store_yaml(database_url: str) -> str:
    """Rasa's SQL tracker store, following the app's database. The password stays in the environment."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # A file of its own beside the app's database, so Rasa and the web app never wait on one lock.
        app_db = Path(url.database) if url.database and url.database != ":memory:" else VAR / "rapport.db"
        db = app_db.resolve().with_name(app_db.stem + ".rasa-tracker.db")
        return f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n'
    lines = [
        "tracker_store:",
        "  type: SQL",
        '  dialect: "postgresql"',
        f'  url: "{url.host or "127.0.0.1"}"',
        f"  port: {url.port or 5432}",
        f'  db: "{url.database}"',
    ]
    if url.username:
        lines.append(f'  username: "{url.username}"')
    if url.password:
        lines.append('  password: "${RAPPORT_DB_PASSWORD}"')
    return "\n".join(lines) + "\n"


def lock_store_yaml(redis_url: str | None) -> str:
    """Rasa's lock store on Redis when REDIS_URL is set: messages of one conversation are then handled in
    order even with several Rasa workers (production); the in-memory default is right for one process."""
    if not redis_url:
        return ""
    url = make_url(redis_url.replace("redis://", "redis+py://", 1)) if redis_url.startswith("redis://") else None
    if url is None:
        raise ValueError(f"REDIS_URL must look like redis://host:port/db, not {redis_url!r}")
    lines = [
        "lock_store:",
        "  type: redis",
        f'  url: "{url.host or "127.0.0.1"}"',
        f"  port: {url.port or 6379}",
        f"  db: {url.database or 0}",
        '  key_prefix: "rapport"',
    ]
    if url.password:
        lines.append('  password: "${RAPPORT_REDIS_PASSWORD}"')
    return "\n".join(lines) + "\n"


def write_endpoints(database_url: str, ports: Ports, path: Path, redis_url: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f'action_endpoint:\n  url: "http://127.0.0.1:{ports.actions}/webhook"\n' + tracker_store_yaml(database_url)
    body += lock_store_yaml(redis_url)
    path.write_text(body, encoding="utf-8")
    return path


def child_env(database_url: str, ports: Ports, redis_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "RASA_URL": f"http://127.0.0.1:{ports.rasa}",
            "RAPPORT_ACTIONS_URL": f"http://127.0.0.1:{ports.actions}",
            "RAPPORT_ACTIONS_PORT": str(ports.actions),
            "RAPPORT_WEB_PORT": str(ports.web),
            "SANIC_HOST": "127.0.0.1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    password = make_url(database_url).password
    if password:
        env["RAPPORT_DB_PASSWORD"] = str(password)
    if redis_url and redis_url.startswith("redis://"):
        redis_password = make_url(redis_url.replace("redis://", "redis+py://", 1)).password
        if redis_password:
            env["RAPPORT_REDIS_PASSWORD"] = str(redis_password)
    return env


def commands(model: Path, endpoints: Path, ports: Ports) -> dict[str, list[str]]:
    return {
        "rasa": [
            sys.executable,
            "-m",
            "bot.rasa_server",
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(ports.rasa),
        ],
        "actions": [sys.executable, "-m", "actions"],
        "web": [sys.executable, "-m", "bot.web"],
    }


def health_urls(ports: Ports) -> dict[str, str]:
    return {
        "rasa": f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook",
        "actions": f"http://127.0.0.1:{ports.actions}/health",
        "web": f"http://127.0.0.1:{ports.web}/api/scenarios",
    }


READY_PROBE = json.dumps({"sender": "rapport-readiness", "message": "/ask_help"}).encode()


def _probe(url: str) -> bool:
    """GET for the web app and actions; for Rasa a real message, since Rasa answers GET / before its model
    has loaded. The probe's answer comes from our action server, so it proves the whole chain."""
    data = READY_PROBE if url.endswith("/webhooks/rest/webhook") else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        if resp.status != 200:
            return False
        return data is None or b'"custom"' in resp.read()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if _probe(url):
                return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM a child's whole process group (Rasa forks), then SIGKILL whatever is left after the grace."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Services:
    """The three children, started in dependency order and stopped together."""

    def __init__(
        self,
        model: Path,
        database_url: str,
        ports: Ports | None = None,
        log_dir: Path | None = None,
        redis_url: str | None = None,
        scenario_dirs: str | None = None,
    ):
        self.ports = ports or Ports()
        # extra scenario folders for the servers, kept for restarts too (else RAPPORT_SCENARIO_DIRS applies)
        self.scenario_dirs = scenario_dirs
        self.model = model
        self.database_url = database_url
        self.redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL")
        self.log_dir = log_dir or VAR / "log"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        endpoints = write_endpoints(self.database_url, self.ports, self.log_dir / "endpoints.yml", self.redis_url)
        cmd = commands(self.model, endpoints, self.ports)[name]
        with open(self.log_dir / f"{name}.log", "ab") as out:
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=self._env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _env(self) -> dict[str, str]:
        env = child_env(self.database_url, self.ports, self.redis_url)
        if self.scenario_dirs is not None:
            env["RAPPORT_SCENARIO_DIRS"] = self.scenario_dirs
        return env

    def _wait(self, names: tuple[str, ...], timeout_s: float) -> None:
        urls = health_urls(self.ports)
        for name in names:
            if not wait_until_up(urls[name], self.procs[name], timeout_s):
                self.stop()
                raise RuntimeError(f"The {name} server did not start; see {self.log_dir / (name + '.log')}")

    def start(self, timeout_s: float = 180.0) -> None:
        """Start all three at once (they load in parallel) and wait until each answers."""
        for name in ("actions", "rasa", "web"):
            self._spawn(name)
        self._wait(("actions", "rasa", "web"), timeout_s)

    def stop_one(self, name: str, grace_s: float = 15.0) -> None:
        proc = self.procs.get(name)
        if proc is not None:
            stop_group(proc, grace_s)

    def restart(self, name: str, timeout_s: float = 180.0) -> None:
        self.stop_one(name)
        self._spawn(name)
        self._wait((name,), timeout_s)

    def stop(self, grace_s: float = 15.0) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in self.procs:
            self.stop_one(name, grace_s)

    def failed(self) -> str | None:
        return next((name for name, p in self.procs.items() if p.poll() is not None), None)
