"""load_image: every accepted kind of file, and a clear refusal for everything else."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from core.errors import UnreadableImage
from core.images import encode_jpeg, encode_png, load_image


def _photo(h: int = 40, w: int = 60) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 4, yy * 6, (xx + yy) * 2], axis=2).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("fmt,ext,tol", [("JPEG", "jpg", 12), ("PNG", "png", 0), ("BMP", "bmp", 0),
                                         ("TIFF", "tif", 0)])
def test_reads_each_format_as_rgb(tmp_path, fmt, ext, tol):
    rgb = _photo()
    path = tmp_path / f"x.{ext}"
    Image.fromarray(rgb).save(path, format=fmt)
    out = load_image(path)
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).mean() <= tol


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = _photo()[:, :, 1]
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    out = load_image(tmp_path / "g.png")
    assert out.shape == (40, 60, 3)
    assert (out[:, :, 0] == gray).all() and (out[:, :, 2] == gray).all()


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:, :5] = (255, 0, 0, 255)      # opaque red
    rgba[:, 5:] = (0, 0, 255, 0)        # fully transparent blue
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[0, 9]) == (255, 255, 255)


def test_16_bit_png_and_tiff_keep_their_range(tmp_path):
    ramp = (np.arange(100, dtype=np.uint16).reshape(10, 10) * 600).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "d.png")
    Image.fromarray(ramp).save(tmp_path / "d.tif")
    for name in ("d.png", "d.tif"):
        out = load_image(tmp_path / name)
        assert out.shape == (10, 10, 3)
        assert np.abs(out[:, :, 0].astype(int) - (ramp >> 8)).max() <= 1, name


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = 255  # left half white
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=95)
    out = load_image(tmp_path / "r.jpg")
    assert out.shape == (40, 20, 3)          # portrait after rotation
    assert out[:20].mean() > 200 and out[20:].mean() < 50  # the white half is now on top


def test_bytes_and_arrays(tmp_path):
    rgb = _photo()
    assert np.array_equal(load_image(encode_png(rgb)), rgb)
    assert np.abs(load_image(encode_jpeg(rgb)).astype(int) - rgb).mean() < 12
    assert np.array_equal(load_image(rgb), rgb)
    assert load_image(rgb[:, :, 0]).shape == (40, 60, 3)
    assert load_image(rgb.astype(np.float32) / 255.0).dtype == np.uint8
    assert load_image(rgb) is not rgb  # the caller owns its copy


def _refused(source, **kw) -> UnreadableImage:
    with pytest.raises(UnreadableImage) as info:
        load_image(source, **kw)
    return info.value


def test_refuses_a_file_that_is_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture")
    err = _refused(path)
    assert err.source == str(path) and "not an image" in err.reason
    assert str(path) in str(err)


def test_refuses_a_truncated_file(tmp_path):
    data = encode_jpeg(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in _refused(path).reason


def test_refuses_empty_and_zero_size_images(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in _refused(tmp_path / "empty.png").reason
    assert "empty" in _refused(np.zeros((0, 5, 3), np.uint8)).reason
    zero_width = _png_header(0, 10)
    assert _refused(zero_width, name="zero.png").source == "zero.png"


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (no valid pixel data follows)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))


def test_refuses_decompression_bombs_before_decoding():
    err = _refused(_png_header(100_000, 100_000), name="bomb.png")
    assert "pixels" in err.reason and "bomb" in err.reason
    assert "limit" in _refused(_photo(), max_pixels=100).reason


def test_refuses_other_formats_and_missing_files(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(_photo()).save(buf, format="GIF")
    assert "GIF" in _refused(buf.getvalue()).reason
    assert "does not exist" in _refused(tmp_path / "missing.png").reason


def test_resize_square_matches_box_filtering_closely_and_keeps_small_images_whole():
    import cv2

    from core.images import resize_square

    rng = np.random.default_rng(0)
    # A smooth photo-like image: the fast path must agree with a direct INTER_AREA shrink.
    base = cv2.resize(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8), (640, 480),
                      interpolation=cv2.INTER_CUBIC)
    for size in (224, 192, 160):
        fast = resize_square(base, size)
        exact = cv2.resize(base, (size, size), interpolation=cv2.INTER_AREA)
        assert fast.shape == (size, size, 3) and fast.dtype == np.uint8
        assert np.abs(fast.astype(int) - exact.astype(int)).mean() < 1.0
    small = rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)
    assert resize_square(small, 224).shape == (224, 224, 3)  # enlarged, not cropped


@pytest.mark.parametrize("kind, words", [("fifo", "named pipe"), ("dev_zero", "character device"),
                                         ("dev_urandom", "character device"), ("sparse", "limit"),
                                         ("folder", "folder")])
def test_special_files_and_huge_files_are_refused_at_once(tmp_path, kind, words):
    """A FIFO named x.jpg hung inspect; links to /dev/zero or /dev/urandom grew memory past 5 GB;
    a 1.5 GB sparse file starting like a JPEG was read whole (issue 9, item 6)."""
    import resource

    from tests.special_files import deadline, hostile_files

    path = hostile_files(tmp_path, "x.jpg", head=encode_jpeg(_photo())[:600])[kind]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with deadline(5):
        err = _refused(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 16 * 1024  # kB
    assert err.source == str(path) and words in err.reason


def test_the_byte_limit_applies_to_files_and_bytes_and_can_be_raised(tmp_path):
    from core.images import io as image_io
    from core.images import read_image_file, set_max_image_bytes

    noise = np.random.default_rng(1).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    data = encode_png(noise)  # about 7 kB: above the smallest limit a setting may give
    (tmp_path / "p.png").write_bytes(data)
    assert "limit" in _refused(tmp_path / "p.png", max_bytes=len(data) - 1).reason
    assert "limit" in _refused(data, max_bytes=len(data) - 1).reason
    assert load_image(tmp_path / "p.png", max_bytes=len(data)).shape == (40, 60, 3)
    assert read_image_file(tmp_path / "p.png") == data
    default = image_io.MAX_IMAGE_BYTES
    try:
        set_max_image_bytes(1024)
        assert "limit" in _refused(tmp_path / "p.png").reason
        set_max_image_bytes(default * 2)
        assert load_image(tmp_path / "p.png").shape == (40, 60, 3)
    finally:
        set_max_image_bytes(default)
    with pytest.raises(ValueError):
        set_max_image_bytes(-1)
