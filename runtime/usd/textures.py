"""Texture images: files read with Pillow, procedural checker and value noise generated.

The same pixels serve the embedded renderer and, written as PNG next to the stage, Isaac Sim,
so both see one texture. Colours in textures are sRGB-encoded (as image files are) and decoded
to linear for shading.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ...scenarios.budget import CHECKER_PIXELS_PER_SQUARE, MAX_TEXTURE_PIXELS, NOISE_SIZE_PX
from ...scenarios.model import CheckerTexture, NoiseTexture, TextureSpec

__all__ = [
    "NOISE_SIZE_PX",
    "TextureFileError",
    "check_texture_file",
    "load_texture",
    "procedural_image",
    "srgb_to_linear",
    "write_png",
]


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
    raise ValueError("not a procedural texture")


def load_texture(spec: TextureSpec, file: Path | None) -> np.ndarray:
    """(H, W, 3) linear RGB of a texture (file textures are decoded from sRGB)."""
    if spec.file is None:
        return procedural_image(spec)
    from PIL import Image

    assert file is not None
    with _sizes_checked_by_us(), Image.open(file) as img:  # sized at validation
        rgb = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
    return srgb_to_linear(rgb)


def write_png(image_linear: np.ndarray, path: Path) -> None:
    from PIL import Image

    data = np.round(_linear_to_srgb(image_linear) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data).save(path)
