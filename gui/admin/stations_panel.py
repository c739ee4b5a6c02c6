"""The site's stations (supervisors and admins): each station's name, host, last contact, and the
product and model of its latest can, so a supervisor sees at a glance which station runs which
model after a rollout, and which one has gone quiet. Admins retire a station whose machine is
gone (its name is then free for the replacement).

Threading: GUI thread only (one short read per reload).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PyQt5.QtGui import QColor

from db.dto import StationInfo
from gui.admin.catalog_panel import CatalogPanel
from gui.context import AppContext
from gui.table_models import Column
from gui.theme import REJECT_COLOUR

QUIET = timedelta(minutes=2)       # a running station beats every 30 s


def _local(t: datetime | None) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S") if t else "never"


def _state(s: StationInfo, now: datetime | None = None) -> str:
    if s.retired:
        return "retired"
    if not s.claimed:
        return "known from old inspections"
    now = now or datetime.now(timezone.utc)
    return "running" if s.last_contact and now - s.last_contact <= QUIET else "quiet"


def _state_colour(s: StationInfo) -> QColor | None:
    return QColor(REJECT_COLOUR) if _state(s) == "quiet" else None


COLUMNS = (
    Column("Station", lambda s: s.name),
    Column("State", _state, foreground=_state_colour),
    Column("Last contact", lambda s: _local(s.last_contact),
           sort=lambda s: s.last_contact or datetime.min.replace(tzinfo=timezone.utc)),
    Column("Product", lambda s: s.product_sku or ""),
    Column("Model", lambda s: f"{s.model_name} {s.model_version}" if s.model_name else ""),
    Column("Model since", lambda s: _local(s.model_since) if s.model_since else ""),
    Column("Host", lambda s: s.host),
)


class StationsPanel(CatalogPanel):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, "Stations", "The site's stations: their last contact and the model "
                         "of their latest can. A model activated for a product reaches every "
                         "station before its next can.", COLUMNS,
                         lambda: ctx.station.stations.list(ctx.actor))
        self.add_button("Refresh", "refreshButton", lambda: self.reload(), needs_selection=False)
        if ctx.can("station.manage"):
            self.retire_button = self.add_button("Retire", "retireButton", self.retire)

    def retire(self) -> None:
        s = self.selected()
        if s is None:
            return
        service, actor = self.ctx.station.stations, self.ctx.actor
        verb = "Bring back" if s.retired else "Retire"
        self.confirm(f"{verb} station {s.name}? A retired station's name may be taken by "
                     "another machine; its inspections keep naming it.",
                     lambda: self.call_service("retiring a station",
                                               lambda: service.retire(actor, s.id,
                                                                      not s.retired)),
                     yes_text=verb)
