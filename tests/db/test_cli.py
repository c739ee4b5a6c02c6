"""The db command-line jobs: create-admin (first start only) and users."""
from __future__ import annotations

import argparse
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from db import Station, cli
from tests.db.conftest import FAST_HASHER


@dataclass
class FakeSettings:            # the two attributes of core.settings.Settings that db reads
    data_dir: Path
    db_url: str | None = None


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Station.open.__func__
    monkeypatch.setattr(Station, "open", classmethod(
        lambda cls, url, data_dir, **kw: real(cls, url, data_dir,
                                              password_hasher=FAST_HASHER, **kw)))


def test_create_admin_from_stdin_then_refuses_a_second(tmp_path: Path) -> None:
    settings = FakeSettings(tmp_path)
    args = _parse(["create-admin", "--username", "boss", "--password-stdin"])
    out = io.StringIO()
    assert args.run(args, settings, stdin=io.StringIO("a good password\n"), out=out) == 0
    assert "boss" in out.getvalue()
    station = Station.open(None, tmp_path)
    assert station.auth.sign_in("boss", "a good password").username == "boss"
    station.close()
    out = io.StringIO()
    assert args.run(args, settings, stdin=io.StringIO("another password\n"), out=out) == 1
    assert "exist" in out.getvalue()


def test_create_admin_prompts_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["first password", "other password"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    args = _parse(["create-admin", "--username", "boss"])
    out = io.StringIO()
    assert args.run(args, FakeSettings(tmp_path), out=out) == 1
    assert "differ" in out.getvalue()
    answers = iter(["short", "short"])
    assert args.run(args, FakeSettings(tmp_path), out=out) == 1
    assert "at least 8" in out.getvalue()
    station = Station.open(None, tmp_path)
    assert not station.auth.has_users()
    station.close()


def test_users_lists_accounts(tmp_path: Path) -> None:
    args = _parse(["users"])
    out = io.StringIO()
    assert args.run(args, FakeSettings(tmp_path), out=out) == 0
    assert "create-admin" in out.getvalue()
    station = Station.open(None, tmp_path)
    station.auth.create_first_admin("boss", "a good password")
    station.close()
    out = io.StringIO()
    assert args.run(args, FakeSettings(tmp_path), out=out) == 0
    assert out.getvalue().split()[:3] == ["boss", "admin", "active"]


def test_unreachable_database_is_a_clean_error(tmp_path: Path) -> None:
    settings = FakeSettings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    args = _parse(["create-admin", "--username", "boss", "--password-stdin"])
    out = io.StringIO()
    assert args.run(args, settings, stdin=io.StringIO("a good password\n"), out=out) == 2
    assert out.getvalue().startswith("error: The database postgresql+psycopg://nobody@127.0.0.1:1"
                                     "/none cannot be reached")


def test_unlock_from_the_command_line(tmp_path: Path) -> None:
    """The way back in when the only admin's name is locked (issue 9 item 12)."""
    from db import AccountLocked, InvalidCredentials
    station = Station.open(None, tmp_path)
    station.auth.create_first_admin("boss", "a good password")
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            station.auth.sign_in("boss", "wrong guess here")
    with pytest.raises(AccountLocked):
        station.auth.sign_in("boss", "a good password")
    station.close()
    args = _parse(["unlock", "BOSS"])
    out = io.StringIO()
    assert args.run(args, FakeSettings(tmp_path), out=out) == 0
    assert "unlocked" in out.getvalue()
    station = Station.open(None, tmp_path)
    assert station.auth.sign_in("boss", "a good password").username == "boss"
    audit = station.audit.list(station.auth.sign_in("boss", "a good password"),
                               action="user.unlock")
    assert audit[0].username == "system" and audit[0].details["via"] == "command line"
    station.close()


def test_stats_check_finds_a_wrong_count_and_stats_rebuild_mends_it(tmp_path: Path) -> None:
    from sqlalchemy import text

    from tests.db.helpers import new_inspection, populate
    station = Station.open(None, tmp_path)
    world = populate(station)
    station.inspections.record(world.operator, new_inspection(world.product_id, "a", "reject",
                                                              bad_sides=("top",)))
    with station.database.write() as s:
        s.execute(text("UPDATE stats_hours SET reject = 0"))
    station.close()
    settings = FakeSettings(tmp_path)
    check, rebuild = _parse(["stats-check"]), _parse(["stats-rebuild"])
    out = io.StringIO()
    assert check.run(check, settings, out=out) == 1
    assert "stored total 1, passed 0, review 0, reject 0" in out.getvalue()
    assert "rows total 1, passed 0, review 0, reject 1" in out.getvalue()
    out = io.StringIO()
    assert rebuild.run(rebuild, settings, out=out) == 0
    assert "1 can rows, 7 side rows" in out.getvalue()
    out = io.StringIO()
    assert check.run(check, settings, out=out) == 0
    assert "agree" in out.getvalue()
