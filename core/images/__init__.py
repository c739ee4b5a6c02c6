"""Images in: reading any accepted source into the RGB array the models take, resizing, augmenting.

``core.images.io`` holds the one loader (``load_image``), the bounded file reader
(``read_image_file``) and the encoders; they are re-exported here because every layer uses them.
The byte limit is changed with ``set_max_image_bytes`` (read ``core.images.io.MAX_IMAGE_BYTES``
for its current value: a re-exported constant would be a stale copy).
"""
from __future__ import annotations

from core.images.formats import IMAGE_SUFFIXES, is_image_file, stored_extension
from core.images.io import (
                            ALLOWED_FORMATS,
                            MAX_PIXELS,
                            ImageSource,
                            encode_jpeg,
                            encode_png,
                            load_image,
                            read_image_file,
                            resize_square,
                            set_max_image_bytes,
)

__all__ = ["ALLOWED_FORMATS", "IMAGE_SUFFIXES", "MAX_PIXELS", "ImageSource", "encode_jpeg", "encode_png",
           "is_image_file", "load_image", "read_image_file", "resize_square", "set_max_image_bytes",
           "stored_extension"]
