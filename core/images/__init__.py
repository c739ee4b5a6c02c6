"""Images in: reading any accepted source into the RGB array the models take, resizing, augmenting.

``core.images.io`` holds the one loader (``load_image``) and the encoders; they are re-exported here
because every layer uses them.
"""
from __future__ import annotations

from core.images.formats import IMAGE_SUFFIXES, is_image_file, stored_extension
from core.images.io import (ALLOWED_FORMATS, MAX_PIXELS, ImageSource, encode_jpeg, encode_png,
                            load_image, resize_square)

__all__ = ["ALLOWED_FORMATS", "IMAGE_SUFFIXES", "MAX_PIXELS", "ImageSource", "encode_jpeg", "encode_png", "load_image",
           "resize_square", "is_image_file", "stored_extension"]
