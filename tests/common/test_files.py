"""common.files: regular files only, never more than the limit, and no hang on a FIFO."""
from __future__ import annotations

import resource

import pytest

from common.files import FileTooLarge, NotARegularFile, open_regular, read_regular
from tests.special_files import SPARSE_BYTES, deadline, hostile_files


def test_reads_a_regular_file_and_follows_links(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8 content")
    (tmp_path / "link.jpg").symlink_to(tmp_path / "a.jpg")
    assert read_regular(tmp_path / "a.jpg", 100) == b"\xff\xd8 content"
    assert read_regular(tmp_path / "link.jpg", 100) == b"\xff\xd8 content"
    with open_regular(tmp_path / "a.jpg", 100) as (fh, size):
        assert size == 10 and fh.read(2) == b"\xff\xd8"


def test_the_limit_is_inclusive(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100)
    assert len(read_regular(tmp_path / "a", 100)) == 100
    with pytest.raises(FileTooLarge) as info:
        read_regular(tmp_path / "a", 99)
    assert info.value.size == 100 and info.value.limit == 99 and "limit" in str(info.value)


@pytest.mark.parametrize("kind, words", [("fifo", "named pipe"), ("dev_zero", "character device"),
                                         ("dev_urandom", "character device"), ("sparse", "1.5 GB"),
                                         ("folder", "folder")])
def test_special_and_huge_files_are_refused_at_once_with_flat_memory(tmp_path, kind, words):
    path = hostile_files(tmp_path, "x.jpg", head=b"\xff\xd8\xff\xe0")[kind]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with deadline(5), pytest.raises((NotARegularFile, FileTooLarge)) as info:
        read_regular(path, 64 << 20)
    assert words in str(info.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 16 * 1024  # kB: < 16 MB
    if kind == "sparse":
        assert info.value.size == SPARSE_BYTES


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "nothing.jpg", 10)
