"""Shared fixtures. The scorer model is the real one `make train` builds; tests never fake the scorer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import skip_tensorflow_probe

skip_tensorflow_probe()

from bot.scenarios import get_scenario  # noqa: E402
from bot.scenarios.model import Scenario  # noqa: E402
from bot.scoring import Scorer  # noqa: E402
from bot.store import Store, make_engine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("RAPPORT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer()


@pytest.fixture(scope="session")
def news() -> Scenario:
    scenario = get_scenario("difficult-news")
    assert scenario is not None
    return scenario


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(make_engine(f"sqlite:///{tmp_path / 'rapport.db'}"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to the local PostgreSQL whose search path is a fresh, empty schema, dropped afterwards."""
    import uuid

    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = make_engine(PG_URL)
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """A store on the local PostgreSQL, in a schema of its own."""
    store = Store(make_engine(pg_url))
    yield store
    store.engine.dispose()


STACK_TIMEOUT_S = "8"  # RAPPORT_RASA_TIMEOUT for the test stacks: a stalled patient is a 503 within seconds


@contextmanager
def running_stack(folder: Path, db_url: str, ports: Any, **options: Any) -> Iterator[dict[str, Any]]:
    """Start the three servers with their logs and runtime folder under ``folder``; stop them afterwards."""
    from bot.services import Services

    model = ROOT / "models" / "rapport.tar.gz"
    if not model.exists():
        pytest.fail("No Rasa model: run `make train` (make test does this first).")
    services = Services(
        model,
        db_url,
        ports,
        log_dir=folder / "log",
        run_dir=folder / "run",
        extra_env={"RAPPORT_RASA_TIMEOUT": STACK_TIMEOUT_S},
        **options,
    )
    services.start()
    try:
        yield {"services": services, "base": f"http://127.0.0.1:{ports.web}", "db_url": db_url, "folder": folder}
    finally:
        services.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real three servers (Rasa, action server, web app) on test ports and a fresh SQLite file."""
    from bot.scenarios.template import render_template
    from bot.services import Ports

    folder = tmp_path_factory.mktemp("stack")
    # An educator's own scenario, in a folder of its own: the servers must use it with the same Rasa model.
    educator = folder / "educator"
    educator.mkdir()
    text, slug = render_template("Educator check-in", "rupture-repair")
    (educator / f"{slug}.yml").write_text(text, encoding="utf-8")
    ports = Ports(web=18100, rasa=15105, actions=15155)
    with running_stack(folder, f"sqlite:///{folder / 'rapport.db'}", ports, scenario_dirs=str(educator)) as stack:
        yield {**stack, "educator_scenario": slug}


@pytest.fixture(scope="session")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The three servers in the production set-up: app and tracker store on PostgreSQL, Rasa's lock store on
    Redis; both servers private to this fixture, so tests may break them."""
    from bot.services import Ports
    from tests.services import free_port, private_postgres, private_redis

    folder = tmp_path_factory.mktemp("pg-stack")
    with private_postgres() as postgres, private_redis() as redis_url:
        ports = Ports(web=free_port(), rasa=free_port(), actions=free_port())
        with running_stack(folder, postgres.url, ports, redis_url=redis_url) as stack:
            yield {**stack, "postgres": postgres}
