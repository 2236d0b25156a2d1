"""A camera's image sensor and ISP, after the renderer, in linear light (issue 17, item 3).

Order, as in a camera: optics → photo-electrons (shot noise) → dark signal → read noise → full
well → ADC (gain, black level, bit depth): the ``raw`` annotator, in DN; then the ISP: black
level subtraction, white balance, a tone (gamma) curve, 8 bits, and JPEG: the ``rgb`` annotator.

Per pixel and colour channel (each channel is its own photosite; no Bayer mosaic), with ``L`` the
linear ``HdrColor`` radiance and every parameter drawn per frame (:class:`SensorDraw`):

- expected photo-electrons μ_e = L · 2^(ev₀ + exposure_ev) · V(r) · full_well_e · (1 + prnu · P)
  with ev₀ the scene's ``render.tone_map.exposure_ev`` — so a linear value of 1 (after exposure)
  fills the well, as 1 is white in the renderer's ``clamp`` tone map; V is the lens's relative
  illumination (the cos⁴ law of a lens whose corner ray is off-axis by θ_c, scaled so the corner
  keeps 1 − ``vignetting``), P a fixed per-pixel
  normal map (PRNU: photo-response non-uniformity);
- electrons = min(Poisson(μ_e) + Poisson(dark_current_e_per_s · integration_time_s), full_well_e)
  + dsnu_e · D + Normal(0, read_noise_e) (D: the fixed dark-signal map, DSNU; offsets and read
  noise act after the well, around the black level, so they may be negative);
- DN = round(gain_dn_per_e · electrons + black_level_dn), clipped to [0, 2^bit_depth − 1].

So a flat field's temporal variance in DN is K·(μ_DN − μ_dark) + K²σ_read² + 1/12 (quantisation)
with K = gain_dn_per_e: the photon transfer curve of EMVA 1288, which the tests recover.

The fixed-pattern maps (P, D) belong to the sensor, not the frame: they come from a generator
keyed by the camera, not the frame, so every frame of a run shows the same pattern.

Pure numpy (JPEG through Pillow), so the models run on Isaac Sim payloads unchanged.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

__all__ = [
    "FixedPattern",
    "SensorDraw",
    "develop",
    "expose",
    "jpeg_roundtrip",
    "relative_illumination",
]


@dataclass(frozen=True)
class SensorDraw:
    """One frame's sensor and ISP parameters (every one drawn from the scenario's distribution
    and recorded in the frame's lineage)."""

    full_well_e: float
    gain_dn_per_e: float
    read_noise_e: float
    dark_current_e_per_s: float
    integration_time_s: float
    prnu: float
    dsnu_e: float
    black_level_dn: float
    bit_depth: int
    exposure_ev: float
    vignetting: float
    white_balance: tuple[float, float, float]
    gamma: float
    """Display exponent of the tone curve; 0 selects the sRGB transfer function."""
    jpeg_quality: int
    """JPEG quality 1..100; 0: no JPEG."""

    def lineage(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def max_dn(self) -> int:
        return (1 << self.bit_depth) - 1

    @property
    def white_dn(self) -> float:
        """DN of a full well (the ADC's top code if the well reaches past it)."""
        return min(float(self.max_dn), self.gain_dn_per_e * self.full_well_e + self.black_level_dn)


@dataclass(frozen=True)
class FixedPattern:
    """The sensor's fixed-pattern maps, standard normal per pixel and channel: ``prnu`` scales
    ``gain``, ``dsnu_e`` scales ``offset``."""

    gain: np.ndarray
    offset: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, height: int, width: int) -> FixedPattern:
        return cls(rng.standard_normal((height, width, 3)), rng.standard_normal((height, width, 3)))


_CORNER_OFF_AXIS_DEG = 35.0
"""Off-axis angle of the image corner the vignetting profile assumes (a moderate wide angle);
only the profile's shape depends on it, the corner value is ``1 − vignetting``."""


def relative_illumination(height: int, width: int, vignetting: float) -> np.ndarray:
    """(H, W) relative illumination: cos⁴ of the off-axis angle of a lens whose corner is
    ``_CORNER_OFF_AXIS_DEG`` off-axis, raised to the power that leaves ``1 − vignetting`` in the
    corners (1 at the centre, falling smoothly and radially)."""
    if vignetting <= 0.0:
        return np.ones((height, width))
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    r = np.hypot(u + 0.5 - width / 2, v + 0.5 - height / 2) / math.hypot(width / 2, height / 2)
    cos4 = np.cos(np.arctan(r * math.tan(math.radians(_CORNER_OFF_AXIS_DEG)))) ** 4
    corner = math.cos(math.radians(_CORNER_OFF_AXIS_DEG)) ** 4
    exponent = math.log(max(1.0 - vignetting, 1e-6)) / math.log(corner)
    return cos4**exponent


def expose(
    linear: np.ndarray, draw: SensorDraw, rng: np.random.Generator, pattern: FixedPattern, base_ev: float = 0.0
) -> np.ndarray:
    """The ``raw`` image: (H, W, 3) uint16 DN of linear radiance (H, W, ≥3; HdrColor's RGB);
    ``base_ev`` is the scene's exposure (``render.tone_map.exposure_ev``), added to the draw's."""
    rgb = np.nan_to_num(np.asarray(linear[..., :3], dtype=np.float64), nan=0.0, posinf=1e30)
    h, w = rgb.shape[:2]
    illumination = relative_illumination(h, w, draw.vignetting)[..., None]
    gain = np.maximum(1.0 + draw.prnu * pattern.gain, 0.0)
    mean_e = np.clip(rgb * (2.0 ** (base_ev + draw.exposure_ev)) * illumination * gain, 0.0, 1e6) * draw.full_well_e
    electrons = rng.poisson(mean_e).astype(np.float64)  # photon shot noise (capped far above any well)
    dark_e = draw.dark_current_e_per_s * draw.integration_time_s
    if dark_e > 0.0:
        electrons += rng.poisson(dark_e, size=electrons.shape)
    electrons = np.minimum(electrons, draw.full_well_e)  # the well holds no more
    # offsets and read noise enter the analogue chain after the well, around the black level,
    # so they may go below zero there (that is what the black level is for)
    if draw.dsnu_e > 0.0:
        electrons += draw.dsnu_e * pattern.offset
    if draw.read_noise_e > 0.0:
        electrons += rng.normal(0.0, draw.read_noise_e, size=electrons.shape)
    dn = np.rint(draw.gain_dn_per_e * electrons + draw.black_level_dn)
    return np.clip(dn, 0, draw.max_dn).astype(np.uint16)


def _srgb_encode(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


def develop(raw: np.ndarray, draw: SensorDraw) -> np.ndarray:
    """The ISP: (H, W, 4) uint8 RGBA (alpha 255, as Replicator's ``rgb``) from ``raw`` DN —
    black level removed, scaled so a full well is 1, white balanced, tone curve, 8 bits."""
    span = max(draw.white_dn - draw.black_level_dn, 1e-9)
    x = np.clip((raw.astype(np.float64) - draw.black_level_dn) / span, 0.0, None)
    x = np.clip(x * np.asarray(draw.white_balance, dtype=np.float64), 0.0, 1.0)
    x = _srgb_encode(x) if draw.gamma == 0.0 else np.power(x, 1.0 / draw.gamma)
    out = np.full((*raw.shape[:2], 4), 255, dtype=np.uint8)
    out[..., :3] = np.rint(x * 255.0).astype(np.uint8)
    return out


def jpeg_roundtrip(rgba: np.ndarray, quality: int) -> np.ndarray:
    """The image a camera's JPEG encoder delivers, decoded: (H, W, 4) uint8, alpha 255 (Pillow's
    libjpeg, 4:2:0 chroma subsampling, no metadata: the same bytes in every process)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    decoded = np.asarray(Image.open(buffer).convert("RGB"))
    out = np.full_like(rgba, 255)
    out[..., :3] = decoded
    return out
