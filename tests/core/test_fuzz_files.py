"""Property-based tests at the engine's file boundaries (issue 9): whatever the bytes, ``read_spec``
and ``load_model`` either succeed or raise ``ModelFileInvalid``, and ``load_image`` either returns an
RGB image or raises ``UnreadableImage``. No other exception type, ever.

Derandomized (hypothesis picks the same examples on every run, so CI is repeatable) and without
an example database (nothing is written into the repository); ``max_examples`` keeps the file
to a few seconds.
"""
from __future__ import annotations

import io
import json
import shutil
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.errors import ModelFileInvalid, UnreadableImage
from core.images import load_image
from core.model.io import load_model
from core.model.spec import SPEC_FILE, WEIGHTS_FILE, read_spec

FAST = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=25)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@st.composite
def mutated_spec_text(draw, base: dict) -> bytes:
    data = json.loads(json.dumps(base))
    how = draw(st.sampled_from(["replace", "delete", "nested", "bytes"]))
    keys = sorted(data)
    if how == "replace":
        data[draw(st.sampled_from(keys))] = draw(json_values)
    elif how == "delete":
        for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)):
            data.pop(key, None)
    elif how == "nested":
        key = draw(st.sampled_from(["score_scale", "heatmap_scale", "thresholds", "extra", "trained_on"]))
        if isinstance(data.get(key), dict) and data[key]:
            data[key][draw(st.sampled_from(sorted(data[key])))] = draw(json_values)
        else:
            data[key] = draw(json_values)
    text = json.dumps(data).encode()
    if how == "bytes":
        raw = bytearray(text)
        for pos in draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8)):
            raw[pos] = draw(st.integers(0, 255))
        text = bytes(raw[:draw(st.integers(0, len(raw)))])
    return text


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory, tiny_model_dir):
    folder = tmp_path_factory.mktemp("fuzz") / "base"
    shutil.copytree(tiny_model_dir, folder)
    return folder


def _fresh(base, tmp_path):
    target = tmp_path / "m"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    return target


def test_read_spec_raises_only_model_file_invalid(base_folder, tmp_path):
    base = json.loads((base_folder / SPEC_FILE).read_text())
    folder = tmp_path / "spec"
    folder.mkdir()

    @FAST
    @given(mutated_spec_text(base))
    def check(text):
        (folder / SPEC_FILE).write_bytes(text)
        try:
            read_spec(folder)
        except ModelFileInvalid:
            pass

    check()


@st.composite
def mutated_weights(draw, raw: bytes) -> bytes:
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    how = draw(st.sampled_from(["flip-header", "json", "entry", "length", "truncate"]))
    if how == "flip-header":
        out = bytearray(raw)
        for pos in draw(st.lists(st.integers(0, 8 + length - 1), min_size=1, max_size=6)):
            out[pos] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    if how == "json":
        text = json.dumps(draw(json_values)).encode()
    elif how == "entry":
        name = draw(st.sampled_from(sorted(header)))
        entry = header[name]
        if isinstance(entry, dict) and entry:
            entry = dict(entry)
            entry[draw(st.sampled_from(sorted(entry)))] = draw(json_values)
        header = dict(header)
        header[name] = entry
        text = json.dumps(header).encode()
    else:
        text = raw[8:8 + length]
    declared = len(text) if how != "length" else draw(st.integers(0, 2**64 - 1))
    out = struct.pack("<Q", declared) + text + raw[8 + length:]
    if how == "truncate":
        out = out[:draw(st.integers(0, len(out) - 1))]
    return out


@pytest.mark.slow
def test_load_model_on_mutated_headers_raises_only_model_file_invalid(base_folder, tmp_path):
    raw = (base_folder / WEIGHTS_FILE).read_bytes()
    folder = _fresh(base_folder, tmp_path)

    @SLOW
    @given(mutated_weights(raw))
    def check(data):
        assume(data != raw)  # a mutation that happens to change nothing loads, rightly
        (folder / WEIGHTS_FILE).write_bytes(data)
        with pytest.raises(ModelFileInvalid):  # any change at all is caught (checksum at the latest)
            load_model(folder)

    check()


def test_load_model_on_mutated_specs_raises_only_model_file_invalid(base_folder, tmp_path):
    base = json.loads((base_folder / SPEC_FILE).read_text())
    folder = _fresh(base_folder, tmp_path)

    @settings(SLOW, max_examples=15)
    @given(mutated_spec_text(base))
    def check(text):
        (folder / SPEC_FILE).write_bytes(text)
        try:
            load_model(folder)
        except ModelFileInvalid:
            pass

    check()


def _seed_images() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:24, 0:32]
    rgb = np.stack([xx * 8, yy * 10, rng.integers(0, 255, (24, 32))], axis=2).astype(np.uint8)
    out = {}
    for fmt in ("JPEG", "PNG", "TIFF", "BMP"):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format=fmt)
        out[fmt] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(rgb[:, :, 0]).save(buf, format="PNG")
    out["PNG-L"] = buf.getvalue()
    return out


SEEDS = _seed_images()


@st.composite
def mutated_image(draw) -> bytes:
    kind = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[kind])
    how = draw(st.sampled_from(["flip", "bytes", "truncate", "splice", "repeat"]))
    if how == "flip":
        for pos in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=16)):
            data[pos] ^= 1 << draw(st.integers(0, 7))
    elif how == "bytes":
        start = draw(st.integers(0, min(200, len(data) - 1)))
        chunk = draw(st.binary(min_size=1, max_size=16))
        data[start:start + len(chunk)] = chunk
    elif how == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif how == "splice":
        other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
        cut = draw(st.integers(0, min(len(data), len(other)) - 1))
        data = data[:cut] + other[cut:]
    else:
        start = draw(st.integers(0, len(data) - 1))
        data = data[:start] + data[start:start + 64] * draw(st.integers(2, 50)) + data[start:]
    return bytes(data)


@settings(FAST, max_examples=300)
@given(mutated_image())
def test_load_image_on_mutated_bytes_raises_only_unreadable_image(data):
    try:
        image = load_image(data)
    except UnreadableImage:
        return
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
