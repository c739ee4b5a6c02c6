"""The running station's link to its site: a heartbeat (the station's last contact, for the admin
view of stations) and the download of every model that is active for a product, so that a model
rolled out to the site is on this station, verified, before the next can needs it.

The switch itself happens where a can starts: the GUI asks for the product's active model at every
Inspect, and the line's inspector prepares the model of each product it is given
(``station.site_models.ensure``); both load it on their own thread between two cans, never in the
middle of one.

Threading: ``start``/``stop`` from the owner's thread; the work runs on one daemon thread
(``site-sync``), which calls only thread-safe station services.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from common.errors import PersonFacingError

if TYPE_CHECKING:
    from db import Station

log = logging.getLogger(__name__)

INTERVAL_S = 30.0


class SiteSync:
    def __init__(self, station: Station, interval_s: float = INTERVAL_S) -> None:
        self._station = station
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (nothing to do for a station that is not registered)."""
        if self._station.station_id is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="site-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> list[str]:
        """One heartbeat and one look for models to bring; returns the folders brought."""
        station_id = self._station.station_id
        if station_id is not None:
            self._station.stations.heartbeat(station_id)
        return self._station.site_models.prefetch()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for folder in self.run_once():
                    log.info("a model rolled out to the site is ready here: %s", folder)
            except PersonFacingError as exc:   # the database or the store is away: next time
                log.warning("site sync: %s", exc)
            except Exception:  # the thread must outlive one bad round (logged with its traceback)
                log.exception("site sync failed; trying again in %.0f s", self._interval)
            self._stop.wait(self._interval)
