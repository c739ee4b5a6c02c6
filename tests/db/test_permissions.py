"""The permission matrix, for every public service method: a role that may not call it gets
PermissionDenied and nothing changes (rows, audit log, files); a role that may is let through;
an inactive account may call nothing. docs/DB.md carries the same matrix as db/permissions.py."""
from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from db import PermissionDenied, Role, Station, StationDataError
from db.permissions import MATRIX, allowed, matrix_markdown
from tests.db.helpers import PASSWORD, SIDES, World, new_inspection, populate, snapshot, write_model_folder

C = dict  # context made by _context()

# (service, method) -> (action, call). Every public method of every actor-taking service is here;
# test_every_service_method_is_covered fails when one is added without a line below.
CALLS: dict[tuple[str, str], tuple[str, Callable]] = {
    ("users", "list"): ("user.manage", lambda st, a, c: st.users.list(a)),
    ("users", "get"): ("user.manage", lambda st, a, c: st.users.get(a, c["spare_user"])),
    ("users", "create"): ("user.manage", lambda st, a, c: st.users.create(
        a, "newbie", PASSWORD, Role.OPERATOR)),
    ("users", "set_role"): ("user.manage", lambda st, a, c: st.users.set_role(
        a, c["spare_user"], Role.SUPERVISOR)),
    ("users", "set_active"): ("user.manage", lambda st, a, c: st.users.set_active(
        a, c["spare_user"], False)),
    ("users", "unlock"): ("user.manage", lambda st, a, c: st.users.unlock(a, c["spare_user"])),
    ("users", "reset_password"): ("user.manage", lambda st, a, c: st.users.reset_password(
        a, c["spare_user"], "another password")),
    ("users", "force_password_change"): ("user.manage", lambda st, a, c:
                                         st.users.force_password_change(a, c["spare_user"], True)),
    ("users", "change_own_password"): ("user.change_own_password",
                                       lambda st, a, c: st.users.change_own_password(
                                           a, PASSWORD, "another password")),
    ("warehouses", "list"): ("catalog.view", lambda st, a, c: st.warehouses.list(a)),
    ("warehouses", "get"): ("catalog.view", lambda st, a, c: st.warehouses.get(a, c["empty_w"])),
    ("warehouses", "create"): ("warehouse.manage", lambda st, a, c: st.warehouses.create(
        a, "Hall Z", 10)),
    ("warehouses", "update"): ("warehouse.manage", lambda st, a, c: st.warehouses.update(
        a, c["empty_w"], capacity=5)),
    ("warehouses", "delete"): ("warehouse.manage", lambda st, a, c: st.warehouses.delete(
        a, c["empty_w"])),
    ("products", "list"): ("catalog.view", lambda st, a, c: st.products.list(a)),
    ("products", "get"): ("catalog.view", lambda st, a, c: st.products.get(a, c["spare_p"])),
    ("products", "create"): ("product.manage", lambda st, a, c: st.products.create(
        a, "NEW", "New", c["empty_w"], 1, SIDES)),
    ("products", "update"): ("product.manage", lambda st, a, c: st.products.update(
        a, c["spare_p"], quantity=3)),
    ("products", "delete"): ("product.manage", lambda st, a, c: st.products.delete(
        a, c["spare_p"])),
    ("models", "list"): ("catalog.view", lambda st, a, c: st.models.list(a)),
    ("models", "get"): ("catalog.view", lambda st, a, c: st.models.get(a, c["model"])),
    ("models", "active_for_product"): ("catalog.view", lambda st, a, c:
                                       st.models.active_for_product(a, c["spare_p"])),
    ("models", "register"): ("model.manage", lambda st, a, c: st.models.register(
        a, "m2", "models/m2", "cam", "resnet18", "1", {}, {"review": 0.4, "reject": 0.6}, {})),
    ("models", "activate_for_product"): ("model.manage", lambda st, a, c:
                                         st.models.activate_for_product(a, c["model"],
                                                                        c["spare_p"])),
    ("models", "activate"): ("model.manage", lambda st, a, c: st.models.activate(
        a, c["model"], [c["spare_p"]])),
    ("models", "rollback"): ("model.manage", lambda st, a, c: st.models.rollback(a, c["rolled_p"])),
    ("models", "record_evaluation"): ("model.manage", lambda st, a, c:
                                      st.models.record_evaluation(a, c["model"], {"auroc": 0.9},
                                                                  10, 0, "folder")),
    ("models", "evaluations"): ("catalog.view", lambda st, a, c:
                                st.models.evaluations(a, c["model"])),
    ("models", "set_thresholds"): ("model.manage", lambda st, a, c: st.models.set_thresholds(
        a, c["model"], {"review": 0.3, "reject": 0.7})),
    ("models", "delete"): ("model.manage", lambda st, a, c: st.models.delete(a, c["model"])),
    ("models", "for_inspection"): ("catalog.view", lambda st, a, c: st.models.for_inspection(
        a, c["product"])),
    ("inspections", "record"): ("inspection.record", lambda st, a, c: st.inspections.record(
        a, new_inspection(c["product"], "perm", thumbnail=True))),
    # The inspection in the context was recorded by the supervisor, so opening it is view_all.
    ("inspections", "get"): ("inspection.view_all", lambda st, a, c: st.inspections.get(
        a, c["insp"])),
    ("inspections", "page"): ("inspection.view_own", lambda st, a, c: st.inspections.page(a)),
    ("inspections", "count"): ("inspection.view_own", lambda st, a, c: st.inspections.count(a)),
    ("inspections", "delete"): ("inspection.delete", lambda st, a, c: st.inspections.delete(
        a, c["insp"], "test")),
    ("inspections", "delete_many"): ("inspection.delete", lambda st, a, c:
                                     st.inspections.delete_many(a, [c["insp"]], "test")),
    ("inspections", "deletion_preview"): ("inspection.delete", lambda st, a, c:
                                          st.inspections.deletion_preview(a)),
    ("inspections", "export_csv"): ("inspection.export", lambda st, a, c:
                                    st.inspections.export_csv(a, None, c["csv"])),
    ("inspections", "labelled_sides"): ("inspection.training_labels", lambda st, a, c:
                                        st.inspections.labelled_sides(a)),
    ("corrections", "correct_side"): ("correction.create", lambda st, a, c:
                                      st.corrections.correct_side(a, c["side"], "Good")),
    ("corrections", "correct_can"): ("correction.create", lambda st, a, c:
                                     st.corrections.correct_can(a, c["insp"], "pass")),
    ("corrections", "list_for_inspection"): ("inspection.view_all", lambda st, a, c:
                                             st.corrections.list_for_inspection(a, c["insp"])),
    ("audit", "list"): ("audit.view", lambda st, a, c: st.audit.list(a)),
    ("audit", "count"): ("audit.view", lambda st, a, c: st.audit.count(a)),
    ("audit", "choices"): ("audit.view", lambda st, a, c: st.audit.choices(a)),
    ("audit", "export_csv"): ("audit.view", lambda st, a, c: st.audit.export_csv(a, c["csv"])),
    ("stats", "summary"): ("stats.view", lambda st, a, c: st.stats.summary(a)),
    ("stats", "per_day"): ("stats.view", lambda st, a, c: st.stats.per_day(a)),
    ("stats", "per_product"): ("stats.view", lambda st, a, c: st.stats.per_product(a)),
    ("stats", "per_operator"): ("stats.view", lambda st, a, c: st.stats.per_operator(a)),
    ("stats", "per_side"): ("stats.view", lambda st, a, c: st.stats.per_side(a)),
    ("models", "mark_published"): ("model.manage", lambda st, a, c: st.models.mark_published(
        a, c["model"], "a" * 64, "b" * 64, shared=True)),
    ("site_models", "publish"): ("model.manage", lambda st, a, c: st.site_models.publish(
        a, c["pub_model"])),
    ("stations", "list"): ("station.view", lambda st, a, c: st.stations.list(a)),
    ("stations", "retire"): ("station.manage", lambda st, a, c: st.stations.retire(
        a, c["station"])),
    ("stats", "per_hour"): ("stats.view", lambda st, a, c: st.stats.per_hour(a, sides=True)),
    ("stats", "corrections"): ("stats.view", lambda st, a, c: st.stats.corrections(
        a, datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))),
    ("stats", "sign_ins"): ("stats.view", lambda st, a, c: st.stats.sign_ins(
        a, datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))),
}
ACTOR_SERVICES = ("users", "warehouses", "products", "models", "inspections", "corrections",
                  "audit", "stats", "stations", "site_models")
# Called by the station itself (start-up, its own threads), audited as "system" where they change
# anything: no signed-in user.
NO_ACTOR = {("models", "register_system"), ("stations", "register"), ("stations", "heartbeat"),
            ("site_models", "locate"), ("site_models", "package_of"), ("site_models", "ensure"),
            ("site_models", "prefetch")}
# Methods that change nothing a later call depends on: they may share one set of records.
READS = {"list", "get", "page", "count", "active_for_product", "labelled_sides",
         "list_for_inspection", "summary", "per_day", "per_product", "per_operator", "per_side",
         "export_csv"}   # start-up seeding, audited as "system"


def _context(station: Station, world: World, tmp: Path, tag: str = "") -> C:
    """Records for the calls to act on; ``tag`` makes their names unique (a fresh set per call)."""
    spare_user = station.users.create(world.admin, f"spare{tag}", PASSWORD, Role.OPERATOR).id
    empty_w = station.warehouses.create(world.admin, f"Empty{tag}", 100).id
    spare_p = station.products.create(world.admin, f"SPARE{tag}", "Spare", world.warehouse_id, 0,
                                      SIDES).id
    model = station.models.register(world.admin, f"m1{tag}", f"models/m1{tag}", "cam",
                                    "resnet18", "1", {}, {"review": 0.4, "reject": 0.6}, {}).id
    # A product that ran an older model before the current one: something to roll back to.
    rolled_p = station.products.create(world.admin, f"ROLLED{tag}", "Rolled", world.warehouse_id, 0,
                                       SIDES).id
    for n in ("old", "new"):
        m = station.models.register(world.admin, f"{n}{tag}", f"models/{n}{tag}", "cam",
                                    "resnet18", "1", {}, {"review": 0.4, "reject": 0.6}, {}).id
        station.models.activate(world.admin, m, [rolled_p])
    insp = station.inspections.record(world.supervisor, new_inspection(
        world.product_id, f"ctx{tag}", "reject", thumbnail=True, bad_sides=("top",)))
    folder = write_model_folder(tmp / f"pub{tag}", f"weights {tag}".encode())
    pub_model = station.models.register(world.admin, f"pub{tag}", str(folder), "cam", "resnet18",
                                        "1", {}, {"review": 0.4, "reject": 0.6}, {}).id
    other = station.stations.register(str(uuid.uuid4()), f"line{tag}", "host").id
    return dict(spare_user=spare_user, empty_w=empty_w, spare_p=spare_p, rolled_p=rolled_p, model=model,
                insp=insp.id, side=insp.sides[0].id, product=world.product_id,
                csv=tmp / f"out{tag}.csv", pub_model=pub_model, station=other)


def test_every_service_method_is_covered(station: Station) -> None:
    public = set()
    for name in ACTOR_SERVICES:
        service = getattr(station, name)
        for attr, _fn in inspect.getmembers(service, inspect.ismethod):
            if not attr.startswith("_"):
                public.add((name, attr))
    assert public - NO_ACTOR == set(CALLS)


def test_matrix_uses_known_actions() -> None:
    assert {action for action, _ in CALLS.values()} <= set(MATRIX)


def test_wrong_role_is_denied_and_changes_nothing(station: Station, world: World,
                                                  tmp_path: Path) -> None:
    """One context for all calls: a denied call must not change it, so all can share it."""
    ctx = _context(station, world, tmp_path)
    actors = {Role.OPERATOR: world.operator, Role.SUPERVISOR: world.supervisor,
              Role.ADMIN: world.admin}
    before = snapshot(station)
    denied = 0
    for key, (action, call) in CALLS.items():
        for role, actor in actors.items():
            if allowed(role, action):
                continue
            with pytest.raises(PermissionDenied):
                call(station, actor, ctx)
            assert snapshot(station) == before, f"{role.value} calling {key} changed something"
            assert not ctx["csv"].exists()
            denied += 1
    assert denied >= 40


def test_right_role_is_let_through(station: Station, world: World, tmp_path: Path) -> None:
    """Each allowed call gets fresh records to act on, so every one of them must succeed: any
    error (not only PermissionDenied) fails the test."""
    actors = {Role.OPERATOR: world.operator, Role.SUPERVISOR: world.supervisor,
              Role.ADMIN: world.admin}
    let_through = 0
    shared = _context(station, world, tmp_path, tag="-shared")     # for the calls that only read
    for n, (key, (action, call)) in enumerate(CALLS.items()):
        for role, actor in actors.items():
            if not allowed(role, action):
                continue
            ctx = shared if key[1] in READS else _context(station, world, tmp_path,
                                                            tag=f"-{n}-{role.value}")
            try:
                call(station, actor, ctx)
            except StationDataError as exc:
                pytest.fail(f"{role.value} calling {key} failed: {exc!r}")
            let_through += 1
    assert let_through == sum(len(MATRIX[action][0]) for action, _ in CALLS.values())


def test_inactive_account_may_call_nothing(station: Station, tmp_path: Path) -> None:
    world = populate(station)
    ctx = _context(station, world, tmp_path)
    admin2 = station.users.create(world.admin, "admin2", PASSWORD, Role.ADMIN)
    actor = station.auth.sign_in("admin2", PASSWORD)
    station.users.set_active(world.admin, admin2.id, False)
    before = snapshot(station)
    for key, (_, call) in CALLS.items():
        with pytest.raises(PermissionDenied):
            call(station, actor, ctx)
        assert snapshot(station) == before, key


def test_docs_show_the_matrix_from_the_code() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "DB.md").read_text()
    assert matrix_markdown() in doc, (
        "regenerate the table: .venv/bin/python -c "
        "'from db.permissions import matrix_markdown; print(matrix_markdown())'")
