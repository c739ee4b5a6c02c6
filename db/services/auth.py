"""Signing in and creating the first admin.

Rules: sign-in finds the account by the normalised name (``OTTO`` signs in as ``otto``). Failed
sign-ins are counted per typed name (its normalised key), whether or not an account has that
name, so the answers never tell which names exist: a wrong password, an unknown name and a
disabled account all get "Wrong user name or password.", and five failures in a row lock the NAME
for a while, known or not (1 minute the first time, then 5, then 15 minutes for each further five
failures; the count of lock-outs is forgotten after a day without failures). While locked, even
the right password waits. An admin lifts a lock at once (``users.unlock``, or ``main.py unlock``
on the station's machine when no other admin can sign in). Every success and failure is audited.
No account and no password exist until the first admin is created explicitly.

Threading: safe to call from any thread; each call is one short transaction (plus the password
hash, which takes tens of milliseconds by design: call it from a worker thread in the GUI).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.database import Database, from_db_time
from db.errors import AccountLocked, Conflict, InvalidCredentials
from db.names import has_lone_surrogate, name_key, throttle_key
from db.passwords import PasswordHasher, check_policy
from db.permissions import Actor, Role
from db.schema import AuditEvent, SignInThrottle, User
from db.services._base import SYSTEM, Service
from db.services.users import check_username, find_by_name

MAX_FAILED_ATTEMPTS = 5
LOCK_STEPS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
LOCKOUTS_FORGOTTEN_AFTER = timedelta(days=1)
MAX_NAME_CHARS = 256     # longer input is no user name; it is throttled by its start


class AuthService(Service):
    def __init__(self, db: Database, hasher: PasswordHasher) -> None:
        super().__init__(db)
        self._hasher = hasher

    def has_users(self) -> bool:
        with self._db.read() as s:
            return s.execute(select(func.count(User.id))).scalar_one() > 0

    def create_first_admin(self, username: str, password: str) -> Actor:
        """Create the first account (an admin); refused with Conflict once any user exists."""
        username = check_username(username)
        check_policy(password, user_inputs=[username])
        password_hash = self._hasher.hash(password)   # slow: outside the transaction
        with self._db.write() as s:
            if not self._db.is_sqlite:
                # Two stations running the first-run dialog at once: only one may win.
                s.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
            if s.execute(select(func.count(User.id))).scalar_one() > 0:
                raise Conflict("An account already exists; sign in as an admin to add users.")
            now = self._db.now_naive()
            user = User(username=username, username_key=name_key(username),
                        password_hash=password_hash, role=Role.ADMIN.value, active=True,
                        must_change_password=False, created_at=now)
            s.add(user)
            s.flush()
            s.add(AuditEvent(at=now, user_id=user.id, username=SYSTEM,
                             action="user.create_first_admin", target=f"user:{user.id}",
                             details={"username": username}))
            return Actor(user.id, user.username, Role.ADMIN)

    def sign_in(self, username: str, password: str) -> Actor:
        """The signed-in Actor, or InvalidCredentials / AccountLocked (both audited).
        ``Actor.must_change_password`` tells the GUI to ask for a new password first."""
        name = username.strip()[:MAX_NAME_CHARS] if isinstance(username, str) else ""
        if has_lone_surrogate(name) or "\x00" in name:   # never a stored name; keep it storable
            name = name.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")
        password = password if isinstance(password, str) else ""
        with self._db.read() as s:
            found = find_by_name(s, name) if name else None
            stored = found.password_hash if found is not None else None
        # Verify outside the transaction (slow by design); unknown names verify against a dummy.
        ok = self._hasher.verify(stored, password)
        new_hash = (self._hasher.hash(password)
                    if ok and stored is not None and self._hasher.needs_rehash(stored) else None)
        error: Exception | None = None
        actor: Actor | None = None
        with self._db.write() as s:
            now = self._db.now_naive()
            throttle = _throttle_row(s, name)
            user = find_by_name(s, name, lock=True) if name else None
            if throttle.locked_until is not None and throttle.locked_until > now:
                self._audit_fail(s, user, name, "locked")
                error = AccountLocked(from_db_time(throttle.locked_until))
            elif user is not None and user.password_hash != stored:
                # The password changed between our read and now; do not judge on a stale hash.
                error = InvalidCredentials("Please try again.")
            elif user is None or not ok or not user.active:
                reason = ("unknown user" if user is None else
                          "wrong password" if not ok else "account disabled")
                until = _count_failure(throttle, now)
                s.add(throttle)
                if until is not None:
                    self._audit_fail(s, user, name, f"{reason}; name locked")
                    error = AccountLocked(from_db_time(until))
                else:
                    self._audit_fail(s, user, name, reason)
                    error = InvalidCredentials()
            else:
                if throttle in s:
                    s.delete(throttle)
                user.last_login_at = now
                if new_hash:
                    user.password_hash = new_hash
                s.add(AuditEvent(at=now, user_id=user.id, username=user.username,
                                 action="auth.sign_in", target=f"user:{user.id}", details={}))
                actor = Actor(user.id, user.username, Role(user.role),
                              must_change_password=bool(user.must_change_password))
        # Raised after the block so the counter and the audit event are committed.
        if error is not None:
            raise error
        assert actor is not None
        return actor

    def unlock_name(self, name: str) -> bool:
        """Lift the sign-in lock of a typed name, without an actor: for the station's command
        line (``main.py unlock``), run by someone with access to the machine. Audited as
        "system"; returns whether there was a lock."""
        name = name.strip() if isinstance(name, str) else ""
        with self._db.write() as s:
            row = s.get(SignInThrottle, throttle_key(name))
            locked = row is not None and row.locked_until is not None \
                and row.locked_until > self._db.now_naive()
            if row is not None:
                s.delete(row)
            user = find_by_name(s, name) if name else None
            self._audit(s, None, "user.unlock", f"user:{user.id}" if user else "",
                        name=name[:64], via="command line")
            return locked

    def _audit_fail(self, s: Session, user: User | None, name: str, reason: str) -> None:
        s.add(AuditEvent(at=self._db.now_naive(), user_id=user.id if user else None,
                         username=name[:64], action="auth.sign_in_failed",
                         target=f"user:{user.id}" if user else "", details={"reason": reason}))


def _throttle_row(s: Session, name: str) -> SignInThrottle:
    """The name's throttle row, locked (PostgreSQL), or a new one (added to the session only
    when a failure is counted)."""
    key = throttle_key(name)
    row = s.execute(select(SignInThrottle).where(SignInThrottle.name_hash == key)
                    .with_for_update()).scalar()
    return row or SignInThrottle(name_hash=key, failed_attempts=0, lockouts=0)


def _count_failure(t: SignInThrottle, now: datetime) -> datetime | None:
    """Count one failure; returns the end of the lock it starts, if it starts one."""
    if t.last_failed_at is not None and now - t.last_failed_at > LOCKOUTS_FORGOTTEN_AFTER:
        t.failed_attempts = 0
        t.lockouts = 0
    t.failed_attempts = (t.failed_attempts or 0) + 1
    t.last_failed_at = now
    if t.failed_attempts < MAX_FAILED_ATTEMPTS:
        return None
    step = LOCK_STEPS[min(t.lockouts or 0, len(LOCK_STEPS) - 1)]
    t.failed_attempts = 0
    t.lockouts = (t.lockouts or 0) + 1
    t.locked_until = now + step
    return t.locked_until
