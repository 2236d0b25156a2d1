"""Encoding payload RGB images as files: PNG or JPEG (Pillow).

One encoder per kind, so every writer's image of a frame is the same bytes for the same
settings: PNG at zlib level 1 (the COCO writer's setting: fast, lossless), JPEG baseline with
Pillow's defaults apart from the quality (4:2:0 chroma subsampling, no optimisation pass).
"""

from __future__ import annotations

import io

import numpy as np

__all__ = ["jpeg_bytes", "png_bytes"]

PNG_COMPRESS_LEVEL = 1


def png_bytes(rgba: np.ndarray) -> bytes:
    """The RGB channels of an (H, W, 3|4) uint8 image as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def jpeg_bytes(rgba: np.ndarray, quality: int) -> bytes:
    """The RGB channels of an (H, W, 3|4) uint8 image as baseline JPEG at ``quality`` (1–100)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()
