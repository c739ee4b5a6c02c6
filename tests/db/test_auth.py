"""Signing in, lock-out, first admin, password storage."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db import (AccountLocked, Conflict, InvalidCredentials, Role, Station, ValidationError)
from db.passwords import PasswordHasher
from db.schema import User
from tests.db.helpers import PASSWORD, FakeClock, World


def _user(station: Station, name: str) -> User:
    with station.database.read() as s:
        return s.execute(select(User).where(User.username == name)).scalar_one()


def test_first_start_has_no_account_and_first_admin_is_explicit(station: Station) -> None:
    assert not station.auth.has_users()
    with pytest.raises(InvalidCredentials):
        station.auth.sign_in("admin", "admin")
    actor = station.auth.create_first_admin("boss", PASSWORD)
    assert actor.role is Role.ADMIN and station.auth.has_users()
    with pytest.raises(Conflict):
        station.auth.create_first_admin("second", PASSWORD)
    assert station.auth.sign_in("boss", PASSWORD) == actor


@pytest.mark.parametrize("name,password,field", [("boss", "short", "password"),
                                                 ("has space", PASSWORD, "username"),
                                                 ("", PASSWORD, "username")])
def test_first_admin_is_validated(station: Station, name: str, password: str,
                                  field: str) -> None:
    with pytest.raises(ValidationError) as e:
        station.auth.create_first_admin(name, password)
    assert e.value.field == field
    assert not station.auth.has_users()


def test_password_is_stored_as_argon2id_never_plaintext(station: Station, world: World) -> None:
    stored = _user(station, "otto").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_in_success_sets_last_login_and_audits(station: Station, world: World,
                                                    clock: FakeClock) -> None:
    actor = station.auth.sign_in("otto", PASSWORD)
    assert actor == world.operator
    assert _user(station, "otto").last_login_at == clock().replace(tzinfo=None)
    events = station.audit.list(world.admin, action="auth.sign_in")
    assert [e.username for e in events] == ["otto"]


def test_wrong_and_unknown_are_refused_alike_and_audited(station: Station, world: World) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        station.auth.sign_in("otto", "not the password")
    with pytest.raises(InvalidCredentials) as unknown:
        station.auth.sign_in("nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value)
    failed = station.audit.list(world.admin, action="auth.sign_in_failed")
    assert {e.username for e in failed} == {"otto", "nobody"}
    assert _user(station, "otto").failed_attempts == 1


def test_five_failures_lock_for_fifteen_minutes(station: Station, world: World,
                                                clock: FakeClock) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            station.auth.sign_in("otto", "wrong password")
    with pytest.raises(AccountLocked) as locked:
        station.auth.sign_in("otto", "wrong password")
    assert locked.value.until == clock() + timedelta(minutes=15)
    assert "locked" in str(locked.value)
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(AccountLocked):           # even the right password waits out the lock
        station.auth.sign_in("otto", PASSWORD)
    clock.advance(seconds=1)
    assert station.auth.sign_in("otto", PASSWORD).username == "otto"
    u = _user(station, "otto")
    assert u.failed_attempts == 0 and u.locked_until is None
    # Other accounts were never affected.
    assert station.auth.sign_in("olga", PASSWORD).username == "olga"


def test_success_resets_the_counter(station: Station, world: World) -> None:
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                station.auth.sign_in("otto", "wrong password")
        station.auth.sign_in("otto", PASSWORD)
    assert _user(station, "otto").failed_attempts == 0


def test_inactive_user_cannot_sign_in(station: Station, world: World) -> None:
    station.users.set_active(world.admin, world.operator.user_id, False)
    with pytest.raises(InvalidCredentials):
        station.auth.sign_in("otto", PASSWORD)
    station.users.set_active(world.admin, world.operator.user_id, True)
    assert station.auth.sign_in("otto", PASSWORD).username == "otto"


def test_weaker_hash_is_upgraded_at_sign_in(open_station, world: World) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    station = open_station(password_hasher=stronger)
    before = _user(station, "otto").password_hash
    station.auth.sign_in("otto", PASSWORD)
    after = _user(station, "otto").password_hash
    assert after != before and "t=2" in after and "m=16" in after
    assert station.auth.sign_in("otto", PASSWORD).username == "otto"
