"""Command-line jobs of the db layer, registered into main.py's sub-commands.

    main.py create-admin [--username NAME] [--password-stdin]
    main.py users

Each job is ``run(args, settings) -> exit code``; ``settings`` is core's Settings object, used
only for ``.data_dir`` and ``.db_url`` (db does not import core). Messages go to stderr; errors
exit non-zero.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Protocol, TextIO

from db.errors import StationDataError
from db.station import Station


class StationSettings(Protocol):
    """The two attributes of ``core.settings.Settings`` the db jobs read (db does not import core)."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def db_url(self) -> str | None: ...


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("create-admin", help="create the first admin account (first start)")
    p.add_argument("--username", default=None, help="user name (asked for when left out)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")
    p.set_defaults(run=run_create_admin)
    p = subparsers.add_parser("users", help="list the user accounts (no passwords)")
    p.set_defaults(run=run_users)


def _open(settings: StationSettings) -> Station:
    return Station.open(settings.db_url, Path(settings.data_dir))


def run_create_admin(args: argparse.Namespace, settings: StationSettings, *, stdin: TextIO | None = None,
                     out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stderr
    try:
        station = _open(settings)
    except StationDataError as exc:
        print(f"error: {exc}", file=out)
        return 2
    try:
        if station.auth.has_users():
            print("error: accounts exist already; an admin adds users from the station "
                  "(create-admin is only for the first start).", file=out)
            return 1
        username = args.username or input("Admin user name: ").strip()
        if args.password_stdin:
            password = stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != password:
                print("error: the two passwords differ; nothing was created.", file=out)
                return 1
        actor = station.auth.create_first_admin(username, password)
        print(f"Created admin {actor.username!r}. Sign in with it to add more users.", file=out)
        return 0
    except StationDataError as exc:
        print(f"error: {exc}", file=out)
        return 1
    finally:
        station.close()


def run_users(args: argparse.Namespace, settings: StationSettings, *, out: TextIO | None = None) -> int:
    """List accounts without signing in: whoever can run commands on this machine can read the
    database file anyway; for PostgreSQL the database user's rights decide."""
    out = out or sys.stdout
    try:
        station = _open(settings)
    except StationDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        from sqlalchemy import select

        from db.schema import User
        with station.database.read() as s:
            rows = s.execute(select(User.username, User.role, User.active, User.locked_until)
                             .order_by(User.username)).all()
        if not rows:
            print("No accounts yet: run `main.py create-admin`.", file=out)
        for name, role, active, locked in rows:
            state = "active" if active else "inactive"
            if locked is not None and locked > station.database.now_naive():
                state += f", locked until {locked:%Y-%m-%d %H:%M} UTC"
            print(f"{name:<24} {role:<11} {state}", file=out)
        return 0
    finally:
        station.close()
