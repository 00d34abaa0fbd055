"""Fixtures named after what users do: an initialised archive, a trusted sender, cases."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dangan.archive import keys
from dangan.archive.instance import Archive
from dangan.packages import signing
from tests.casekit import KEY_ID, SYSTEM

PENSION_REGISTRATION = "企业职工基本养老保险参保登记"

# Filing in tests indexes without OCR (seconds per scan); OCR has its own tests.
os.environ.setdefault("DANGAN_OCR_AT_INGEST", "0")
# The archive key's passphrase comes from outside the home, as in production (tests of the
# other sources and of the demo mode unset it).
os.environ.setdefault("DANGAN_KEY_PASSPHRASE", "tests-only-passphrase")


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive.init(tmp_path / "home", fonds="Z109", organization="测试市社会保险事业管理中心")
    yield a
    a.close()


@pytest.fixture
def sender_key(archive: Archive) -> signing.PrivateKey:
    """A case-handling system whose public key the archive trusts."""
    key = signing.generate_private_key(signing.ED25519)
    keys.trust_add(archive.db, SYSTEM, KEY_ID, signing.public_key_pem(key), actor="test")
    return key


@pytest.fixture
def make_case(
    archive: Archive, sender_key: signing.PrivateKey, tmp_path: Path
) -> Callable[..., Path]:
    """Write a realistic signed submission (real PDFs, scans, XML, OFD) and return its folder."""
    from dangan.ingest.demo.generator import generate_submission

    counter = iter(range(1, 10_000))
    config = archive.filing_config

    def make(item_name: str = PENSION_REGISTRATION, **kwargs: Any) -> Path:
        n = next(counter)
        item = next(i for i in config.items if i.name == item_name)
        out = tmp_path / "submissions" / f"case-{n}"
        out.parent.mkdir(parents=True, exist_ok=True)
        return generate_submission(
            out,
            rng=random.Random(1000 + n),
            signing_key=sender_key,
            key_id=KEY_ID,
            source_system=SYSTEM,
            service_item=item,
            **kwargs,
        )

    return make


PG_ADMIN = os.environ.get("DANGAN_TEST_POSTGRES_ADMIN",
                          "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_pg_database(tmp_path: Path, prefix: str = "dangan_test") -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty PostgreSQL database, dropped afterwards (the test
    is skipped without a server)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"{prefix}_{os.getpid()}_{abs(hash(tmp_path)) % 10**8}"
    admin.execute(f"DROP DATABASE IF EXISTS {name}")
    admin.execute(f"CREATE DATABASE {name}")
    host = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{host}/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def pg_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Archive]:
    """An archive whose catalogue is a fresh PostgreSQL database (skipped without a server)."""
    with fresh_pg_database(tmp_path) as url:
        monkeypatch.setenv("DANGAN_DATABASE_URL", url)
        a = Archive.init(tmp_path / "home", fonds="Z109", organization="测试市社会保险事业管理中心")
        try:
            yield a
        finally:
            a.close()


@pytest.fixture
def pg_sender_key(pg_archive: Archive) -> signing.PrivateKey:
    key = signing.generate_private_key(signing.ECDSA_P256)
    keys.trust_add(pg_archive.db, SYSTEM, KEY_ID, signing.public_key_pem(key), actor="test")
    return key
