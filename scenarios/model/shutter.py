"""A camera's shutter: how long it exposes, and whether its rows expose together (issue 17).

Objects and the camera move while the shutter is open (their velocities come from physics or a
``velocity`` randomizer), so RGB integrates the motion (motion blur); labels are taken at the
frame's capture instant, the middle of the exposure (global shutter), or at each row's own
middle (rolling shutter), so they stay exact (``sensors/shutter.py`` has the time model).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...sensors.shutter import Shutter
from ...sensors.spec_base import Spec, invalid

__all__ = ["MAX_EXPOSURE_S", "MAX_LINE_TIME_S", "ShutterSpec"]

MAX_EXPOSURE_S = 1.0
"""Longest exposure accepted: a second already smears anything that moves across the image."""
MAX_LINE_TIME_S = 1e-3
"""Longest row delay accepted (sensors read a row in ~5–50 µs; 1 ms × 1000 rows is a second)."""


class ShutterSpec(Spec):
    """The camera's exposure; off (an instant) when the key is absent."""

    kind: Literal["global", "rolling"] = "global"
    """global: every row exposes over the same interval; rolling: rows expose one after another,
    line_time_s apart, top row first."""
    exposure_s: Annotated[float, Field(strict=True, ge=0.0, le=MAX_EXPOSURE_S)] = 0.0
    """How long each row is exposed, in seconds (0: an instant, no motion blur)."""
    line_time_s: Annotated[float, Field(strict=True, gt=0.0, le=MAX_LINE_TIME_S)] | None = None
    """Rolling shutter only: delay between consecutive rows' exposures, in seconds."""

    @model_validator(mode="after")
    def _rows(self) -> ShutterSpec:
        if self.kind == "rolling" and self.line_time_s is None:
            raise invalid("a rolling shutter needs line_time_s", expected="line_time_s > 0", got="none")
        if self.kind == "global" and self.line_time_s is not None:
            raise invalid(
                "line_time_s is for rolling shutters", expected="kind: rolling", got="global", key="line_time_s"
            )
        return self

    def shutter(self) -> Shutter:
        """The time model of these keys."""
        return Shutter(self.exposure_s, self.line_time_s or 0.0)
