"""Database engine and sessions; schema managed by Alembic.

SQLite runs in WAL mode with a busy timeout so several processes can file at once; the
filing transaction starts with ``BEGIN IMMEDIATE`` (SQLite) or takes a transaction-level
advisory lock (PostgreSQL), which serialises the short commit window in which archival
codes are allocated and AIPs move into the store.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
FILING_LOCK_KEY = 0x44414E47  # "DANG": PostgreSQL advisory lock id of the filing window


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("filing_lock", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("dangan.archive") / "migrations")
    )
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, *, secrets: Any = None) -> None:
    """Bring the schema to the newest migration (idempotent).

    Called by ``dangan init``/``demo`` on an empty database and by ``dangan db upgrade``;
    opening an instance never migrates (``schema_status`` only reads the revision).
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    before = current_revision(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["secrets"] = secrets  # migrations that seal secrets (0010_webrest)
        command.upgrade(cfg, "head")
    if before != head_revision():
        log.info("catalogue schema upgraded from %s to %s", before or "(empty)", head_revision())


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration this software ships (read once per process)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no Alembic migration shipped"
    return head


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database (None: no schema yet)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(engine: Engine) -> SchemaStatus:
    return SchemaStatus(current=current_revision(engine), head=head_revision())


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._filing_engine = self.engine.execution_options(filing_lock=True)
        self._filing_sessions = sessionmaker(self._filing_engine, expire_on_commit=False)
        self.secrets: Any = None  # the instance's SecretBox (composition.assemble)

    def listen(self, identifier: str, fn: Callable[..., Any]) -> None:
        """Attach a session event to this database's sessions only (not the global class),
        so two archives in one process never see each other's events."""
        for factory in (self._sessions, self._filing_sessions):
            event.listen(factory, identifier, fn)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def filing_session(self) -> Iterator[Session]:
        """The serialised filing window (archival code allocation, store commit).

        On SQLite the window is first taken as an OS file lock beside the database: a
        waiting process wakes the moment the lock is released, where SQLite's own busy
        handler would sleep in growing steps (up to 100 ms) between retries.
        """
        with self._window_lock(), self._filing_sessions() as s, s.begin():
            if not self.is_sqlite:
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FILING_LOCK_KEY})
            yield s

    @contextmanager
    def _window_lock(self) -> Iterator[None]:
        database = self.engine.url.database if self.is_sqlite else None
        if not database or database == ":memory:":
            yield
            return
        fd = os.open(f"{database}.filing-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def dispose(self) -> None:
        self.engine.dispose()
