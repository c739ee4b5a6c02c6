"""User management: roles, (de)activation, the last-admin rule, passwords."""
from __future__ import annotations

import pytest

from db import (
    AccountLocked,
    Conflict,
    InvalidCredentials,
    PasswordChangeRequired,
    PermissionDenied,
    Role,
    Station,
    ValidationError,
)
from tests.db.helpers import PASSWORD, World


def test_create_and_list(station: Station, world: World) -> None:
    users = station.users.list(world.admin)
    assert [(u.username, u.role) for u in users] == [
        ("admin", Role.ADMIN), ("olga", Role.OPERATOR), ("otto", Role.OPERATOR),
        ("sue", Role.SUPERVISOR)]
    assert all(u.active and u.failed_attempts == 0 for u in users)
    with pytest.raises(Conflict) as e:
        station.users.create(world.admin, "otto", PASSWORD, Role.OPERATOR)
    assert e.value.field == "username"
    with pytest.raises(ValidationError) as v:
        station.users.create(world.admin, "newbie", "1234567", Role.OPERATOR)
    assert v.value.field == "password" and "8" in v.value.message
    with pytest.raises(ValidationError) as r:
        station.users.create(world.admin, "newbie", PASSWORD, "boss")
    assert r.value.field == "role"
    assert station.users.get(world.operator, world.operator.user_id).username == "otto"
    with pytest.raises(PermissionDenied):
        station.users.get(world.operator, world.admin.user_id)


def test_role_change_takes_effect_at_once_and_is_audited(station: Station, world: World) -> None:
    station.users.set_role(world.admin, world.supervisor.user_id, Role.ADMIN)
    # The old Actor object still says supervisor; the database says admin and wins.
    assert station.users.list(world.supervisor)
    station.users.set_role(world.admin, world.supervisor.user_id, "operator")
    with pytest.raises(PermissionDenied):
        station.stats.summary(world.supervisor)
    events = station.audit.list(world.admin, action="user.set_role")
    assert [(e.details["old"], e.details["new"]) for e in events] == [
        ("admin", "operator"), ("supervisor", "admin")]


def test_last_active_admin_cannot_be_demoted_or_deactivated(station: Station,
                                                            world: World) -> None:
    admin_id = world.admin.user_id
    with pytest.raises(Conflict):
        station.users.set_role(world.admin, admin_id, Role.SUPERVISOR)
    with pytest.raises(Conflict):
        station.users.set_active(world.admin, admin_id, False)
    # An inactive second admin does not count.
    station.users.set_role(world.admin, world.supervisor.user_id, Role.ADMIN)
    station.users.set_active(world.admin, world.supervisor.user_id, False)
    with pytest.raises(Conflict):
        station.users.set_role(world.admin, admin_id, Role.OPERATOR)
    # An active one does: then the first admin may step down.
    station.users.set_active(world.admin, world.supervisor.user_id, True)
    assert station.users.set_role(world.admin, admin_id, Role.OPERATOR).role is Role.OPERATOR
    with pytest.raises(PermissionDenied):
        station.users.list(world.admin)
    sue = station.auth.sign_in("sue", PASSWORD)
    with pytest.raises(Conflict):
        station.users.set_active(sue, sue.user_id, False)


def test_deactivated_user_loses_access_immediately(station: Station, world: World) -> None:
    station.users.set_active(world.admin, world.supervisor.user_id, False)
    with pytest.raises(PermissionDenied) as e:
        station.inspections.page(world.supervisor)
    assert "disabled" in str(e.value)


def test_reset_password_and_unlock(station: Station, world: World) -> None:
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            station.auth.sign_in("otto", "wrong password")
    info = station.users.unlock(world.admin, world.operator.user_id)
    assert info.locked_until is None
    station.users.reset_password(world.admin, world.operator.user_id, "brand new pw")
    with pytest.raises(InvalidCredentials):
        station.auth.sign_in("otto", PASSWORD)
    assert station.auth.sign_in("otto", "brand new pw").username == "otto"
    assert [e.action for e in station.audit.list(world.admin, action="user.")][:2] == [
        "user.reset_password", "user.unlock"]


def test_change_own_password(station: Station, world: World) -> None:
    with pytest.raises(ValidationError) as wrong:
        station.users.change_own_password(world.operator, "not it", "brand new pw")
    assert wrong.value.field == "old_password"
    with pytest.raises(ValidationError) as weak:
        station.users.change_own_password(world.operator, PASSWORD, "short")
    assert weak.value.field == "new_password"
    station.users.change_own_password(world.operator, PASSWORD, "brand new pw")
    assert station.auth.sign_in("otto", "brand new pw").username == "otto"


def test_admin_forces_a_password_change_at_next_sign_in(station: Station, world: World) -> None:
    """Issue 11 item 3 (db side): until the user chose a new password, nothing else is allowed;
    changing it clears the flag."""
    info = station.users.force_password_change(world.admin, world.operator.user_id, True)
    assert info.must_change_password
    otto = station.auth.sign_in("otto", PASSWORD)
    assert otto.must_change_password
    with pytest.raises(PasswordChangeRequired):
        station.inspections.page(otto)
    with pytest.raises(PasswordChangeRequired):   # also with the Actor from before the flag
        station.warehouses.list(world.operator)
    assert station.users.get(otto, otto.user_id).must_change_password
    with pytest.raises(ValidationError):           # the same password again is no change
        station.users.change_own_password(otto, PASSWORD, PASSWORD)
    station.users.change_own_password(otto, PASSWORD, "brand new pw")
    otto = station.auth.sign_in("otto", "brand new pw")
    assert not otto.must_change_password and station.inspections.page(otto) == []
    # A temporary password set by an admin can carry the flag at once.
    station.users.reset_password(world.admin, otto.user_id, "temporary 4 today", force_change=True)
    assert station.auth.sign_in("otto", "temporary 4 today").must_change_password
    events = station.audit.list(world.admin, action="user.force_password_change")
    assert [e.details["on"] for e in events] == [True]


@pytest.mark.parametrize("password,hint", [
    ("password", "common"), ("12345678", "common"), ("qwertzuiop", "common"),
    ("otto1234", ""), ("aaaaaaaaaaaa", "repeat"), ("P@ssw0rd123", "")])
def test_guessable_passwords_are_refused_with_a_hint(station: Station, world: World,
                                                     password: str, hint: str) -> None:
    """Issue 9 item 14: `password` was accepted. zxcvbn (with its lists of common passwords)
    judges; the message says why and what helps."""
    with pytest.raises(ValidationError) as e:
        station.users.reset_password(world.admin, world.operator.user_id, password)
    assert e.value.field == "password"
    assert hint in e.value.message.lower() and "words" in e.value.message
    with pytest.raises(ValidationError):
        station.users.change_own_password(world.operator, PASSWORD, password)


def test_unstorable_passwords_are_a_validation_error(station: Station, world: World) -> None:
    """A lone surrogate (a broken paste) raised UnicodeEncodeError from the hasher."""
    for bad in ("good words but \ud800", "nul \x00 inside it"):
        with pytest.raises(ValidationError) as e:
            station.users.create(world.admin, "newbie", bad, Role.OPERATOR)
        assert e.value.field == "password"


@pytest.mark.parametrize("taken", ["Otto", "OTTO", "\uff4f\uff54\uff54\uff4f"])
def test_user_names_differing_only_in_case_or_width_are_one_name(station: Station, world: World,
                                                                  taken: str) -> None:
    """Issue 9 item 13: `otto` and `Otto` could coexist."""
    with pytest.raises(Conflict) as e:
        station.users.create(world.admin, taken, PASSWORD, Role.OPERATOR)
    assert e.value.field == "username" and "'otto'" in str(e.value)
