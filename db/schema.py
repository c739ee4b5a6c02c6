"""The tables at the newest schema revision, as SQLAlchemy ORM classes (used only inside ``db``).

The migrations in ``db/migrations/versions`` are the source of truth for the stored schema;
``tests/db/test_migrations.py`` checks that these classes and the migrated database agree.
Datetimes are stored naive in UTC (portable between SQLite and PostgreSQL).

Every table whose ids the audit log names is AUTOINCREMENT on SQLite (revision 0003), so an id is
never handed out twice, even after the row with the highest id was deleted.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


KEY_LEN = 512                 # normalised name keys (db.names.name_key), revision 0003
_AUTOINC = {"sqlite_autoincrement": True}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    username_key: Mapped[str] = mapped_column(String(KEY_LEN))            # revision 0003
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(                   # revision 0003
        Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("uq_users_username_key", "username_key", unique=True), _AUTOINC)


class SignInThrottle(Base):
    """Failed sign-ins per typed name, whether or not an account has that name (revision 0003),
    so the answers never tell which names exist. Keyed by a hash of the name's key."""
    __tablename__ = "sign_in_throttle"
    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_failed_at: Mapped[datetime | None] = mapped_column(DateTime)


class StationMeta(Base):
    """Facts about the database itself (revision 0003): ``data_id`` ties it to its data folder."""
    __tablename__ = "station_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime)


class SiteStation(Base):
    """A station of the site (revision 0004): its name (unique however typed), the id it keeps in
    its data folder (``uid``; NULL for a station only known from old inspections, until a
    station with that name claims it), its last contact and what it runs now."""
    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(KEY_LEN))
    host: Mapped[str] = mapped_column(String(255), default="", server_default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_contact: Mapped[datetime | None] = mapped_column(DateTime)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL", name="fk_stations_product"))
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("models.id", ondelete="SET NULL", name="fk_stations_model"))
    model_since: Mapped[datetime | None] = mapped_column(DateTime)
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("uq_stations_uid", "uid", unique=True),
                      Index("uq_stations_name_key", "name_key", unique=True), _AUTOINC)


class PendingObject(Base):
    """An object being written to a shared photo store (revision 0004): journalled before the
    upload, removed in the transaction that commits the row naming it. What a crash leaves here
    is what the sweep removes (after a grace period), without listing the store."""
    __tablename__ = "pending_objects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha: Mapped[str] = mapped_column(String(64))
    ext: Mapped[str] = mapped_column(String(8))
    station_id: Mapped[int | None] = mapped_column(Integer)   # no key: a journal, not a record
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_pending_objects_sha", "sha"),
                      Index("ix_pending_objects_created", "created_at"), _AUTOINC)


class Warehouse(Base):
    __tablename__ = "warehouses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    name_key: Mapped[str] = mapped_column(String(KEY_LEN))                # revision 0003
    location: Mapped[str] = mapped_column(String(255), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("uq_warehouses_name_key", "name_key", unique=True), _AUTOINC)


class Model(Base):
    __tablename__ = "models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(32))
    backbone: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict] = mapped_column(JSON)
    thresholds: Mapped[dict] = mapped_column(JSON)
    trained_on: Mapped[dict] = mapped_column(JSON)
    trained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # revision 0004: the model's files for the site. ``package_sha256`` is the SHA-256 of its
    # model.json (which holds ``weights_sha256``, the weights' SHA-256); once published, both
    # files are in the photo store under models/<package_sha256>/ for every station.
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    trained_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("name", "version", name="uq_models_name_version"),
                      _AUTOINC)


class ModelEvaluation(Base):
    """One evaluation of a model (revision 0003): the engine's summary, how many images it rests
    on and how many of them the model was trained on."""
    __tablename__ = "model_evaluations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON)
    n_images: Mapped[int] = mapped_column(Integer)
    n_overlap_training: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    user: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_model_evaluations_model", "model_id", "created_at"), _AUTOINC)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    sku_key: Mapped[str] = mapped_column(String(KEY_LEN))                 # revision 0003
    name: Mapped[str] = mapped_column(String(255))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="RESTRICT"),
                                              index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    side_names: Mapped[list] = mapped_column(JSON)
    # The active model for this product: one column, so "one active model per product" holds by shape.
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="RESTRICT"))
    thresholds: Mapped[dict | None] = mapped_column(JSON)
    # revision 0003: JSON text of common.regions.RegionRecipe (NULL: auto for every side), and
    # the model that was active before the current one (rollback).
    region_recipe: Mapped[str | None] = mapped_column(Text)
    previous_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("models.id", ondelete="SET NULL", name="fk_products_previous_model"))
    warehouse: Mapped[Warehouse] = relationship()

    __table_args__ = (Index("uq_products_sku_key", "sku_key", unique=True), _AUTOINC)


class Inspection(Base):
    __tablename__ = "inspections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id", ondelete="RESTRICT"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    station_name: Mapped[str] = mapped_column(String(128))
    started: Mapped[datetime] = mapped_column(DateTime)
    finished: Mapped[datetime] = mapped_column(DateTime)
    day: Mapped[date] = mapped_column(Date)                      # revision 0002
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))             # the machine's verdict
    corrected_verdict: Mapped[str | None] = mapped_column(String(16))   # revision 0002
    final_verdict: Mapped[str] = mapped_column(String(16))       # revision 0002
    thumbnail_sha: Mapped[str | None] = mapped_column(String(64))
    thumbnail_ext: Mapped[str | None] = mapped_column(String(8))
    # revision 0003: the idempotency key made when the can was captured (recording it twice
    # keeps one row).
    capture_key: Mapped[str | None] = mapped_column(String(64))
    # revision 0004: the station that recorded it (NULL: not known)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="SET NULL", name="fk_inspections_station"))
    sides: Mapped[list[SideResult]] = relationship(
        order_by="SideResult.position", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        # The gallery filters by one of product / warehouse / operator / verdict and a time
        # range, and sorts by time: each index walks that range in time order and carries the
        # verdict and the id, so pages and counts are answered from the index alone, already in
        # the gallery's order (ties: verdict, then id). The id is explicit for PostgreSQL;
        # SQLite would have it anyway as the rowid.
        Index("ix_inspections_started", "started", "final_verdict", "id"),
        Index("ix_inspections_day", "day", "final_verdict"),
        Index("ix_inspections_product", "product_id", "started", "final_verdict", "id"),
        Index("ix_inspections_warehouse", "warehouse_id", "started", "final_verdict", "id"),
        Index("ix_inspections_operator", "operator_id", "started", "final_verdict", "id"),
        Index("ix_inspections_verdict", "final_verdict", "started", "id"),
        Index("ix_inspections_thumbnail_sha", "thumbnail_sha"),
        Index("uq_inspections_capture_key", "capture_key", unique=True),
        Index("ix_inspections_station", "station_id", "started", "final_verdict", "id"),
        _AUTOINC,
    )


class SideResult(Base):
    __tablename__ = "side_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    side_name: Mapped[str] = mapped_column(String(64))
    image_sha: Mapped[str] = mapped_column(String(64))
    image_ext: Mapped[str] = mapped_column(String(8))
    heatmap_sha: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    corrected_label: Mapped[str | None] = mapped_column(String(16))   # revision 0002
    outcome: Mapped[str] = mapped_column(String(16))
    boxes: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")   # revision 0003
    region: Mapped[list | None] = mapped_column(JSON)                           # revision 0003
    mask_sha: Mapped[str | None] = mapped_column(String(64))  # revision 0005: a drawn defect (PNG)

    __table_args__ = (
        # Both cover what the per-side statistics read (a side row is fat with two hex hashes
        # and JSON, so reading the table instead is several times slower): the first when the
        # statistics are filtered through inspections, the second for the whole history.
        Index("ix_side_results_inspection", "inspection_id", "position", "side_name", "outcome",
              "label", "corrected_label"),
        Index("ix_side_results_side", "side_name", "outcome", "label", "corrected_label"),
        Index("ix_side_results_image_sha", "image_sha"),
        Index("ix_side_results_heatmap_sha", "heatmap_sha"),
        Index("ix_side_results_mask_sha", "mask_sha"),
        _AUTOINC,
    )


class StatsHour(Base):
    """Cans per product, warehouse, clock hour of ``started`` (``hour``: whole hours since
    1970-01-01 UTC) and station day, counted by final verdict (revision 0006). Kept by
    :mod:`db.rollup` in the transaction of every write that changes what it counts; the
    statistics read it instead of the inspections whenever a filter allows."""
    __tablename__ = "stats_hours"
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[int] = mapped_column(Integer)
    review: Mapped[int] = mapped_column(Integer)
    reject: Mapped[int] = mapped_column(Integer)


class StatsSideHour(Base):
    """Sides per product, warehouse, clock hour, station day and side name (revision 0006):
    sides inspected, sides the machine sent to review, sides whose final label is Anomaly."""
    __tablename__ = "stats_side_hours"
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    side_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sides: Mapped[int] = mapped_column(Integer)
    review: Mapped[int] = mapped_column(Integer)
    anomaly: Mapped[int] = mapped_column(Integer)


class Correction(Base):
    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    side_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("side_results.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[User] = relationship()

    __table_args__ = (_AUTOINC,)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # No foreign key: the log must outlive the rows it talks about.
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict] = mapped_column(JSON)
