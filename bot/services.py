"""Starting, supervising and stopping the three processes behind ``rapport run``: Rasa, the action server and
the web app.

Each instance has a runtime folder of its own, keyed by its web port (``var/run/<port>/``: the generated
``endpoints.yml`` and a lock), so two instances in one checkout never read each other's settings. Each child
writes its log under ``var/log`` (``var/log/<port>/`` for a port other than 8000). A child that dies is
restarted with exponential back-off (1 s doubling to 60 s, reset after a minute up) while the others keep
serving: the web app answers 503 ``patient_unavailable`` meanwhile. Ctrl-C (or SIGTERM) stops all three.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

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


def _killpg(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM a child's whole process group (Rasa forks), then SIGKILL whatever is left after the grace."""
    if proc.poll() is None:
        _killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        _killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    _killpg(proc.pid, signal.SIGKILL)  # a forked worker left behind would keep the port


@dataclass
class Backoff:
    """Restart delays for one child: 1 s doubling to ``cap_s``; back to 1 s after ``healthy_s`` up."""

    cap_s: float = 60.0
    healthy_s: float = 60.0
    delay_s: float = 1.0
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)
    due_at: float | None = None

    def died(self, now: float) -> float:
        if now - self.started_at >= self.healthy_s:
            self.delay_s = 1.0
        self.due_at = now + self.delay_s
        wait = self.delay_s
        self.delay_s = min(self.delay_s * 2, self.cap_s)
        return wait

    def restarted(self, now: float) -> None:
        if self.due_at is not None:  # a restart after a death, not the first start
            self.restarts += 1
        self.started_at, self.due_at = now, None


class InstanceBusy(RuntimeError):
    """Another ``rapport run`` holds this instance's runtime folder (the same web port, same checkout)."""


def default_log_dir(ports: Ports) -> Path:
    return VAR / "log" if ports.web == Ports().web else VAR / "log" / str(ports.web)


class Services:
    """The three children, started together, supervised (restarted when they die) and stopped together."""

    def __init__(
        self,
        model: Path,
        database_url: str,
        ports: Ports | None = None,
        log_dir: Path | None = None,
        redis_url: str | None = None,
        scenario_dirs: str | None = None,
        run_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        self.ports = ports or Ports()
        # extra scenario folders for the servers, kept for restarts too (else RAPPORT_SCENARIO_DIRS applies)
        self.scenario_dirs = scenario_dirs
        self.model = model
        self.database_url = database_url
        self.redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL")
        self.log_dir = log_dir or default_log_dir(self.ports)
        self.run_dir = run_dir or VAR / "run" / str(self.ports.web)
        self.extra_env = dict(extra_env or {})
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.backoff: dict[str, Backoff] = {}
        self.held: set[str] = set()  # stopped on purpose (stop_one): not restarted until restart()
        self._lock = threading.RLock()
        self._lockfile: IO[str] | None = None
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()

    def _claim_run_dir(self) -> None:
        """Hold ``run_dir/lock`` while running, so a second instance on the same port and checkout is refused
        with a clear message instead of sharing (and overwriting) the first one's endpoints."""
        if self._lockfile is not None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.run_dir / "lock", "a+", encoding="utf-8")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise InstanceBusy(
                f"Another `rapport run` is already using {self.run_dir} (web port {self.ports.web}). "
                "Stop it, or start this one on other ports (--port, --rasa-port, --actions-port)."
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lockfile = handle

    def _spawn(self, name: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        endpoints = write_endpoints(self.database_url, self.ports, self.run_dir / "endpoints.yml", self.redis_url)
        cmd = commands(self.model, endpoints, self.ports)[name]
        old = self.procs.get(name)
        if old is not None:
            _killpg(old.pid, signal.SIGKILL)  # whatever is left of a dead child's group
        with open(self.log_dir / f"{name}.log", "ab") as out:
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=self._env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.backoff.setdefault(name, Backoff()).restarted(time.monotonic())

    def _env(self) -> dict[str, str]:
        env = child_env(self.database_url, self.ports, self.redis_url)
        if self.scenario_dirs is not None:
            env["RAPPORT_SCENARIO_DIRS"] = self.scenario_dirs
        env.update(self.extra_env)
        return env

    def _wait(self, names: tuple[str, ...], timeout_s: float) -> None:
        urls = health_urls(self.ports)
        for name in names:
            if not wait_until_up(urls[name], self.procs[name], timeout_s):
                self.stop()
                raise RuntimeError(f"The {name} server did not start; see {self.log_dir / (name + '.log')}")

    def start(self, timeout_s: float = 180.0, supervise: bool = True) -> None:
        """Start all three at once (they load in parallel), wait until each answers, then supervise them."""
        self._claim_run_dir()
        self._stopping.clear()
        with self._lock:
            for name in ("actions", "rasa", "web"):
                self._spawn(name)
        self._wait(("actions", "rasa", "web"), timeout_s)
        if supervise and self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise_loop, name="rapport-supervisor", daemon=True)
            self._supervisor.start()

    def supervise(self) -> list[str]:
        """One round of supervision: note children that died and restart those whose back-off is over.

        Returns the names restarted in this round."""
        restarted = []
        now = time.monotonic()
        with self._lock:
            for name, proc in list(self.procs.items()):
                if name in self.held or self._stopping.is_set() or proc.poll() is None:
                    continue
                backoff = self.backoff.setdefault(name, Backoff())
                if backoff.due_at is None:
                    wait = backoff.died(now)
                    log.error(
                        "The %s server stopped (exit code %s); restarting it in %.0f s. See %s",
                        name,
                        proc.returncode,
                        wait,
                        self.log_dir / f"{name}.log",
                    )
                elif now >= backoff.due_at:
                    self._spawn(name)
                    log.warning("Restarted the %s server (restart %d)", name, backoff.restarts)
                    restarted.append(name)
        return restarted

    def _supervise_loop(self) -> None:
        while not self._stopping.wait(0.5):
            try:
                self.supervise()
            except Exception:  # never let supervision itself die
                log.exception("Supervision round failed")

    def stop_one(self, name: str, grace_s: float = 15.0) -> None:
        """Stop one child on purpose; it stays down until ``restart``."""
        with self._lock:
            self.held.add(name)
            proc = self.procs.get(name)
        if proc is not None:
            stop_group(proc, grace_s)

    def restart(self, name: str, timeout_s: float = 180.0) -> None:
        self.stop_one(name)
        with self._lock:
            self._spawn(name)
            self.held.discard(name)
        self._wait((name,), timeout_s)

    def stop(self, grace_s: float = 15.0) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
            self._supervisor = None
        # The web app first, so it can finish (or mark unanswered) the turns in flight while the patient is up.
        for name in ("web", "rasa", "actions"):
            proc = self.procs.get(name)
            if proc is not None:
                stop_group(proc, grace_s)
        if self._lockfile is not None:
            self._lockfile.close()
            self._lockfile = None

    def failed(self) -> str | None:
        return next((name for name, p in self.procs.items() if p.poll() is not None), None)
