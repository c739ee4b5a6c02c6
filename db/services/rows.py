"""Reading inspection rows into DTOs, shared by the inspection services and the export."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session

from db.database import from_db_time
from db.dto import SideResultInfo
from db.schema import Inspection, Product, SideResult, User, Warehouse
from db.stores.base import ImageStore

HEATMAP_EXT = "png"
MASK_EXT = "png"          # a drawn defect: 8-bit grey, defect > 127


def station_day(started: datetime) -> date:
    """The calendar day of ``started`` where this station runs (naive times are taken as UTC).
    Migration 0002 back-fills old rows with the same rule."""
    if started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return started.astimezone().date()


def referenced_shas(s: Session, shas: Iterable[str]) -> set[str]:
    """Which of ``shas`` some row still points to (images, heatmaps, masks, thumbnails)."""
    shas = list(shas)
    if not shas:
        return set()
    q: Any = union(select(SideResult.image_sha).where(SideResult.image_sha.in_(shas)),
              select(SideResult.heatmap_sha).where(SideResult.heatmap_sha.in_(shas)),
              select(SideResult.mask_sha).where(SideResult.mask_sha.in_(shas)),
              select(Inspection.thumbnail_sha).where(Inspection.thumbnail_sha.in_(shas)))
    return {row[0] for row in s.execute(q)}


def row_query() -> Select[Inspection, str, str, str, str]:
    return (select(Inspection, Product.sku, Product.name, Warehouse.name, User.username)
            .join(Product, Inspection.product_id == Product.id)
            .join(Warehouse, Inspection.warehouse_id == Warehouse.id)
            .join(User, Inspection.operator_id == User.id))


def row_fields(files: ImageStore, i: Inspection, sku: str, pname: str, wname: str,
                uname: str) -> dict:
    return dict(id=i.id, product_id=i.product_id, product_sku=sku, product_name=pname,
                warehouse_id=i.warehouse_id, warehouse_name=wname, operator_id=i.operator_id,
                operator_name=uname, station_name=i.station_name,
                started=from_db_time(i.started), finished=from_db_time(i.finished), day=i.day,
                model_name=i.model_name, model_version=i.model_version,
                machine_verdict=i.verdict, corrected_verdict=i.corrected_verdict,
                verdict=i.final_verdict,
                thumbnail_path=files.path(i.thumbnail_sha, i.thumbnail_ext or "")
                if i.thumbnail_sha else None)


def side_info(files: ImageStore, r: SideResult) -> SideResultInfo:
    return SideResultInfo(
        id=r.id, position=r.position, side_name=r.side_name, image_sha256=r.image_sha,
        image_path=files.path(r.image_sha, r.image_ext), heatmap_sha256=r.heatmap_sha,
        heatmap_path=files.path(r.heatmap_sha, HEATMAP_EXT) if r.heatmap_sha else None,
        score=r.score, label=r.label, corrected_label=r.corrected_label, outcome=r.outcome,
        boxes=json.loads(json.dumps(r.boxes)), reason=r.reason or "",
        region=json.loads(json.dumps(r.region)) if r.region is not None else None)
