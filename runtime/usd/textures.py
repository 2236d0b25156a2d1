"""Texture images: files read with Pillow (PNG, JPEG) or OpenCV (HDR), procedural checker and
value noise generated.

The same pixels serve the embedded renderer and, written as PNG next to the stage, Isaac Sim,
so both see one texture. Colours in PNG/JPEG textures are sRGB-encoded (as such files are) and
decoded to linear for shading; HDR lat-long images (Radiance ``.hdr``, OpenEXR ``.exr``) hold
linear radiance and light dome lights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...scenarios.budget import CHECKER_PIXELS_PER_SQUARE, MAX_TEXTURE_PIXELS, NOISE_SIZE_PX
from ...scenarios.model import CheckerTexture, NoiseTexture, TextureSpec

__all__ = [
    "HDR_SUFFIXES",
    "NOISE_SIZE_PX",
    "TextureFileError",
    "check_texture_file",
    "load_texture",
    "procedural_image",
    "srgb_to_linear",
    "write_hdr",
    "write_png",
]


HDR_SUFFIXES = (".hdr", ".exr")
"""Linear high-dynamic-range images (dome lights only)."""


def _cv2() -> object:
    import os

    # OpenCV decodes OpenEXR only when asked to before its first import
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    import cv2

    return cv2


def _radiance_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a Radiance RGBE header's resolution line, without decoding."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return None
    for line in head.split(b"\n")[1:64]:
        parts = line.split()
        if len(parts) == 4 and parts[0] in (b"-Y", b"+Y") and parts[2] in (b"+X", b"-X"):
            return int(parts[3]), int(parts[1])
    return None


def _read_hdr(path: Path) -> np.ndarray:
    """(H, W, 3) float64 linear RGB of an HDR file (TextureFileError if it is not one)."""
    cv2: Any = _cv2()
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise TextureFileError("not a readable HDR image (Radiance .hdr or OpenEXR .exr, 3 channels)")
    rgb = image[..., 2::-1].astype(np.float64)  # OpenCV's BGR(A)
    if not np.all(np.isfinite(rgb)) or rgb.min() < 0:
        raise TextureFileError("HDR image holds negative, NaN or infinite values")
    return rgb


class TextureFileError(Exception):
    """A texture file that is not a decodable image; the message says why."""


@contextmanager
def _sizes_checked_by_us() -> Iterator[None]:
    """Pillow's own decompression-bomb limit off: sizes are checked against our budget (from the
    header, before decoding) or lifted by ``--allow-large``; Pillow's would otherwise warn on
    stderr from 89M pixels and refuse from 179M whatever the flag says."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def check_texture_file(path: Path, max_pixels: int | None = MAX_TEXTURE_PIXELS) -> tuple[int, int]:
    """(width, height) of an image file, after decoding it completely.

    Run at validation so a file that is not an image (or is truncated) is bad input before the
    output folder exists, not a crash at the first frame. The size is read from the header
    first: an image over ``max_pixels`` (``None``: no limit) is returned undecoded, for the
    budget to refuse, so a decompression bomb is never expanded.
    """
    if path.suffix.lower() in HDR_SUFFIXES:
        size = _radiance_size(path) if path.suffix.lower() == ".hdr" else None
        if size is not None and max_pixels is not None and size[0] * size[1] > max_pixels:
            return size
        h, w = _read_hdr(path).shape[:2]
        return w, h
    from PIL import Image

    try:
        with _sizes_checked_by_us(), Image.open(path) as img:
            size = (int(img.width), int(img.height))
            if max_pixels is not None and size[0] * size[1] > max_pixels:
                return size
            img.load()
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError…)
        raise TextureFileError(f"not a readable image: {exc}") from None
    if size[0] < 1 or size[1] < 1:
        raise TextureFileError("image has no pixels")
    return size


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def _checker(spec: CheckerTexture) -> np.ndarray:
    px = CHECKER_PIXELS_PER_SQUARE  # square edges fall on pixel edges
    n = spec.squares * px
    idx = (np.arange(n) // px)[:, None] + (np.arange(n) // px)[None, :]
    a, b = np.asarray(spec.color_a), np.asarray(spec.color_b)
    return np.where((idx % 2 == 0)[..., None], a, b)


def _noise(spec: NoiseTexture) -> np.ndarray:
    # Value noise: smoothly interpolated random lattices, octaves summed; seeded by the spec.
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([spec.seed, 0x7E47])))
    n = NOISE_SIZE_PX
    total = np.zeros((n, n))
    amplitude, weight = 1.0, 0.0
    for octave in range(spec.octaves):
        cells = spec.cells * 2**octave
        lattice = rng.random((cells + 1, cells + 1))
        lattice[-1, :], lattice[:, -1] = lattice[0, :], lattice[:, 0]  # tiles seamlessly
        t = np.linspace(0, cells, n, endpoint=False)
        i = t.astype(int)
        f = t - i
        s = f * f * (3 - 2 * f)
        rows = lattice[i] * (1 - s)[:, None] + lattice[i + 1] * s[:, None]
        grid = rows[:, i] * (1 - s)[None, :] + rows[:, i + 1] * s[None, :]
        total += amplitude * grid
        weight += amplitude
        amplitude *= 0.5
    v = (total / weight)[..., None]
    return np.asarray(spec.color_a) * (1 - v) + np.asarray(spec.color_b) * v


def procedural_image(spec: TextureSpec) -> np.ndarray:
    """(H, W, 3) linear RGB of a procedural texture; row 0 is v = 1 (image convention)."""
    if spec.checker is not None:
        return _checker(spec.checker)
    if spec.noise is not None:
        return _noise(spec.noise)
    if spec.sky is not None:
        from .sky import sky_image

        return sky_image(spec.sky)
    raise ValueError("not a procedural texture")


def load_texture(spec: TextureSpec, file: Path | None, srgb: bool = True) -> np.ndarray:
    """(H, W, 3) linear RGB of a texture (PNG/JPEG decoded from sRGB, HDR files as they are);
    ``srgb=False`` reads a PNG/JPEG's values as data in [0, 1] (roughness, metallic maps)."""
    if spec.file is None:
        return procedural_image(spec)
    assert file is not None
    if file.suffix.lower() in HDR_SUFFIXES:
        return _read_hdr(file)
    from PIL import Image

    with _sizes_checked_by_us(), Image.open(file) as img:  # sized at validation
        rgb = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
    return srgb_to_linear(rgb) if srgb else rgb


def write_hdr(image_linear: np.ndarray, path: Path) -> None:
    """A Radiance .hdr file of linear RGB (what RTX reads for a procedural sky)."""
    cv2: Any = _cv2()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(image_linear[..., ::-1], dtype=np.float32)):
        raise OSError(f"cannot write {path}")


def write_png(image_linear: np.ndarray, path: Path) -> None:
    from PIL import Image

    data = np.round(_linear_to_srgb(image_linear) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data).save(path)
