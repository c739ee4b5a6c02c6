"""The panels of the main window: title, who sees it, how to build it (``PANELS``).

Each builder imports its module when called: the panel modules may load heavy things
(matplotlib, the camera) that a role without that panel never needs. Who sees a panel is read
from ``db.permissions`` through ``AppContext.can`` (the matrix the services enforce).

Threading: GUI thread only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtWidgets import QWidget

from gui.context import AppContext


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    shown: Callable[[AppContext], bool]
    build: Callable[[AppContext], QWidget]


def _capture(ctx: AppContext) -> QWidget:
    from gui.capture.panel import CapturePanel
    return CapturePanel(ctx)


def _line(ctx: AppContext) -> QWidget:
    from gui.line.panel import LinePanel
    return LinePanel(ctx)


def _gallery(ctx: AppContext) -> QWidget:
    from gui.gallery.panel import GalleryPanel
    return GalleryPanel(ctx)


def _stats(ctx: AppContext) -> QWidget:
    from gui.stats_panel import StatsPanel
    return StatsPanel(ctx)


def _users(ctx: AppContext) -> QWidget:
    from gui.admin.users_panel import UsersPanel
    return UsersPanel(ctx)


def _warehouses(ctx: AppContext) -> QWidget:
    from gui.admin.warehouses_panel import WarehousesPanel
    return WarehousesPanel(ctx)


def _products(ctx: AppContext) -> QWidget:
    from gui.admin.products_panel import ProductsPanel
    return ProductsPanel(ctx)


def _audit(ctx: AppContext) -> QWidget:
    from gui.admin.audit_panel import AuditPanel
    return AuditPanel(ctx)


def _models(ctx: AppContext) -> QWidget:
    from gui.models.panel import ModelsPanel
    return ModelsPanel(ctx)


def _stations(ctx: AppContext) -> QWidget:
    from gui.admin.stations_panel import StationsPanel
    return StationsPanel(ctx)


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("capture", "Capture and inspect", lambda c: c.can("inspection.record"), _capture),
    # Line mode only where the station is wired to a line (docs/LINE.md: <data folder>/line.json).
    PanelSpec("line", "Line (PLC)", lambda c: c.can("inspection.record")
              and (Path(c.settings.data_dir) / "line.json").is_file(), _line),
    # Operators browse their own inspections in the same gallery; supervisors see everyone's.
    PanelSpec("my_inspections", "My inspections",
              lambda c: c.can("inspection.view_own") and not c.can("inspection.view_all"), _gallery),
    PanelSpec("gallery", "Gallery", lambda c: c.can("inspection.view_all"), _gallery),
    PanelSpec("stats", "Statistics", lambda c: c.can("stats.view"), _stats),
    PanelSpec("users", "Users", lambda c: c.can("user.manage"), _users),
    PanelSpec("warehouses", "Warehouses", lambda c: c.can("warehouse.manage"), _warehouses),
    PanelSpec("products", "Products", lambda c: c.can("product.manage"), _products),
    PanelSpec("models", "Models", lambda c: c.can("model.manage"), _models),
    PanelSpec("audit", "Audit log", lambda c: c.can("audit.view"), _audit),
    PanelSpec("stations", "Stations", lambda c: c.can("station.view"), _stations),
)
