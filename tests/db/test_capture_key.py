"""The same can is recorded once (issue 9 item 3): each captured can carries a key made when its
capture started; recording that key again returns the first inspection and stores nothing."""
from __future__ import annotations

import threading
import uuid

import pytest

from db import Station, ValidationError
from db.records import NewInspection
from tests.db.helpers import World, new_inspection, snapshot


def _keyed(world: World, key: str, seed: str = "a") -> NewInspection:
    base = new_inspection(world.product_id, seed, "reject", thumbnail=True, bad_sides=("top",))
    return NewInspection(**{**base.__dict__, "capture_key": key})


def test_recording_a_key_twice_keeps_one_record(station: Station, world: World) -> None:
    key = str(uuid.uuid4())
    first = station.inspections.record(world.operator, _keyed(world, key))
    assert not first.already_recorded and first.capture_key == key
    before = snapshot(station)
    again = station.inspections.record(world.operator, _keyed(world, key))
    assert again.already_recorded and again.id == first.id
    assert snapshot(station) == before          # no row, no file, no audit event
    assert station.inspections.count(world.admin) == 1
    # Inspect again on an unchanged can, even with re-encoded photos: still the first record.
    other_bytes = station.inspections.record(world.operator, _keyed(world, key, seed="b"))
    assert other_bytes.id == first.id and snapshot(station) == before
    # A new capture (new key) is a new inspection.
    assert station.inspections.record(world.operator, _keyed(world, str(uuid.uuid4()))).id \
        != first.id


def test_two_threads_racing_with_one_key_record_once(station: Station, world: World) -> None:
    key = str(uuid.uuid4())
    results, errors = [], []
    start = threading.Barrier(4)

    def record() -> None:
        start.wait()
        try:
            results.append(station.inspections.record(world.operator, _keyed(world, key)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len({r.id for r in results}) == 1 and len(results) == 4
    assert sum(not r.already_recorded for r in results) == 1
    assert station.inspections.count(world.admin) == 1


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space in it", 12345678])
def test_malformed_keys_are_refused(station: Station, world: World, key: object) -> None:
    with pytest.raises(ValidationError) as e:
        station.inspections.record(world.operator, _keyed(world, key))  # type: ignore[arg-type]
    assert e.value.field == "capture_key"
