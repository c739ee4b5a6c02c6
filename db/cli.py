"""Command-line jobs of the db layer, registered into main.py's sub-commands.

    main.py create-admin [--username NAME] [--password-stdin]
    main.py users
    main.py unlock NAME            lift a sign-in lock (e.g. when the only admin is locked out)
    main.py sweep [--confirm]      remove photo files no inspection refers to
    main.py stats-check            compare the statistics' hourly counts with the inspections
    main.py stats-rebuild          recompute the statistics' hourly counts from the inspections

Each job is ``run(args, settings) -> exit code``; ``settings`` is core's Settings object, used
only for ``.data_dir`` and ``.db_url`` (db does not import core). Messages go to stderr; errors
meant for a person (every ``common.errors.PersonFacingError``) are one line and exit non-zero.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO

from common.errors import PersonFacingError
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
    p = subparsers.add_parser("unlock", help="lift the sign-in lock of a user name (for when "
                                             "no admin can sign in)")
    p.add_argument("name", help="the user name (as typed at sign-in)")
    p.set_defaults(run=run_unlock)
    p = subparsers.add_parser("sweep", help="remove photo files that no inspection refers to; "
                                            "without --confirm only count them")
    p.add_argument("--confirm", action="store_true",
                   help="remove them even when they are many (the start-up sweep holds back "
                        "when more than a small share of the photos would go)")
    p.set_defaults(run=run_sweep)
    p = subparsers.add_parser("stats-check", help="compare the statistics' hourly counts with the "
                                                  "inspections and list the differences")
    p.set_defaults(run=run_stats_check)
    p = subparsers.add_parser("stats-rebuild", help="recompute the statistics' hourly counts from "
                                                    "the inspections (recording waits meanwhile)")
    p.set_defaults(run=run_stats_rebuild)


def _open(settings: StationSettings) -> Station:
    return Station.from_settings(settings)


def _with_station(settings: StationSettings, out: TextIO, job: Callable[[Station], int]) -> int:
    """Open the station, run ``job`` on it and close it. A person-facing error (db's errors and
    StorageFull) is one line on ``out``: exit 2 when the station does not open, 1 from the job."""
    try:
        station = _open(settings)
    except PersonFacingError as exc:
        print(f"error: {exc}", file=out)
        return 2
    try:
        return job(station)
    except PersonFacingError as exc:
        print(f"error: {exc}", file=out)
        return 1
    finally:
        station.close()


def run_create_admin(args: argparse.Namespace, settings: StationSettings, *, stdin: TextIO | None = None,
                     out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stderr

    def job(station: Station) -> int:
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

    return _with_station(settings, out, job)


def run_users(args: argparse.Namespace, settings: StationSettings, *, out: TextIO | None = None) -> int:
    """List accounts without signing in: whoever can run commands on this machine can read the
    database file anyway; for PostgreSQL the database user's rights decide."""
    out = out or sys.stdout
    try:
        station = _open(settings)
    except PersonFacingError as exc:   # db's errors and StorageFull
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        from sqlalchemy import select

        from db.schema import User
        from db.services.users import user_info
        with station.database.read() as s:
            users = [user_info(s, u) for u in s.scalars(select(User).order_by(User.username))]
        if not users:
            print("No accounts yet: run `main.py create-admin`.", file=out)
        now = station.database.now()
        for u in users:
            state = "active" if u.active else "inactive"
            if u.locked_until is not None and u.locked_until > now:
                state += f", locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"
            if u.must_change_password:
                state += ", must choose a new password"
            print(f"{u.username:<24} {u.role.value:<11} {state}", file=out)
        return 0
    finally:
        station.close()


def run_unlock(args: argparse.Namespace, settings: StationSettings, *, out: TextIO | None = None) -> int:
    """Whoever can run commands on the station's machine can read the database anyway; this is
    the way back in when the only admin's name is locked (the lock answers every name alike)."""
    out = out or sys.stderr

    def job(station: Station) -> int:
        lifted = station.auth.unlock_name(args.name)
        print(f"Sign-in for {args.name!r} is unlocked." if lifted else
              f"{args.name!r} was not locked.", file=out)
        return 0

    return _with_station(settings, out, job)


def run_sweep(args: argparse.Namespace, settings: StationSettings, *, out: TextIO | None = None) -> int:
    out = out or sys.stderr

    # Opening the station runs the start-up sweep (which holds back if it would remove too many).
    def job(station: Station) -> int:
        if not args.confirm:
            report = station.sweep_report
            if report is not None and report.held:
                print(report.message, file=out)
                return 1
            print("No large number of unreferenced photo files; nothing waits for a "
                  "confirmation.", file=out)
            return 0
        report = station.sweep_files(full=True, confirmed=True)
        print(f"Removed {report.removed_orphans} photo files no inspection refers to and "
              f"{report.removed_temps} temporary files; {report.kept} files are in use.",
              file=out)
        return 0

    return _with_station(settings, out, job)


def run_stats_check(args: argparse.Namespace, settings: StationSettings, *,
                    out: TextIO | None = None) -> int:
    """Exit 0 when the counts agree with the rows, 1 with the differences listed."""
    out = out or sys.stderr

    def job(station: Station) -> int:
        from db import rollup
        with station.database.read() as s:
            found = rollup.differences(s)
        if not found:
            print("The statistics' hourly counts agree with the inspections.", file=out)
            return 0
        for line in found:
            print(line, file=out)
        print(f"{len(found)} difference(s) shown; `main.py stats-rebuild` recomputes the counts.",
              file=out)
        return 1

    return _with_station(settings, out, job)


def run_stats_rebuild(args: argparse.Namespace, settings: StationSettings, *,
                      out: TextIO | None = None) -> int:
    out = out or sys.stderr

    def job(station: Station) -> int:
        from db import rollup
        with station.database.write() as s:
            cans, sides = rollup.rebuild(s)
        print(f"Recomputed the statistics' hourly counts: {cans} can rows, {sides} side rows.",
              file=out)
        return 0

    return _with_station(settings, out, job)
