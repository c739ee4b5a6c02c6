"""The one place where a path, bytes or an array becomes the RGB image the models take.

Accepted: JPEG, PNG, BMP and TIFF files (8- or 16-bit, grayscale, palette, with or without alpha,
EXIF-rotated), or a numpy array. Everything else raises ``UnreadableImage`` naming the source and
the reason: not an image, an unsupported format, a truncated file, a zero-size image, more pixels
than ``max_pixels`` (a decompression bomb is refused from its header, before it is decoded), more
bytes than ``max_bytes``, or a path that is not a regular file (a FIFO, a device such as a link to
``/dev/zero``, a folder): those are refused before a byte is read, so nothing hangs or fills memory.

Limits: ``MAX_PIXELS`` and ``MAX_IMAGE_BYTES`` are the defaults; the station raises the byte limit
from its settings once at start-up with ``set_max_image_bytes`` (as Pillow's ``MAX_IMAGE_PIXELS``),
and any call can pass its own ``max_bytes``.

Thread-safe: pure functions, no shared state (Pillow's decoders release no global state we touch).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from common.files import FileTooLarge, NotARegularFile, read_regular
from core.errors import UnreadableImage
from core.images.fast_jpeg import fast_jpeg, orientation_of, oriented

# 40 megapixels: far above any station camera (a 12 MP phone photo is 4000x3000) yet small
# enough that the decoded RGB image (120 MB) cannot exhaust the station's memory.
MAX_PIXELS: int = 40_000_000
# 64 MB: a lossless 40 MP photo as PNG or BMP stays below it; the settings can raise it.
MAX_IMAGE_BYTES: int = 64 * 1024 * 1024
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "BMP", "TIFF", "MPO"})  # MPO: phone JPEGs with previews

ImageSource = str | Path | bytes | np.ndarray


def set_max_image_bytes(limit: int) -> None:
    """Change the default byte limit of every later ``load_image`` call (start-up, from settings)."""
    global MAX_IMAGE_BYTES
    if not isinstance(limit, int) or limit < 1024:
        raise ValueError(f"the image size limit must be a whole number of bytes >= 1024, got {limit!r}")
    MAX_IMAGE_BYTES = limit


def load_image(source: str | Path | bytes | np.ndarray, *, max_pixels: int = MAX_PIXELS,
               max_bytes: int | None = None, name: str | None = None) -> np.ndarray:
    """Return an HxWx3 uint8 RGB array (a new, C-contiguous array the caller owns).

    ``name`` is used in error messages for bytes and arrays (default ``<bytes>`` / ``<array>``).
    ``max_bytes`` bounds the encoded size of a file or bytes (default ``MAX_IMAGE_BYTES``).
    """
    limit = MAX_IMAGE_BYTES if max_bytes is None else max_bytes
    if isinstance(source, np.ndarray):
        return _from_array(source, name or "<array>", max_pixels)
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<bytes>"
        if len(source) > limit:
            raise UnreadableImage(label, str(FileTooLarge(label, len(source), limit)))
        return _decode(bytes(source), label, max_pixels)
    if isinstance(source, (str, Path)):
        label = name or str(source)
        return _decode(read_image_file(source, max_bytes=limit, name=label), label, max_pixels)
    raise UnreadableImage(name or repr(type(source).__name__),
                          f"expected a path, bytes or an array, got {type(source).__name__}")


def read_image_file(path: str | Path, *, max_bytes: int | None = None, name: str | None = None) -> bytes:
    """The bytes of an image file, read only if it is a regular file within ``max_bytes``.

    For callers that keep the original bytes (the GUI's capture keeps the file as it came).
    Raises ``UnreadableImage`` for a missing, unreadable, special or oversized file.
    """
    limit = MAX_IMAGE_BYTES if max_bytes is None else max_bytes
    label = name or str(path)
    try:
        return read_regular(path, limit)
    except FileNotFoundError:
        raise UnreadableImage(label, "the file does not exist") from None
    except NotARegularFile as exc:
        if exc.kind == "a folder":
            raise UnreadableImage(label, "it is a folder, not a file") from None
        raise UnreadableImage(label, f"{exc}; only image files are read") from None
    except FileTooLarge as exc:
        raise UnreadableImage(label, f"{exc} for an image file (the setting max_image_mb raises the limit)") from None
    except OSError as exc:
        raise UnreadableImage(label, f"the file cannot be read ({exc.strerror or exc})") from None


def _decode(data: bytes, label: str, max_pixels: int) -> np.ndarray:
    if not data:
        raise UnreadableImage(label, "the file is empty")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check only warns below 2x its limit; ours is the one that counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UnreadableImage(label, "it is not an image (or not a format the station reads)") from None
    except Image.DecompressionBombError:
        raise UnreadableImage(label, "it has too many pixels (possible decompression bomb)") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for malformed headers
        raise UnreadableImage(label, f"the image header is damaged ({exc})") from None
    with img:
        if img.format not in ALLOWED_FORMATS:
            raise UnreadableImage(label, f"{img.format} images are not accepted "
                                         "(use JPEG, PNG, BMP or TIFF)")
        width, height = img.size
        _check_size(label, width, height, max_pixels)
        fast = fast_jpeg(img, data)  # plain JPEGs: OpenCV, byte-identical (None: Pillow decodes)
        if fast is not None:
            return fast
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.load()  # raises OSError("image file is truncated") on a cut-off file
                # Turned after the conversion (per-pixel, so the same pixels), as
                # ImageOps.exif_transpose would turn them, without its copy.
                rgb = oriented(_to_rgb(img), orientation_of(img))
        except UnreadableImage:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a damaged file
            raise UnreadableImage(label, f"the file is truncated or corrupt ({exc})") from None
    return rgb


def _check_size(label: str, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise UnreadableImage(label, f"the image is empty ({width}x{height} pixels)")
    if width * height > max_pixels:
        raise UnreadableImage(label, f"the image is {width}x{height} pixels, more than the limit of "
                                     f"{max_pixels:,} (possible decompression bomb)")


def _to_rgb(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit integer) grayscale: keep the top byte; PNG/TIFF 16-bit use 0..65535.
        arr = np.asarray(img).astype(np.int64)
        top = 65535 if arr.max(initial=0) > 255 else 255
        gray = np.clip(arr * 255 // top, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "F":
        arr = np.nan_to_num(np.asarray(img, dtype=np.float32))
        scale = 1.0 if arr.max(initial=0.0) <= 1.0 else 255.0
        gray = np.clip(arr / scale * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        # Transparent pixels carry arbitrary colour; put the image on white as viewers do.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.array(img, dtype=np.uint8, order="C")


def _from_array(arr: np.ndarray, label: str, max_pixels: int) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise UnreadableImage(label, f"an image array must be HxW, HxWx3 or HxWx4, got shape {arr.shape}")
    _check_size(label, int(arr.shape[1]), int(arr.shape[0]), max_pixels)
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == np.uint16:
        out = (arr >> 8).astype(np.uint8)
    elif arr.dtype == np.bool_:
        out = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.floating):
        # Floats are taken as 0..1 (the convention of skimage and torchvision).
        out = (np.clip(np.nan_to_num(arr), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    else:
        raise UnreadableImage(label, f"unsupported array type {arr.dtype}")
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    elif out.shape[2] == 4:
        alpha = out[:, :, 3:4].astype(np.uint16)
        out = ((out[:, :, :3].astype(np.uint16) * alpha + 255 * (255 - alpha)) // 255).astype(np.uint8)
    return np.ascontiguousarray(out).copy() if out is arr else np.ascontiguousarray(out)


def resize_square(img: np.ndarray, size: int) -> np.ndarray:
    """Resize to ``size x size`` the way every model sees its input (training and inference alike).

    Shrinking uses box filtering (INTER_AREA: no aliasing). OpenCV's INTER_AREA is about ten
    times slower for non-integer factors than for integer ones, so a mild bilinear step first
    brings the image to the nearest integer multiple of ``size`` (a factor below 2; mean
    difference from a direct INTER_AREA about 0.2 grey levels), then the box filter finishes.
    """
    h, w = img.shape[:2]
    if h < size or w < size:
        return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
    fy, fx = h // size, w // size
    if (h, w) != (fy * size, fx * size):
        img = cv2.resize(img, (fx * size, fy * size), interpolation=cv2.INTER_LINEAR)
    if fx == fy == 1:
        return np.ascontiguousarray(img)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def encode_png(rgb: np.ndarray) -> bytes:
    """Lossless PNG of an RGB (or grayscale) uint8 array."""
    return _encode(rgb, ".png", [cv2.IMWRITE_PNG_COMPRESSION, 3])


def encode_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    return _encode(rgb, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, int(quality)])


def _encode(rgb: np.ndarray, ext: str, params: list[int]) -> bytes:
    arr = np.asarray(rgb)
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)  # OpenCV writes BGR
    ok, buf = cv2.imencode(ext, arr, params)
    if not ok:
        raise ValueError(f"could not encode an image of shape {arr.shape} as {ext}")
    return buf.tobytes()
