"""User management: roles, (de)activation, the last-admin rule, passwords."""
from __future__ import annotations

import pytest

from db import AccountLocked, Conflict, InvalidCredentials, PermissionDenied, Role, Station, ValidationError
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
