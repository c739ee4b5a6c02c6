"""Signing in, lock-out, first admin, password storage."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db import AccountLocked, Conflict, InvalidCredentials, Role, Station, ValidationError
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
    assert station.users.get(world.admin, world.operator.user_id).failed_attempts == 1


def _five_failures(station: Station, name: str) -> list[str]:
    """What the sign-in screen would show for five wrong tries; the last one locks."""
    answers = []
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)) as e:
            station.auth.sign_in(name, "wrong password")
        answers.append(f"{type(e.value).__name__}: {e.value}")
    return answers


def test_lock_outs_grow_and_even_the_right_password_waits(station: Station, world: World,
                                                          clock: FakeClock) -> None:
    answers = _five_failures(station, "otto")
    assert answers[:4] == ["InvalidCredentials: Wrong user name or password."] * 4
    assert answers[4].startswith("AccountLocked") and "locked" in answers[4]
    info = station.users.get(world.admin, world.operator.user_id)
    assert info.locked_until == clock() + timedelta(minutes=1)
    clock.advance(seconds=59)
    with pytest.raises(AccountLocked):           # even the right password waits out the lock
        station.auth.sign_in("otto", PASSWORD)
    clock.advance(seconds=1)
    # The second lock-out lasts longer, the third longer still, then it stays at 15 minutes.
    for minutes in (5, 15, 15):
        _five_failures(station, "otto")
        assert station.users.get(world.admin, world.operator.user_id).locked_until == \
            clock() + timedelta(minutes=minutes)
        clock.advance(minutes=minutes)
    assert station.auth.sign_in("otto", PASSWORD).username == "otto"
    u = station.users.get(world.admin, world.operator.user_id)
    assert u.failed_attempts == 0 and u.locked_until is None
    # Other accounts were never affected.
    assert station.auth.sign_in("olga", PASSWORD).username == "olga"


def test_lock_out_does_not_tell_which_names_exist(station: Station, world: World,
                                                  clock: FakeClock) -> None:
    """Issue 9 item 12: an unknown name is throttled exactly like a known one, so neither the
    messages nor the lock reveal whether an account exists."""
    known = _five_failures(station, "otto")
    unknown = _five_failures(station, "nobody")
    assert known == unknown
    for name in ("otto", "nobody"):              # both locked now, with the same answer
        with pytest.raises(AccountLocked) as e:
            station.auth.sign_in(name, PASSWORD)
        assert e.value.until == clock() + timedelta(minutes=1)
    # A disabled account answers like a wrong password too, and locks alike.
    station.users.set_active(world.admin, world.operator2.user_id, False)
    assert _five_failures(station, "olga") == known


def test_admin_unlocks_a_locked_name(station: Station, world: World) -> None:
    _five_failures(station, "admin")
    with pytest.raises(AccountLocked):
        station.auth.sign_in("admin", PASSWORD)
    # Another admin lifts it (the station's command line can too: main.py unlock).
    station.users.set_role(world.admin, world.supervisor.user_id, Role.ADMIN)
    sue = station.auth.sign_in("sue", PASSWORD)
    assert station.users.unlock(sue, world.admin.user_id).locked_until is None
    assert station.auth.sign_in("admin", PASSWORD).username == "admin"


def test_success_resets_the_counter(station: Station, world: World) -> None:
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                station.auth.sign_in("otto", "wrong password")
        station.auth.sign_in("otto", PASSWORD)
    assert station.users.get(world.admin, world.operator.user_id).failed_attempts == 0


def test_sign_in_finds_the_name_however_it_is_typed(station: Station, world: World) -> None:
    """Issue 9 item 13: case, width and invisible characters do not make another name, and the
    throttle counts them as one name."""
    for typed in ("OTTO", "Otto", " otto ", "\uff4f\uff54\uff54\uff4f", "ot\u200bto"):
        assert station.auth.sign_in(typed, PASSWORD) == world.operator
    for typed in ("OTTO", "Otto", "otto", "ｏｔｔｏ"):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            station.auth.sign_in(typed, "wrong password")
    with pytest.raises(AccountLocked):
        station.auth.sign_in("OtTo", "wrong password")


def test_odd_input_is_a_wrong_password_not_a_crash(station: Station, world: World) -> None:
    """A lone surrogate (a broken paste), a NUL or an absurdly long name: the same clean answer."""
    for name, password in (("otto", "bad\ud800pw"), ("ot\udcffto", PASSWORD),
                           ("otto\x00", PASSWORD), ("x" * 100_000, PASSWORD), (None, None)):
        with pytest.raises(InvalidCredentials):
            station.auth.sign_in(name, password)  # type: ignore[arg-type]
    assert station.auth.sign_in("otto", PASSWORD).username == "otto"


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
