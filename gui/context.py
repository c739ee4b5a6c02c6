"""What every panel is given: settings, the data facade, who is signed in, the inference worker.

There is no global station, actor or model: ``run_gui`` builds one ``AppContext`` per sign-in and
passes it into the main window, which passes it into each panel. A switch of user builds a new
context (and a new window) around the same station and the same inference worker.

Threading: an ``AppContext`` is immutable and may be read from any thread. The ``station``
services are thread-safe (each call opens its own short transaction); ``inference`` is a QObject
living on the GUI thread and must only be driven through its signals/slots (see gui/inference.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from db.permissions import Actor, Role, allowed

if TYPE_CHECKING:  # the types only: importing them here must not load the database or the engine
    from core.settings import Settings


@dataclass(frozen=True)
class AppContext:
    """Dependencies of a panel. ``log_path`` is the file that person-facing errors point at."""

    settings: Settings
    station: Any          # db.Station: the facade over users, catalogue, inspections, stats, models
    actor: Actor          # the signed-in user; passed first to every service call
    inference: Any        # gui.inference's long-lived worker (owns the model); None in admin-only tools
    log_path: Path

    @property
    def role(self) -> Role:
        return self.actor.role

    def can(self, action: str) -> bool:
        """Whether the signed-in role may do ``action`` (a key of db.permissions.MATRIX).

        For showing or hiding controls only: the services check again on every call, so a
        control that forgot to hide still gets ``PermissionDenied``.
        """
        return allowed(self.actor.role, action)

    def for_actor(self, actor: Actor) -> AppContext:
        """The same station and worker for another signed-in user (switch user)."""
        return replace(self, actor=actor)


def database_text(settings: Settings) -> str:
    """Where the database is, for a person: the SQLite file, or the server URL without its
    password (``db.database.display_url``)."""
    from db.database import SQLITE_FILE, display_url

    return display_url(settings.db_url) if settings.db_url else str(settings.data_dir / SQLITE_FILE)
