"""The site's stations: each has a name (unique however it is typed) and an id it keeps in its data
folder (``<data_dir>/station-id``, a uuid4 made at its first start).

``Station.open(..., station_name=...)`` registers the station (:meth:`StationService.register`):
a new name adds a row; the same id under a new name renames its row; a name only known from
inspections recorded before revision 0004 (no id yet) is claimed by the first station that starts
with it, as is the name of a retired station; a name another running station holds is refused
(``StationNameTaken``). Each recorded can updates its station's last contact and the product and
model it ran (db.services.inspections); :meth:`heartbeat` keeps the contact fresh when no can
comes. Supervisors and admins list the stations (``station.view``); admins retire one
(``station.manage``), which frees its name for a replacement machine.

Threading: every method is safe to call from any thread (one short transaction per call).
"""
from __future__ import annotations

import builtins
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.atomic import write_bytes
from db.database import from_db_time
from db.dto import StationInfo
from db.errors import StationNameTaken, ValidationError
from db.names import name_key
from db.permissions import Actor
from db.schema import Model, Product, SiteStation
from db.services._base import Service, clean_text

ID_FILE = "station-id"


def station_uid(data_dir: Path) -> str:
    """This station's id, made (and written atomically) at its first start."""
    path = Path(data_dir) / ID_FILE
    try:
        return str(uuid.UUID(path.read_text(encoding="ascii", errors="replace").strip()))
    except FileNotFoundError:
        pass
    except ValueError:
        raise ValidationError("station_name", f"The file {path} should hold this station's id "
                              "but is damaged. Delete it: the station then gets a new id (an "
                              "admin may have to retire its old entry under Stations).") from None
    uid = str(uuid.uuid4())
    write_bytes(path, (uid + "\n").encode("ascii"), where=data_dir)
    return uid


def station_info(s: Session, r: SiteStation) -> StationInfo:
    product = s.get(Product, r.product_id) if r.product_id is not None else None
    model = s.get(Model, r.model_id) if r.model_id is not None else None
    return StationInfo(id=r.id, name=r.name, host=r.host, first_seen=from_db_time(r.first_seen),
                       last_contact=from_db_time(r.last_contact), product_id=r.product_id,
                       product_sku=product.sku if product else None, model_id=r.model_id,
                       model_name=model.name if model else None,
                       model_version=model.version if model else None,
                       model_since=from_db_time(r.model_since), retired=bool(r.retired),
                       claimed=r.uid is not None)


class StationService(Service):
    def register(self, uid: str, name: str, host: str = "") -> StationInfo:
        """At start, by the station itself (no user yet); audited as "system" when it adds,
        claims or renames a row. ``StationNameTaken`` when another running station has the
        name."""
        name = clean_text(name, "station_name", 128)
        key = name_key(name)
        host = clean_text(host, "host", 255, required=False)
        with self._db.write() as s:
            mine = self._locked(s, SiteStation.uid == uid)
            holder = self._locked(s, SiteStation.name_key == key)
            now = self._db.now_naive()
            if holder is not None and holder is not mine:
                if holder.uid is not None and not holder.retired:
                    raise StationNameTaken(self._taken(name, holder))
                if mine is None:          # claim the unclaimed or retired name
                    holder.uid, mine, what = uid, holder, "station.claim"
                else:                     # free it: the retired/unclaimed row keeps history
                    holder.name_key = f"{key} #{holder.id}"[:512]
                    s.flush()             # before another row takes the key
                    what = "station.rename"
            elif mine is None:
                mine = SiteStation(uid=uid, name=name, name_key=key, first_seen=now)
                s.add(mine)
                what = "station.register"
            else:
                what = "station.rename" if mine.name != name else ""
            old = mine.name
            mine.name, mine.name_key, mine.host = name, key, host
            mine.last_contact, mine.retired = now, False
            s.flush()
            if what:
                self._audit(s, None, what, f"station:{mine.id}", name=name, old_name=old,
                            host=host)
            return station_info(s, mine)

    def heartbeat(self, station_id: int) -> None:
        """The station is alive (called every half minute by the running station)."""
        with self._db.write() as s:
            row = s.get(SiteStation, station_id)
            if row is not None:
                row.last_contact = self._db.now_naive()

    def list(self, actor: Actor) -> builtins.list[StationInfo]:
        with self._db.read() as s:
            self._authorize(s, actor, "station.view")
            rows = s.scalars(select(SiteStation).order_by(SiteStation.retired,
                                                          SiteStation.name_key)).all()
            return [station_info(s, r) for r in rows]

    def retire(self, actor: Actor, station_id: int, retired: bool = True) -> StationInfo:
        """Mark a station retired (its name may be taken by another machine) or back."""
        with self._db.write() as s:
            me = self._authorize(s, actor, "station.manage")
            row = self._get(s, SiteStation, station_id, "Station", lock=True)
            row.retired = bool(retired)
            self._audit(s, me, "station.retire" if retired else "station.unretire",
                        f"station:{row.id}", name=row.name)
            s.flush()
            return station_info(s, row)

    @staticmethod
    def _locked(s: Session, where: object) -> SiteStation | None:
        return s.execute(select(SiteStation).where(where)   # type: ignore[arg-type]
                         .with_for_update()).scalar_one_or_none()

    @staticmethod
    def _taken(name: str, holder: SiteStation) -> str:
        seen = from_db_time(holder.last_contact)
        when = seen.astimezone().strftime("%Y-%m-%d %H:%M") if seen else "never"
        return (f"Another station of this site is already named {name!r} (host "
                f"{holder.host or 'unknown'}, last contact {when}). Give this station another "
                "name (the station_name setting or STATION_STATION_NAME), or, if it replaces "
                "that machine, ask an admin to retire the old one under Admin → Stations.")
