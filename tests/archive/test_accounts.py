"""Accounts and roles as the service enforces them: 三员分立, self-grant, lock-out, TOTP."""

from __future__ import annotations

import time

import pyotp
import pytest

from dangan.archive import accounts, audit_log, second_factor
from dangan.archive.account_models import User
from dangan.archive.permissions import ADMIN_ROLES, BUSINESS_ROLES, ROLES, allows


def make(archive, login, *roles, password="correct-horse-9"):
    accounts.create_user(archive.db, login, f"用户{login}", password=password, by=None)
    for r in roles:
        accounts.grant_role(archive.db, login, r, by=None)
    return accounts.get_principal(archive.db, _uid(archive, login))


def _uid(archive, login):
    with archive.db.session() as s:
        return s.query(User).filter_by(login=login).one().id


def test_admin_roles_exclude_each_other_and_business_roles(archive):
    make(archive, "sys1", "sysadmin")
    for other in sorted((ADMIN_ROLES | BUSINESS_ROLES) - {"sysadmin"}):
        with pytest.raises(accounts.RoleRefused):
            accounts.grant_role(archive.db, "sys1", other, by=None)
    make(archive, "arch", "archivist")
    for admin in sorted(ADMIN_ROLES):
        with pytest.raises(accounts.RoleRefused):
            accounts.grant_role(archive.db, "arch", admin, by=None)
    # business roles combine with each other
    view = accounts.grant_role(archive.db, "arch", "inspector", by=None)
    assert set(view.roles) == {"archivist", "inspector"}


def test_only_secadmin_grants_business_roles_and_never_to_self(archive):
    sec = make(archive, "sec", "secadmin")
    sysadm = make(archive, "sys", "sysadmin")
    clerk = make(archive, "clerk", "clerk")
    make(archive, "newbie")
    with pytest.raises(accounts.PermissionDenied):
        accounts.grant_role(archive.db, "newbie", "clerk", by=sysadm)
    with pytest.raises(accounts.PermissionDenied):
        accounts.grant_role(archive.db, "newbie", "clerk", by=clerk)
    # the secadmin cannot hand a role to themself (and could not use it: exclusivity)
    with pytest.raises(accounts.RoleRefused) as exc:
        accounts.grant_role(archive.db, "sec", "archivist", by=sec)
    assert exc.value.code == "account.role_refused"
    # nor create administrators from the web: those come from the console only
    with pytest.raises(accounts.RoleRefused):
        accounts.grant_role(archive.db, "newbie", "auditor", by=sec)
    view = accounts.grant_role(archive.db, "newbie", "appraiser", by=sec)
    assert view.roles == ("appraiser",)
    view = accounts.revoke_role(archive.db, "newbie", "appraiser", by=sec)
    assert view.roles == ()
    with archive.db.session() as s:
        grants = s.query(User).filter_by(login="newbie").one().grants
        assert [(g.role, g.granted_by, g.revoked_by) for g in grants] == [
            ("appraiser", "user:sec", "user:sec")]
        actions = [e.action for e in audit_log.find_entries(s, object_id="user:newbie")]
    assert actions == ["user:create", "role:grant", "role:revoke"]


def test_three_administrators_cannot_read_records_or_change_outside_their_duty():
    assert not allows(["sysadmin"], "record.read") and not allows(["sysadmin"], "audit.read")
    assert allows(["sysadmin"], "user.manage") and not allows(["sysadmin"], "role.grant")
    assert allows(["secadmin"], "role.grant")
    assert not any(allows(["secadmin"], p) for p in ("record.read", "user.manage", "audit.read"))
    assert allows(["auditor"], "audit.read")
    assert not any(allows(["auditor"], p) for p in
                   ("record.read", "user.manage", "role.grant", "intake.submit"))
    assert set(ROLES) == ADMIN_ROLES | BUSINESS_ROLES


def test_lockout_after_five_failures_and_a_locked_account_stays_locked(archive):
    make(archive, "clerk", "clerk")
    for _ in range(accounts.LOCKOUT_THRESHOLD):
        with pytest.raises(accounts.SignInFailed):
            accounts.check_password(archive.db, "clerk", "wrong-password-1")
    with pytest.raises(accounts.AccountLocked) as exc:
        accounts.check_password(archive.db, "clerk", "correct-horse-9")
    assert exc.value.code == "account.locked"
    assert accounts.get_principal(archive.db, _uid(archive, "clerk")) is None
    with archive.db.session() as s:
        actions = [e.action for e in audit_log.find_entries(s, object_id="user:clerk")]
    assert actions.count("user:signin-fail") == 5 and "user:lock" in actions
    accounts.unlock_user(archive.db, "clerk", by=None)
    p = accounts.check_password(archive.db, "clerk", "correct-horse-9")
    assert p.roles == {"clerk"}


def test_unknown_login_and_wrong_password_look_the_same(archive):
    make(archive, "clerk", "clerk")
    with pytest.raises(accounts.SignInFailed) as a:
        accounts.check_password(archive.db, "nobody", "x-password-1")
    with pytest.raises(accounts.SignInFailed) as b:
        accounts.check_password(archive.db, "clerk", "x-password-1")
    assert a.value.message == b.value.message


def test_totp_enrolment_verification_and_replay(archive):
    p = make(archive, "arch", "archivist")
    assert not p.totp_enrolled
    uri = second_factor.begin_totp_enrolment(archive.db, p.id)
    assert uri == second_factor.begin_totp_enrolment(archive.db, p.id)  # same until confirmed
    totp = pyotp.parse_uri(uri)
    now = time.time()
    with pytest.raises(accounts.SecondFactorFailed):
        second_factor.confirm_totp_enrolment(archive.db, p.id, "000000" if totp.at(now) != "000000"
                                        else "111111", at=now)
    signed = second_factor.confirm_totp_enrolment(archive.db, p.id, totp.at(now), at=now)
    assert signed.totp_enrolled
    # the same code cannot be used twice (replay), the next one works
    with pytest.raises(accounts.SecondFactorFailed):
        second_factor.verify_second_factor(archive.db, p.id, totp.at(now), at=now)
    later = now + 30
    assert second_factor.verify_second_factor(archive.db, p.id, totp.at(later), at=later).login == "arch"
    with pytest.raises(accounts.SecondFactorFailed):
        second_factor.begin_totp_enrolment(archive.db, p.id)


def test_weak_passwords_and_bad_logins_refused(archive):
    with pytest.raises(accounts.InvalidInput):
        accounts.create_user(archive.db, "a", "甲", password="short1", by=None)
    with pytest.raises(accounts.InvalidInput):
        accounts.create_user(archive.db, "a b", "甲", password="long-enough-1", by=None)
    accounts.create_user(archive.db, "a", "甲", password="long-enough-1", by=None)
    with pytest.raises(accounts.LoginTaken):
        accounts.create_user(archive.db, "a", "乙", password="long-enough-1", by=None)


def test_a_timed_lock_expires_when_configured(archive):
    make(archive, "clerk", "clerk")
    for _ in range(accounts.LOCKOUT_THRESHOLD):
        with pytest.raises(accounts.SignInFailed):
            accounts.check_password(archive.db, "clerk", "wrong-password-1", lock_minutes=0.02)
    with pytest.raises(accounts.AccountLocked):
        accounts.check_password(archive.db, "clerk", "correct-horse-9", lock_minutes=0.02)
    time.sleep(1.5)
    assert accounts.check_password(archive.db, "clerk", "correct-horse-9").login == "clerk"


def test_disabled_account_cannot_sign_in_and_its_session_ends(archive):
    p = make(archive, "clerk", "clerk")
    accounts.disable_user(archive.db, "clerk", by=None)
    with pytest.raises(accounts.AccountDisabled):
        accounts.check_password(archive.db, "clerk", "correct-horse-9")
    assert accounts.get_principal(archive.db, p.id) is None
