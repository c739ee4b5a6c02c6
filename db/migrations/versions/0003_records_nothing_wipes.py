"""Records that nothing wipes (issue 9): ids never reused, capture keys, the data folder's identity,
normalised names, forced password changes, sign-in throttling, region recipes, model rollback and
stored evaluations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

- SQLite: AUTOINCREMENT on every table the audit log names by id (users, warehouses, products,
  models, inspections, side results, corrections), by a batch table rebuild. The sequences start
  above the highest id still in a table AND the highest id the audit log mentions, so an id
  deleted before this upgrade is not handed out again either. (PostgreSQL's sequences never go
  back.) The rebuild needs foreign keys off (a DROP TABLE would cascade otherwise):
  ``db.migrate`` runs every migration that way and checks the keys before it commits.
- ``inspections.capture_key``: the idempotency key made when a can is captured (unique).
- ``station_meta``: key/value rows; ``data_id`` ties the database to its data folder.
- ``users.username_key``, ``warehouses.name_key``, ``products.sku_key``: NFKC + case-fold keys
  with unique indexes. Existing rows whose keys collide stop the upgrade with a message naming
  them (rename them with the old version first); nothing is merged silently.
- ``users.must_change_password``; ``sign_in_throttle`` (failed sign-ins per name, known or not)
  replaces ``users.failed_attempts`` / ``users.locked_until`` (their state is carried over).
- ``products.region_recipe`` (JSON text of ``common.regions.RegionRecipe``, NULL = auto) and
  ``products.previous_model_id`` (rollback); ``side_results.reason`` and ``side_results.region``.
- ``model_evaluations``: evaluations of a model, kept so an activation gate survives a restart.
- Threshold pairs that break the one rule (``common.thresholds``) made every Inspect fail; they
  are reset (a product's override removed, a model's set to 0.5/0.5), each with an audit event
  that keeps the old values.

Frozen: the key rule and the threshold rule are copied here, not imported.
"""
from __future__ import annotations

import hashlib
import math
import unicodedata
from datetime import datetime, timezone
from typing import Literal

import sqlalchemy as sa
from alembic import op

from db.errors import UpgradeRefused

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> the word the audit log's targets use for its ids ("inspection:12")
_AUDITED = {"users": "user", "warehouses": "warehouse", "products": "product",
            "models": "model", "inspections": "inspection", "side_results": "side_result",
            "corrections": "correction"}
_KEYED = (("users", "username", "username_key", "user names"),
          ("warehouses", "name", "name_key", "warehouse names"),
          ("products", "sku", "sku_key", "product SKUs"))
_KEY_LEN = 512


def _key(value: str) -> str:   # frozen copy of db.names.name_key
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join("".join(ch for ch in folded if unicodedata.category(ch) != "Cf").split())


def _thresholds_ok(value: object) -> bool:   # frozen copy of common.thresholds.check_dict
    if not isinstance(value, dict) or set(value) != {"review", "reject"}:
        return False
    r, j = value["review"], value["reject"]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
           for v in (r, j)):
        return False
    return 0.0 <= r <= 0.5 <= j <= 1.0


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("revision 0003 rebuilds tables: run it through db.migrate, which "
                           "turns SQLite's foreign keys off for the rebuild")
    keys = _refuse_duplicate_keys(bind)

    op.add_column("users", sa.Column("username_key", sa.String(_KEY_LEN), nullable=True))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean, nullable=False,
                                     server_default=sa.false()))
    op.add_column("warehouses", sa.Column("name_key", sa.String(_KEY_LEN), nullable=True))
    op.add_column("products", sa.Column("sku_key", sa.String(_KEY_LEN), nullable=True))
    op.add_column("products", sa.Column("region_recipe", sa.Text, nullable=True))
    op.add_column("inspections", sa.Column("capture_key", sa.String(64), nullable=True))
    op.add_column("side_results", sa.Column("reason", sa.Text, nullable=False,
                                            server_default=""))
    op.add_column("side_results", sa.Column("region", sa.JSON, nullable=True))
    for (table, _name, key_col, _what), values in zip(_KEYED, keys):
        t = sa.table(table, sa.column("id", sa.Integer), sa.column(key_col, sa.String))
        if values:
            bind.execute(t.update().where(t.c.id == sa.bindparam("b_id"))
                         .values({key_col: sa.bindparam("b_key")}),
                         [{"b_id": i, "b_key": k} for i, k in values.items()])

    throttle = op.create_table(
        "sign_in_throttle",
        sa.Column("name_hash", sa.String(64), primary_key=True),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("lockouts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime, nullable=True),
        sa.Column("last_failed_at", sa.DateTime, nullable=True),
    )
    users = sa.table("users", sa.column("username", sa.String),
                     sa.column("failed_attempts", sa.Integer),
                     sa.column("locked_until", sa.DateTime))
    carried = [{"name_hash": hashlib.sha256(_key(u.username).encode()).hexdigest(),
                "failed_attempts": u.failed_attempts, "lockouts": 1 if u.locked_until else 0,
                "locked_until": u.locked_until, "last_failed_at": None}
               for u in bind.execute(sa.select(users).where(
                   (users.c.failed_attempts > 0) | users.c.locked_until.is_not(None)))]
    if carried:
        bind.execute(throttle.insert(), carried)

    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    autoinc = {"sqlite_autoincrement": True}
    with op.batch_alter_table("users", recreate=recreate, table_kwargs=autoinc) as b:
        b.alter_column("username_key", existing_type=sa.String(_KEY_LEN), nullable=False)
        b.drop_column("failed_attempts")
        b.drop_column("locked_until")
    with op.batch_alter_table("warehouses", recreate=recreate, table_kwargs=autoinc) as b:
        b.alter_column("name_key", existing_type=sa.String(_KEY_LEN), nullable=False)
    with op.batch_alter_table("models", recreate=recreate, table_kwargs=autoinc):
        pass
    with op.batch_alter_table("products", recreate=recreate, table_kwargs=autoinc) as b:
        b.alter_column("sku_key", existing_type=sa.String(_KEY_LEN), nullable=False)
        b.add_column(sa.Column("previous_model_id", sa.Integer, nullable=True))
        b.create_foreign_key("fk_products_previous_model", "models", ["previous_model_id"],
                             ["id"], ondelete="SET NULL")
    for table in ("inspections", "side_results", "corrections"):
        with op.batch_alter_table(table, recreate=recreate, table_kwargs=autoinc):
            pass
    op.create_index("uq_users_username_key", "users", ["username_key"], unique=True)
    op.create_index("uq_warehouses_name_key", "warehouses", ["name_key"], unique=True)
    op.create_index("uq_products_sku_key", "products", ["sku_key"], unique=True)
    op.create_index("uq_inspections_capture_key", "inspections", ["capture_key"], unique=True)
    if sqlite:
        _seed_sqlite_sequences(bind)

    op.create_table(
        "station_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("written_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "model_evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("n_images", sa.Integer, nullable=False),
        sa.Column("n_overlap_training", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_model_evaluations_model", "model_evaluations", ["model_id", "created_at"])
    _reset_invalid_thresholds(bind)


def _refuse_duplicate_keys(bind: sa.Connection) -> list[dict[int, str]]:
    """The keys of every row, or UpgradeRefused naming the rows whose keys collide."""
    out, clashes = [], []
    for table, name_col, _key_col, what in _KEYED:
        t = sa.table(table, sa.column("id", sa.Integer), sa.column(name_col, sa.String))
        by_key: dict[str, list[str]] = {}
        values: dict[int, str] = {}
        for row_id, name in bind.execute(sa.select(t.c.id, t.c[name_col]).order_by(t.c.id)):
            k = _key(name)
            values[row_id] = k
            by_key.setdefault(k, []).append(name)
        out.append(values)
        for names in by_key.values():
            if len(names) > 1:
                clashes.append(f"{what}: " + ", ".join(repr(n) for n in names))
        if any(len(k) > _KEY_LEN for k in values.values()):
            clashes.append(f"{what}: a name longer than {_KEY_LEN} characters once normalised")
    if clashes:
        raise UpgradeRefused(
            "This version of the station treats names that differ only in upper/lower case, "
            "width or invisible characters as the same name, and the database holds such "
            "pairs: " + "; ".join(clashes) + ". Nothing was changed. Rename one of each pair "
            "with the version of the station you used so far, then start this version again.")
    return out


def _seed_sqlite_sequences(bind: sa.Connection) -> None:
    """Start each AUTOINCREMENT sequence above every id the table or the audit log has seen."""
    for table, word in _AUDITED.items():
        highest = bind.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
        prefix = f"{word}:"
        named = bind.execute(sa.text(
            "SELECT max(CAST(substr(target, :n) AS INTEGER)) FROM audit_events "
            "WHERE target LIKE :p"), {"n": len(prefix) + 1, "p": prefix + "%"}).scalar() or 0
        seq = max(int(highest or 0), int(named))
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        if seq:
            bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
                         {"t": table, "s": seq})


def _reset_invalid_thresholds(bind: sa.Connection) -> None:
    audit = sa.table("audit_events", sa.column("at", sa.DateTime),
                     sa.column("user_id", sa.Integer), sa.column("username", sa.String),
                     sa.column("action", sa.String), sa.column("target", sa.String),
                     sa.column("details", sa.JSON))
    events = []
    for table, word, replacement in (("products", "product", None),
                                     ("models", "model", {"review": 0.5, "reject": 0.5})):
        t = sa.table(table, sa.column("id", sa.Integer), sa.column("thresholds", sa.JSON))
        for row_id, value in bind.execute(sa.select(t.c.id, t.c.thresholds)):
            if (value is None and table == "products") or _thresholds_ok(value):
                continue
            bind.execute(t.update().where(t.c.id == row_id).values(
                thresholds=sa.null() if replacement is None else replacement))
            events.append({"at": _now(), "user_id": None, "username": "system",
                           "action": f"{word}.thresholds_reset", "target": f"{word}:{row_id}",
                           "details": {"old": value, "new": replacement,
                                       "reason": "outside 0 <= review <= 0.5 <= reject <= 1"}})
    if events:
        bind.execute(audit.insert(), events)


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("run the downgrade through db.migrate.downgrade (foreign keys off)")
    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    op.drop_index("ix_model_evaluations_model", table_name="model_evaluations")
    op.drop_table("model_evaluations")
    op.drop_table("station_meta")
    for name, table in (("uq_inspections_capture_key", "inspections"),
                        ("uq_products_sku_key", "products"),
                        ("uq_warehouses_name_key", "warehouses"),
                        ("uq_users_username_key", "users")):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("users", recreate=recreate) as b:
        b.add_column(sa.Column("failed_attempts", sa.Integer, nullable=False,
                               server_default="0"))
        b.add_column(sa.Column("locked_until", sa.DateTime, nullable=True))
        b.drop_column("username_key")
        b.drop_column("must_change_password")
    op.drop_table("sign_in_throttle")
    with op.batch_alter_table("warehouses", recreate=recreate) as b:
        b.drop_column("name_key")
    with op.batch_alter_table("products", recreate=recreate) as b:
        b.drop_constraint("fk_products_previous_model", type_="foreignkey")
        b.drop_column("previous_model_id")
        b.drop_column("sku_key")
        b.drop_column("region_recipe")
    with op.batch_alter_table("inspections", recreate=recreate) as b:
        b.drop_column("capture_key")
    with op.batch_alter_table("side_results", recreate=recreate) as b:
        b.drop_column("reason")
        b.drop_column("region")
