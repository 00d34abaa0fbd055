"""Secrets and personal data at rest, attacked as a local account or a careless install would.

Every file under a fresh home is private to the service account after init, an ingest, a
index rebuild and an export; the key's passphrase never lies in the home unless the demo mode
was asked for, and then every open says so.
"""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dangan.archive import keys
from dangan.archive.errors import PassphraseError
from dangan.archive.instance import Archive
from dangan.ingest.demo.generator import generate_submission
from dangan.packages import signing
from dangan.web.cli import main
from tests.casekit import KEY_ID, SYSTEM

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """A typical login shell's umask (022): files would be world-readable by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DANGAN_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def everything_under(home: Path) -> list[Path]:
    return [home, *sorted(home.rglob("*"))]


def test_every_file_under_a_fresh_home_is_private(shell_umask, tmp_path: Path) -> None:
    # a fresh home made through the CLI, in a 0755 folder as `mkdir` leaves it
    home = tmp_path / "fresh"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    assert cli(home, "init", "--fonds", "Z300")[0] == 0
    sender = signing.generate_private_key(signing.ED25519)
    pem = tmp_path / "sender.pub.pem"
    pem.write_bytes(signing.public_key_pem(sender))
    assert cli(home, "trust", "add", SYSTEM, KEY_ID, str(pem))[0] == 0

    archive = Archive.open(home)
    item = archive.filing_config.items[0]
    case = generate_submission(tmp_path / "submissions" / "c1", rng=random.Random(7),
                               signing_key=sender, key_id=KEY_ID, source_system=SYSTEM,
                               service_item=item)
    os.umask(0o022)  # each command below starts from the shell's umask again
    code, out, _ = cli(home, "ingest", str(case), "--json")
    assert code == 0, out
    receipt = json.loads(out)
    assert receipt["status"] == "archived"
    os.umask(0o022)
    assert cli(home, "index", "rebuild", "--no-ocr")[0] == 0
    os.umask(0o022)
    export = tmp_path / "export.zip"
    assert cli(home, "export", receipt["aip_id"], str(export))[0] == 0

    paths = everything_under(home)
    names = {p.relative_to(home).as_posix() for p in paths}
    assert {"catalogue.sqlite3", "dangan.toml", "keys/archive-key.pem"} <= names
    assert any(n.startswith("store/aips/") for n in names)
    assert any(n.startswith("replica/") for n in names)
    assert any(n.startswith("index") for n in names)
    exposed = {p.relative_to(home).as_posix() or ".": oct(mode(p)) for p in paths
               if not p.is_symlink() and mode(p) & 0o077}  # a link's own mode is always 0777
    assert exposed == {}, f"readable by other accounts: {exposed}"
    assert mode(home) == 0o700
    for copy in (home / "store" / "aips", home / "replica" / "aips"):
        aip_files = [p for p in copy.rglob("*") if p.is_file()]
        aip_dirs = [p for p in copy.rglob("*") if p.is_dir() and len(p.relative_to(copy).parts) > 1]
        assert aip_files and {mode(p) for p in aip_files} == {0o400}
        assert aip_dirs and {mode(p) for p in aip_dirs} == {0o500}
    assert mode(export) == 0o600


def test_an_existing_open_home_is_closed_when_opened(archive: Archive) -> None:
    os.chmod(archive.home, 0o755)  # an instance created before this fix
    Archive.open(archive.home).close()
    assert mode(archive.home) == 0o700


def test_init_without_a_passphrase_source_refuses_and_says_how(no_env_passphrase,
                                                                tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, _out, err = cli(home, "init")
    assert code == 2
    assert "[archive.key_passphrase]" in err
    assert "DANGAN_KEY_PASSPHRASE" in err and "--passphrase-file" in err and "systemd" in err
    assert not home.exists()  # nothing half-created


def test_world_readable_passphrase_file_is_refused(no_env_passphrase, tmp_path: Path) -> None:
    secret = tmp_path / "etc" / "passphrase"
    secret.parent.mkdir()
    secret.write_text("correct horse battery staple\n")
    os.chmod(secret, 0o644)
    code, _out, err = cli(tmp_path / "home", "init", "--passphrase-file", str(secret))
    assert code == 2 and "[archive.key_passphrase]" in err and "0644" in err
    assert not (tmp_path / "home").exists()

    os.chmod(secret, 0o600)
    assert cli(tmp_path / "home", "init", "--passphrase-file", str(secret))[0] == 0
    archive = Archive.open(tmp_path / "home")
    assert archive.key.public_pem  # unlocks with the file
    os.chmod(secret, 0o640)  # someone loosens it later: signing refuses until it is fixed
    with pytest.raises(PassphraseError) as exc:
        Archive.open(tmp_path / "home").key  # noqa: B018 - the property loads the key
    assert exc.value.code == "archive.key_passphrase"


def test_passphrase_file_inside_the_home_is_refused(no_env_passphrase, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    inside = home / "passphrase"
    inside.write_text("x")
    os.chmod(inside, 0o600)
    code, _out, err = cli(home, "init", "--passphrase-file", str(inside))
    assert code == 2 and "[archive.key_passphrase]" in err and "实例目录" in err


def _no_passphrase_in(home: Path, passphrase: bytes) -> None:
    assert not (home / "keys" / keys.PASSPHRASE_FILE).exists()
    leaks = [p for p in home.rglob("*") if p.is_file() and passphrase in p.read_bytes()]
    assert leaks == []


def test_no_plaintext_passphrase_in_the_home_outside_demo_mode(
        no_env_passphrase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1. a passphrase file named in the configuration, created by init when missing
    secret = tmp_path / "etc" / "passphrase"
    secret.parent.mkdir()
    home = tmp_path / "h-file"
    code, out, err = cli(home, "init", "--passphrase-file", str(secret))
    assert code == 0, err
    assert mode(secret) == 0o600 and "口令文件" in out
    assert f'key_passphrase_file = "{secret}"' in (home / "dangan.toml").read_text("utf-8")
    _no_passphrase_in(home, secret.read_bytes().strip())
    assert Archive.open(home).key.public_pem == (home / "keys" / keys.PUBLIC_KEY).read_bytes()

    # 2. a systemd credential
    creds = tmp_path / "credentials"
    creds.mkdir(mode=0o700)
    (creds / keys.CREDENTIAL_NAME).write_text("from-systemd-credential")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    home = tmp_path / "h-cred"
    code, out, err = cli(home, "init")
    assert code == 0, err
    assert "systemd" in out
    _no_passphrase_in(home, b"from-systemd-credential")
    assert Archive.open(home).key.public_pem
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(PassphraseError):  # the credential gone: the key cannot be unlocked
        Archive.open(home).key  # noqa: B018

    # 3. the environment
    monkeypatch.setenv("DANGAN_KEY_PASSPHRASE", "from-the-environment")
    home = tmp_path / "h-env"
    assert cli(home, "init")[0] == 0
    _no_passphrase_in(home, b"from-the-environment")


def test_two_passphrase_sources_at_init_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"  # DANGAN_KEY_PASSPHRASE is set by the test suite
    code, _out, err = cli(tmp_path / "home", "init", "--passphrase-file", str(secret))
    assert code == 2 and "多个口令来源" in err


def test_demo_mode_warns_at_init_and_at_every_open(no_env_passphrase, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "demo"
    code, out, err = cli(home, "init", "--demo-passphrase")
    assert code == 0 and "演示" in out
    assert "警告" in err and str(home / "keys" / "passphrase") in err
    assert mode(home / "keys" / keys.PASSPHRASE_FILE) == 0o600
    with caplog.at_level("WARNING", logger="dangan.archive.instance"):
        Archive.open(home).key  # noqa: B018 - unlocks with the demo passphrase
    assert any("演示模式" in r.getMessage() for r in caplog.records)
    # a real process, as an operator runs it: the warning reaches the terminal
    env = {k: v for k, v in os.environ.items() if k != "DANGAN_KEY_PASSPHRASE"}
    proc = subprocess.run([sys.executable, "-m", "dangan.web.cli", "--home", str(home),
                           "trust", "list"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "警告" in proc.stderr and "演示模式" in proc.stderr
