"""Our RGB beside the team's own photos: brightness, colour, sharpness and noise statistics.

Nothing is downloaded: ``--real DIR`` is a folder of the team's images (PNG, JPEG, BMP, TIFF,
searched recursively). Every statistic is computed the same way on both sets, on 8-bit sRGB
values as cameras write them:

- brightness: mean Rec. 709 luma Y' = 0.2126 R' + 0.7152 G' + 0.0722 B' (0–1);
- colour: gray-world ratios mean(R)/mean(G) and mean(B)/mean(G) (a colour cast moves them
  off 1) and Hasler & Süsstrunk's colourfulness (2003);
- sharpness: variance of the Laplacian of the luma, after resizing to 640 px wide so that
  photos of another resolution compare;
- noise: Immerkaer's estimate of the standard deviation of additive white noise (1996, "Fast
  noise variance estimation"), in 8-bit levels at native resolution: the image convolved with
  the difference of two Laplacians, which cancels locally linear structure.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..sensors.errors import BadInputError, Issue

__all__ = ["IMAGE_SUFFIXES", "METRICS", "compare_real", "image_statistics", "immerkaer_noise_sigma"]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
MAX_IMAGES = 256
"""Images per side at most (evenly spaced over the sorted list): enough for stable medians."""
SHARPNESS_WIDTH_PX = 640
NOTABLE_RELATIVE_DIFFERENCE = 0.2
"""Medians further apart than this (relative) are called out in the note."""

METRICS: dict[str, tuple[str, str, tuple[str, str]]] = {
    "brightness": ("mean luma Y'", "0–1", ("darker", "brighter")),
    "red_over_green": ("mean R / mean G", "", ("less red", "redder")),
    "blue_over_green": ("mean B / mean G", "", ("less blue", "bluer")),
    "colourfulness": ("Hasler–Süsstrunk colourfulness", "", ("duller", "more colourful")),
    "sharpness": ("variance of the Laplacian at 640 px wide", "", ("blurrier", "sharper")),
    "noise_sigma": ("Immerkaer noise σ", "8-bit levels", ("cleaner", "noisier")),
}
"""Statistic -> (label, unit, (words when ours is lower, when higher)): the one list."""

_IMMERKAER = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])


def _luma(rgb: np.ndarray) -> np.ndarray:
    x = rgb[..., :3].astype(np.float64)
    return 0.2126 * x[..., 0] + 0.7152 * x[..., 1] + 0.0722 * x[..., 2]


def immerkaer_noise_sigma(grey: np.ndarray) -> float:
    """σ of additive white Gaussian noise in ``grey`` (any scale): sqrt(π/2) / (6 (W−2)(H−2))
    × Σ |grey ∗ N| over the interior, N the 3 × 3 Laplacian difference (Immerkaer 1996, eq. 7)."""
    import cv2

    h, w = grey.shape
    if h < 3 or w < 3:
        return float("nan")
    conv = cv2.filter2D(grey.astype(np.float64), cv2.CV_64F, _IMMERKAER, borderType=cv2.BORDER_REFLECT)
    total = float(np.abs(conv[1:-1, 1:-1]).sum())
    return math.sqrt(math.pi / 2.0) * total / (6.0 * (w - 2) * (h - 2))


def image_statistics(rgb: np.ndarray) -> dict[str, float]:
    """Every statistic of :data:`METRICS` for one 8-bit RGB(A) image."""
    import cv2

    rgb = rgb[..., :3]
    luma = _luma(rgb)
    means = rgb.reshape(-1, 3).astype(np.float64).mean(axis=0)
    green = max(float(means[1]), 1e-9)
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    h, w = luma.shape
    scaled = (
        luma
        if w == SHARPNESS_WIDTH_PX
        else cv2.resize(
            luma, (SHARPNESS_WIDTH_PX, max(1, round(h * SHARPNESS_WIDTH_PX / w))), interpolation=cv2.INTER_AREA
        )
    )
    return {
        "brightness": float(luma.mean() / 255.0),
        "red_over_green": float(means[0] / green),
        "blue_over_green": float(means[2] / green),
        "colourfulness": float(colourfulness),
        "sharpness": float(cv2.Laplacian(scaled, cv2.CV_64F).var()),
        "noise_sigma": immerkaer_noise_sigma(luma),
    }


def _evenly(items: list[Any], limit: int) -> list[Any]:
    if len(items) <= limit:
        return items
    return [items[(i * len(items)) // limit] for i in range(limit)]


def _real_images(real_dir: Path) -> Iterator[tuple[Path, np.ndarray]]:
    import cv2

    if not real_dir.is_dir():
        raise BadInputError([Issue.option("--real", "not a folder", "a folder of your own photos", str(real_dir))])
    files = sorted(p for p in real_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise BadInputError(
            [Issue.option("--real", "holds no images", f"files ending in {', '.join(IMAGE_SUFFIXES)}", str(real_dir))]
        )
    for path in _evenly(files, MAX_IMAGES):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            logger.warning("cannot decode %s; left out of the real-image statistics", path)
            continue
        yield path, bgr[..., ::-1]


def _synthetic_images(out: Path, frames: list[int]) -> Iterator[tuple[str, np.ndarray]]:
    """RGB of the given frames from the HDF5 shards (every camera), else COCO's PNGs."""
    import cv2
    import h5py

    from .frame_views import frame_index

    index = frame_index(out)
    wanted = [f for f in frames if f in index]
    if wanted:
        for frame in wanted:
            path, row = index[frame]
            with h5py.File(path, "r") as f:
                for name in sorted(f.get("cameras", {})):
                    cam = f["cameras"][name]
                    if "rgb" in cam:
                        yield f"{frame}/{name}", cam["rgb/data"][row]
        return
    for path in _evenly(sorted((out / "coco" / "images").rglob("*.png")), MAX_IMAGES):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None:
            yield str(path.relative_to(out)), bgr[..., ::-1]


def _summary(values: list[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if len(arr) == 0:
        return {"n": 0, "median": None, "p10": None, "p90": None, "values": []}
    p10, median, p90 = np.percentile(arr, [10.0, 50.0, 90.0])
    return {
        "n": int(len(arr)),
        "median": float(median),
        "p10": float(p10),
        "p90": float(p90),
        "values": [float(v) for v in arr],
    }


def _note(name: str, ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None:
        return "no data"
    lower, higher = METRICS[name][2]
    scale = max(abs(theirs), 1e-12)
    diff = (ours - theirs) / scale
    if abs(diff) <= NOTABLE_RELATIVE_DIFFERENCE:
        return f"similar (median {ours:.3g} vs {theirs:.3g})"
    return f"synthetic {higher if diff > 0 else lower} than real (median {ours:.3g} vs {theirs:.3g})"


def compare_real(out: Path, real_dir: Path, frames: list[int]) -> dict[str, Any]:
    """The report's ``real`` section: per statistic, both samples (values, median, 10th/90th
    percentile) and a note where the medians differ by more than 20%. ``frames``: the run's
    frames to take RGB from (every camera of each)."""
    synthetic = [image_statistics(rgb) for _, rgb in _synthetic_images(out, _evenly(list(frames), MAX_IMAGES))]
    real = [image_statistics(rgb) for _, rgb in _real_images(real_dir)]
    if not real:
        raise BadInputError(
            [Issue.option("--real", "no image in it could be decoded", "PNG/JPEG photos", str(real_dir))]
        )
    metrics = []
    for name, (label, unit, _) in METRICS.items():
        ours = _summary([s[name] for s in synthetic])
        theirs = _summary([s[name] for s in real])
        metrics.append(
            {
                "name": name,
                "label": label,
                "unit": unit,
                "synthetic": ours,
                "real": theirs,
                "note": _note(name, ours["median"], theirs["median"]),
            }
        )
    return {"dir": str(real_dir), "n_synthetic": len(synthetic), "n_real": len(real), "metrics": metrics}
