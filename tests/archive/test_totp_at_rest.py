"""TOTP seeds are sealed in the catalogue: the column never holds the seed, a sealed seed
copied to another account does not open, and an older catalogue's plaintext seeds are
sealed by ``dangan db upgrade`` (revision 0010_webrest) — refused without the key."""

from __future__ import annotations

import pyotp
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text

from dangan.archive import accounts, api_tokens, second_factor
from dangan.archive.composition import create_archive, upgrade_schema
from dangan.archive.db import alembic_config, migrate
from dangan.archive.secret_box import SecretBoxError
from dangan.web.cli import main

PASSWORD = "correct-horse-9"


def raw_secrets(archive) -> dict[str, str | None]:
    with archive.db.engine.connect() as conn:
        return dict(conn.execute(text("SELECT login, totp_secret FROM users")).all())


def enrolled(archive, login: str) -> pyotp.TOTP:
    accounts.create_user(archive.db, login, "测试", password=PASSWORD, by=None)
    return pyotp.parse_uri(second_factor.enrol_totp_at_console(archive.db, login, by=None))


def test_the_column_never_holds_the_seed(archive):
    totp = enrolled(archive, "arch")
    p = accounts.create_user(archive.db, "new", "新用户", password=PASSWORD, by=None)[0]
    uid = accounts.check_password(archive.db, "new", PASSWORD).id
    uri = second_factor.begin_totp_enrolment(archive.db, uid)
    stored = raw_secrets(archive)
    for login, seed in (("arch", totp.secret), (p.login, pyotp.parse_uri(uri).secret)):
        assert stored[login].startswith("v1:") and seed not in stored[login]
        assert seed.lower() not in stored[login].lower()
    # the sealed seed still works for sign-in
    arch = accounts.check_password(archive.db, "arch", PASSWORD)
    assert second_factor.verify_second_factor(archive.db, arch.id, totp.now()).login == "arch"


def test_a_sealed_seed_copied_to_another_account_does_not_open(archive):
    enrolled(archive, "victim")
    attacker = enrolled(archive, "mallory")
    with archive.db.engine.begin() as conn:  # someone with write access to the DB swaps rows
        conn.execute(text("UPDATE users SET totp_secret = (SELECT totp_secret FROM users "
                          "WHERE login = 'mallory') WHERE login = 'victim'"))
    victim = accounts.check_password(archive.db, "victim", PASSWORD)
    with pytest.raises(SecretBoxError):
        second_factor.verify_second_factor(archive.db, victim.id, attacker.now())
    with archive.db.engine.begin() as conn:  # or writes a plaintext seed of their own
        conn.execute(text("UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' "
                          "WHERE login = 'victim'"))
    with pytest.raises(SecretBoxError):
        second_factor.verify_second_factor(archive.db, victim.id,
                                           pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())


def _before_sealing(cfg) -> str:
    """The revision just before the one that seals the seeds, wherever it sits in the chain."""
    return ScriptDirectory.from_config(cfg).get_revision("0010_webrest").down_revision


def _back_to_plaintext(archive) -> None:
    cfg = alembic_config(archive.db.url)
    with archive.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["secrets"] = archive.db.secrets
        command.downgrade(cfg, _before_sealing(cfg))


def test_upgrade_seals_plaintext_seeds_and_refuses_without_the_key(archive):
    totp = enrolled(archive, "arch")
    _back_to_plaintext(archive)
    assert raw_secrets(archive)["arch"] == totp.secret  # what an older release stored
    with pytest.raises(RuntimeError, match="dangan db upgrade"):
        migrate(archive.db.engine)  # no secret box: refused, nothing changed
    assert raw_secrets(archive)["arch"] == totp.secret
    before, after = upgrade_schema(archive)
    script = ScriptDirectory.from_config(alembic_config(archive.db.url))
    assert (before, after) == (_before_sealing(alembic_config(archive.db.url)),
                               script.get_current_head())
    sealed = raw_secrets(archive)["arch"]
    assert sealed.startswith("v1:") and totp.secret not in sealed
    arch = accounts.check_password(archive.db, "arch", PASSWORD)
    assert second_factor.verify_second_factor(archive.db, arch.id, totp.now()).login == "arch"


@pytest.mark.postgres
def test_upgrade_seals_plaintext_seeds_on_postgresql(pg_archive):
    totp = enrolled(pg_archive, "arch")
    _back_to_plaintext(pg_archive)
    assert raw_secrets(pg_archive)["arch"] == totp.secret
    upgrade_schema(pg_archive)
    assert raw_secrets(pg_archive)["arch"].startswith("v1:")
    arch = accounts.check_password(pg_archive.db, "arch", PASSWORD)
    assert second_factor.verify_second_factor(pg_archive.db, arch.id, totp.now()).login == "arch"


def test_an_instance_in_use_upgrades_with_its_accounts_roles_and_tokens(archive):
    """The upgrade changes ``users`` in place: rows of role_grants and api_tokens refer to
    it, and a copy-and-drop of the table (SQLite batch mode) would break on them."""
    totp = enrolled(archive, "arch")
    accounts.grant_role(archive.db, "arch", "archivist", by=None)
    _, token = api_tokens.add_token(archive.db, login="arch", actor="console")
    _back_to_plaintext(archive)
    home = archive.home
    archive.close()

    result = CliRunner().invoke(main, ["--home", str(home), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    again = create_archive(home)
    assert raw_secrets(again)["arch"].startswith("v1:")
    arch = accounts.check_password(again.db, "arch", PASSWORD)
    signed_in = second_factor.verify_second_factor(again.db, arch.id, totp.now())
    assert signed_in.roles == frozenset({"archivist"})
    assert api_tokens.authenticate(again.db, token) is not None
