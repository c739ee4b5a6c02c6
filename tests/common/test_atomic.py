"""common.atomic: whole files and whole folders or nothing, and StorageFull on a full disk."""
from __future__ import annotations

import pytest

from common import atomic
from common.errors import StorageFull
from tests.disks import fill, small_disk


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if atomic.TMP_MARK in p.name)


def test_write_bytes_creates_and_replaces_without_leftovers(tmp_path):
    target = tmp_path / "a.bin"
    atomic.write_bytes(target, b"one")
    atomic.write_bytes(target, b"two, longer")
    assert target.read_bytes() == b"two, longer"
    atomic.write_text(tmp_path / "t.txt", "grüße")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "grüße"
    assert _leftovers(tmp_path) == []


def test_a_failing_writer_leaves_the_previous_file(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"previous")
    with pytest.raises(ZeroDivisionError):
        with atomic.replacing(target) as tmp:
            tmp.write_bytes(b"half")
            raise ZeroDivisionError("the writer failed halfway")
    assert target.read_bytes() == b"previous" and _leftovers(tmp_path) == []


def test_full_disk_raises_storage_full_and_keeps_the_previous_file(tmp_path):
    with small_disk(tmp_path / "disk", 512) as disk:
        target = disk / "overlay.jpg"
        atomic.write_bytes(target, b"previous")
        fill(disk, leave_kb=16)
        with pytest.raises(StorageFull) as info:
            atomic.write_bytes(target, b"x" * 200_000)
        assert str(target) in str(info.value) and "full" in str(info.value)
        assert target.read_bytes() == b"previous"
        assert _leftovers(disk) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_replacing_folder_swaps_whole_folders(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "models" / "m"
    with atomic.replacing_folder(target) as tmp:
        (tmp / "a").write_text("1")
    with atomic.replacing_folder(target) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"]  # no temp or old folder left


def test_replacing_folder_keeps_the_previous_folder_on_error_and_on_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", 512) as disk:
        target = disk / "m"
        with atomic.replacing_folder(target) as tmp:
            (tmp / "weights").write_bytes(b"w" * 1000)
        with pytest.raises(RuntimeError):
            with atomic.replacing_folder(target) as tmp:
                (tmp / "weights").write_bytes(b"new")
                raise RuntimeError("stopped")
        fill(disk, leave_kb=16)
        with pytest.raises(StorageFull):
            with atomic.replacing_folder(target) as tmp:
                (tmp / "weights").write_bytes(b"n" * 300_000)
        assert (target / "weights").read_bytes() == b"w" * 1000
        assert sorted(p.name for p in disk.iterdir()) == ["filler.bin", "m"]


def test_other_os_errors_pass_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic.write_bytes(tmp_path / "no" / "such" / "dir" / "x", b"1")
