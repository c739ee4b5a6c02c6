"""Roles, the signed-in actor, and THE permission matrix (the only place that says who may do what).

Services call :func:`require` with the role stored in the database (not the role the caller's
``Actor`` claims), so a demoted or deactivated user loses rights at once. ``docs/DB.md`` carries
:func:`matrix_markdown`'s output; a test checks the two agree.

Everything here is immutable and safe to use from any thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from db.errors import PermissionDenied


class Role(str, Enum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """Who is calling a service: returned by ``auth.sign_in``, passed first to every service method.

    ``must_change_password``: an admin asked this user for a new password; the GUI asks for it
    at once (``users.change_own_password``), and every other service call is refused with
    ``PasswordChangeRequired`` until then (the services read the flag from the database).
    """

    user_id: int
    username: str
    role: Role
    must_change_password: bool = False


_ALL = frozenset(Role)
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
_ADMINS = frozenset({Role.ADMIN})

# action -> (roles allowed, what it covers). Order is the order of the README table.
MATRIX: dict[str, tuple[frozenset[Role], str]] = {
    "inspection.record": (_ALL, "record an inspection (capture)"),
    "inspection.view_own": (_ALL, "view and browse one's own inspections"),
    "inspection.view_all": (_SUPERVISORS, "view and browse everyone's inspections"),
    "inspection.export": (_SUPERVISORS, "export inspections as CSV"),
    "inspection.training_labels": (_SUPERVISORS, "read labelled side images for training"),
    "correction.create": (_SUPERVISORS, "correct the verdict of a side or a can"),
    "stats.view": (_SUPERVISORS, "statistics (defect rates)"),
    "catalog.view": (_ALL, "list warehouses, products and models; a product's active model"),
    "user.change_own_password": (_ALL, "change one's own password"),
    "inspection.delete": (_ADMINS, "delete an inspection and its files"),
    "user.manage": (_ADMINS, "create, list, change role of, (de)activate, unlock, reset users"),
    "warehouse.manage": (_ADMINS, "create, edit, delete warehouses"),
    "product.manage": (_ADMINS, "create, edit, move, delete products; change stock"),
    "model.manage": (_ADMINS, "register, publish, activate, set thresholds of, delete models"),
    "audit.view": (_ADMINS, "read the audit log"),
    "station.view": (_SUPERVISORS, "list the site's stations, their last contact and model"),
    "station.manage": (_ADMINS, "retire a station (frees its name for another)"),
}


def allowed(role: Role, action: str) -> bool:
    return role in MATRIX[action][0]


def require(role: Role, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` may do ``action`` (KeyError for a typo)."""
    if not allowed(role, action):
        raise PermissionDenied(action)


def matrix_markdown() -> str:
    """The permission matrix as a Markdown table (generated into docs/DB.md)."""
    roles = list(Role)
    lines = ["| action | covers | " + " | ".join(r.value for r in roles) + " |",
             "|---|---|" + "---|" * len(roles)]
    for action, (who, covers) in MATRIX.items():
        marks = " | ".join("yes" if r in who else "–" for r in roles)
        lines.append(f"| `{action}` | {covers} | {marks} |")
    return "\n".join(lines)

