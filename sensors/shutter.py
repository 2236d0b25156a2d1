"""When each pixel sample sees the scene: a camera's shutter as times about the capture instant.

A frame's capture instant (t = 0) is the middle of its exposure. With a **global** shutter
every row is exposed over [−exposure/2, +exposure/2]. With a **rolling** shutter row r starts
``line_time`` after row r − 1 (rows read out top to bottom), so row r is exposed over its own
window centred on

    t_row(r) = (r + ½ − H/2) · line_time

(the middle of the readout is the capture instant, as for the global shutter). Labels take one
time per pixel: 0 (global) or t_row (rolling). RGB takes one time per sub-pixel sample: the
row's centre plus an offset uniform over the exposure, stratified over a pixel's n samples
(sample k in stratum k, the strata shifted by one random amount per pixel so neighbouring
pixels do not share their times: a Cranley–Patterson rotation), drawn from the generator the
caller passes (the frame's, keyed by camera). Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Shutter"]


@dataclass(frozen=True)
class Shutter:
    exposure_s: float
    """How long each row is exposed, in seconds (0: an instant)."""
    line_time_s: float = 0.0
    """Rolling shutter: delay between consecutive rows' exposures, in seconds (0: global)."""

    @property
    def rolling(self) -> bool:
        return self.line_time_s > 0.0

    @property
    def instantaneous(self) -> bool:
        """Every pixel has one time (no exposure to integrate over)."""
        return self.exposure_s == 0.0

    def row_times(self, height: int) -> np.ndarray:
        """(H,) the middle of each row's exposure, seconds from the capture instant."""
        return (np.arange(height, dtype=np.float64) + 0.5 - height / 2) * self.line_time_s

    def label_times(self, height: int, width: int) -> np.ndarray:
        """(H·W,) one time per pixel, row-major: the middle of its row's exposure."""
        return np.repeat(self.row_times(height), width)

    def sample_times(self, rng: np.random.Generator, samples: int, height: int, width: int) -> np.ndarray:
        """(samples, H·W) times of each pixel's sub-pixel samples: its row's middle plus a
        stratified offset over the exposure (no draw when the exposure is 0)."""
        base = self.label_times(height, width)
        if self.instantaneous:
            return np.broadcast_to(base, (samples, base.size)).copy()
        u = rng.random((samples, base.size))
        shift = rng.random(base.size)
        strata = np.arange(samples, dtype=np.float64)[:, None]
        frac = np.mod((strata + u) / samples + shift, 1.0)
        return base + (frac - 0.5) * self.exposure_s
