"""Isaac Sim RTX LiDAR profiles (JSON), loaded unchanged, and the ray pattern of one scan.

Profiles are Isaac Sim 5.1's ``data/lidar_configs/**.json`` files (format in
``reference/replicator-and-peers.md`` §3.1). The model (DESIGN §9 "LiDAR model"):

- firings per scan = ⌊reportRateBaseHz / scanRateBaseHz⌋ per emitter; firing k happens at
  k / reportRate and uses emitter state ``k mod emitterStateCount``; emitter e fires at that
  time plus its ``fireTimeNs``;
- rotary: the head turns at ``scanRateBaseHz``; at time t a ray's azimuth is the emitter's
  ``azimuthDeg`` + 360°·scanRate·t, turning towards −azimuth for ``rotationDirection: CW`` (seen
  from above, +x forward, +y left, z up; x+ is 0°, y+ is 90°, as the profiles' comments say);
- solid state: the emitters' (azimuth, elevation) grid, each ray at its fire time;
- ``rangeAccuracyM`` is the 1σ of Gaussian range noise, ranges are quantised to
  ``rangeResolutionM`` only when noise is on; angle errors (mean + σ, degrees) perturb the ray;
- intensity = clip(ρ·cosθ·(r₀/r)² / minReflectance, 0, 1) with r₀ = ``minReflectanceRange``
  (``legacy``); a LiDAR may report the calibrated reflectivity ρ·cosθ instead and drop returns
  by their signal (``sensors.models.lidar_signal``), and use ``minDistBetweenEchos`` to split
  a beam's echoes (``sensors.models.lidar_returns``).

Keys the model does not use (``comment*``, ``startAzimuthDeg``, ``vertOffsetM``, …) are kept;
an unknown key close to a known one is reported with a did-you-mean warning; none is rejected.
Inconsistent values (array lengths ≠ ``numberOfEmitters``, far ≤ near, non-positive rates…)
are rejected naming the file, key and values.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BadInputError, Issue

__all__ = [
    "EmitterState",
    "LidarProfile",
    "ScanPattern",
    "load_profile",
    "parse_profile",
    "profile_from_simple",
    "scan_pattern",
]

log = logging.getLogger(__name__)

KNOWN_KEYS = {
    "scanType",
    "intensityProcessing",
    "rotationDirection",
    "rayType",
    "nearRangeM",
    "farRangeM",
    "minDistBetweenEchos",
    "rangeResolutionM",
    "rangeAccuracyM",
    "avgPowerW",
    "minReflectance",
    "minReflectanceRange",
    "wavelengthNm",
    "pulseTimeNs",
    "azimuthErrorMean",
    "azimuthErrorStd",
    "elevationErrorMean",
    "elevationErrorStd",
    "maxReturns",
    "scanRateBaseHz",
    "reportRateBaseHz",
    "numberOfEmitters",
    "numberOfChannels",
    "rangeCount",
    "ranges",
    "effectiveApertureSize",
    "focusDistM",
    "stateResolutionStep",
    "numLines",
    "numRaysPerLine",
    "intensityMappingType",
    "emitterStateCount",
    "emitterStates",
    "startAzimuthDeg",
    "endAzimuthDeg",
    "upElevationDeg",
    "downElevationDeg",
}
STATE_KEYS = {"azimuthDeg", "elevationDeg", "fireTimeNs", "channelId", "rangeId", "bank", "vertOffsetM"}


def _profile_error(
    file: str, line: int, col: int, key: str, message: str, expected: str | None = None, got: str | None = None
) -> BadInputError:
    """A profile problem, as every bad input: file, 1-based line/column of the key, dotted key."""
    return BadInputError([Issue(file, line, col, key, message, expected, got)])


@dataclass(frozen=True, eq=False)
class EmitterState:
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    fire_time_ns: np.ndarray
    channel_id: np.ndarray


@dataclass(frozen=True, eq=False)
class LidarProfile:
    name: str
    source: str
    scan_type: str  # "rotary" | "solidState"
    rotation_direction: str  # "CW" | "CCW"
    near_m: float
    far_m: float
    range_resolution_m: float
    range_accuracy_m: float
    azimuth_error_mean_deg: float
    azimuth_error_std_deg: float
    elevation_error_mean_deg: float
    elevation_error_std_deg: float
    max_returns: int
    scan_rate_hz: float
    report_rate_hz: float
    number_of_emitters: int
    emitter_states: tuple[EmitterState, ...]
    min_reflectance: float
    min_reflectance_range_m: float
    wavelength_nm: float
    intensity_mapping: str
    raw: dict[str, Any] = field(default_factory=dict)
    """The whole profile as read, unused keys included (for the OmniLidar prim's attributes)."""
    min_echo_separation_m: float | None = None
    """``minDistBetweenEchos``: the closest two echoes of one beam can be (multi-return)."""

    @property
    def firings_per_scan(self) -> int:
        return int(math.floor(self.report_rate_hz / self.scan_rate_hz + 1e-9))

    @property
    def rays_per_scan(self) -> int:
        return self.firings_per_scan * self.number_of_emitters

    @property
    def channels(self) -> int:
        return int(len(np.unique(np.concatenate([s.channel_id for s in self.emitter_states]))))


class _Locator:
    """Finds where a key sits in the profile text (json gives no positions per key)."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file

    def position(self, key: str, occurrence: int = 0) -> tuple[int, int]:
        matches = list(re.finditer(r'"' + re.escape(key) + r'"\s*:', self.text))
        if not matches:
            return (1, 1)
        offset = matches[min(occurrence, len(matches) - 1)].start()
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, col

    def error(
        self,
        key: str,
        message: str,
        expected: str | None = None,
        got: Any = None,
        occurrence: int = 0,
        dotted: str | None = None,
    ) -> BadInputError:
        line, col = self.position(key, occurrence)
        return _profile_error(
            self.file, line, col, dotted or f"profile.{key}", message, expected, None if got is None else repr(got)[:80]
        )


def _number(
    loc: _Locator,
    profile: dict[str, Any],
    key: str,
    default: float | None = None,
    *,
    positive: bool = False,
    non_negative: bool = False,
) -> float:
    if key not in profile:
        if default is None:
            raise loc.error(key, f"missing required key '{key}'", "this key to be present", dotted=f"profile.{key}")
        return default
    value = profile[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise loc.error(key, "not a finite number", "a number", value)
    if positive and value <= 0:
        raise loc.error(key, "must be positive", "> 0", value)
    if non_negative and value < 0:
        raise loc.error(key, "must not be negative", ">= 0", value)
    return float(value)


def _state(loc: _Locator, raw: Any, index: int, n: int) -> EmitterState:
    if not isinstance(raw, dict):
        raise loc.error("emitterStates", f"emitterStates[{index}] is not an object", "an object", type(raw).__name__)
    arrays: dict[str, np.ndarray] = {}
    for key in ("azimuthDeg", "elevationDeg", "fireTimeNs", "channelId"):
        if key not in raw:
            if key in ("azimuthDeg", "elevationDeg"):
                raise loc.error(
                    "emitterStates",
                    f"emitterStates[{index}] lacks '{key}'",
                    "azimuthDeg and elevationDeg per emitter",
                    dotted=f"profile.emitterStates[{index}].{key}",
                )
            arrays[key] = np.zeros(n) if key == "fireTimeNs" else np.arange(1, n + 1)
            continue
        values = raw[key]
        dotted = f"profile.emitterStates[{index}].{key}"
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
        ):
            raise loc.error(key, "must be a list of finite numbers", "numbers", values, index, dotted)
        if len(values) != n:
            raise loc.error(
                key, f"has {len(values)} values but numberOfEmitters is {n}", f"{n} values", len(values), index, dotted
            )
        arrays[key] = np.asarray(values, dtype=np.float64)
    if np.any(arrays["fireTimeNs"] < 0):
        raise loc.error(
            "fireTimeNs",
            "fire times must not be negative",
            ">= 0",
            float(arrays["fireTimeNs"].min()),
            index,
            f"profile.emitterStates[{index}].fireTimeNs",
        )
    for key in raw:
        if key not in STATE_KEYS and not key.startswith(("_", "comment")):
            close = difflib.get_close_matches(key, sorted(STATE_KEYS), n=1, cutoff=0.8)
            if close:
                log.warning("%s: emitterStates[%d].%s is not used; did you mean '%s'?", loc.file, index, key, close[0])
    return EmitterState(
        arrays["azimuthDeg"], arrays["elevationDeg"], arrays["fireTimeNs"], arrays["channelId"].astype(np.int64)
    )


def parse_profile(text: str, file: str, name: str | None = None) -> LidarProfile:
    """Validate a profile's JSON text; raise ``BadInputError`` naming file, key and values."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _profile_error(file, exc.lineno, exc.colno, "(document)", f"JSON syntax error: {exc.msg}") from None
    loc = _Locator(text, file)
    if not isinstance(data, dict) or not isinstance(data.get("profile"), dict):
        raise _profile_error(
            file,
            1,
            1,
            "profile",
            "a LiDAR profile is an object with a 'profile' object",
            '{"profile": {...}}',
            type(data.get("profile") if isinstance(data, dict) else data).__name__,
        )
    p = data["profile"]
    for key in p:
        if key not in KNOWN_KEYS and not key.startswith(("_", "comment")):
            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=0.8)
            if close:
                log.warning("%s: profile key '%s' is not used; did you mean '%s'?", file, key, close[0])
    scan_type = p.get("scanType")
    if scan_type not in ("rotary", "solidState"):
        raise loc.error("scanType", "unknown scanType", "rotary or solidState", scan_type)
    direction = p.get("rotationDirection", "CW")
    if direction not in ("CW", "CCW"):
        raise loc.error("rotationDirection", "unknown rotationDirection", "CW or CCW", direction)
    near = _number(loc, p, "nearRangeM", non_negative=True)
    far = _number(loc, p, "farRangeM", positive=True)
    if far <= near:
        raise loc.error("farRangeM", "farRangeM must be greater than nearRangeM", f"> {near}", far)
    scan_rate = _number(loc, p, "scanRateBaseHz", positive=True)
    report_rate = _number(loc, p, "reportRateBaseHz", positive=True)
    if report_rate < scan_rate:
        raise loc.error(
            "reportRateBaseHz",
            "reportRateBaseHz is below scanRateBaseHz (no firing per scan)",
            f">= {scan_rate}",
            report_rate,
        )
    n_raw = p.get("numberOfEmitters")
    if isinstance(n_raw, bool) or not isinstance(n_raw, int) or n_raw < 1:
        raise loc.error("numberOfEmitters", "must be a positive integer", "an integer >= 1", n_raw)
    states_raw = p.get("emitterStates")
    if not isinstance(states_raw, list) or not states_raw:
        raise loc.error(
            "emitterStates", "emitterStates must be a non-empty list", "a list of emitter states", states_raw
        )
    count = p.get("emitterStateCount", len(states_raw))
    if count != len(states_raw):
        raise loc.error(
            "emitterStateCount",
            f"emitterStateCount is {count} but there are {len(states_raw)} states",
            f"{len(states_raw)}",
            count,
        )
    states = tuple(_state(loc, raw, i, n_raw) for i, raw in enumerate(states_raw))
    min_refl = _number(loc, p, "minReflectance", 0.1, positive=True)
    if min_refl > 1:
        raise loc.error("minReflectance", "minReflectance is a reflectance", "a value in (0, 1]", min_refl)
    max_returns = p.get("maxReturns", 1)
    if isinstance(max_returns, bool) or not isinstance(max_returns, int) or max_returns < 1:
        raise loc.error("maxReturns", "must be a positive integer", "an integer >= 1", max_returns)
    return LidarProfile(
        name=name or str(data.get("name") or Path(file).stem),
        source=file,
        scan_type=scan_type,
        rotation_direction=direction,
        near_m=near,
        far_m=far,
        range_resolution_m=_number(loc, p, "rangeResolutionM", 0.0, non_negative=True),
        range_accuracy_m=_number(loc, p, "rangeAccuracyM", 0.0, non_negative=True),
        azimuth_error_mean_deg=_number(loc, p, "azimuthErrorMean", 0.0),
        azimuth_error_std_deg=_number(loc, p, "azimuthErrorStd", 0.0, non_negative=True),
        elevation_error_mean_deg=_number(loc, p, "elevationErrorMean", 0.0),
        elevation_error_std_deg=_number(loc, p, "elevationErrorStd", 0.0, non_negative=True),
        max_returns=max_returns,
        scan_rate_hz=scan_rate,
        report_rate_hz=report_rate,
        number_of_emitters=n_raw,
        emitter_states=states,
        min_reflectance=min_refl,
        min_reflectance_range_m=_number(loc, p, "minReflectanceRange", 100.0, positive=True),
        wavelength_nm=_number(loc, p, "wavelengthNm", 905.0, positive=True),
        intensity_mapping=str(p.get("intensityMappingType", "LINEAR")),
        raw=data,
        min_echo_separation_m=(
            _number(loc, p, "minDistBetweenEchos", positive=True) if "minDistBetweenEchos" in p else None
        ),
    )


def load_profile(path: Path, name: str | None = None) -> LidarProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _profile_error(str(path), 1, 1, "(document)", f"cannot read profile: {exc}") from None
    return parse_profile(text, str(path), name or path.stem)


def profile_from_simple(name: str, spec: Any) -> LidarProfile:
    """An idealised rotary profile from a scenario's inline ``simple`` LiDAR."""
    n = spec.channels
    lo, hi = spec.elevation_deg
    elevation = np.linspace(hi, lo, n) if n > 1 else np.array([(lo + hi) / 2])
    state = EmitterState(np.zeros(n), elevation, np.zeros(n), np.arange(1, n + 1))
    return LidarProfile(
        name=name,
        source="<inline>",
        scan_type="rotary",
        rotation_direction=spec.rotation_direction,
        near_m=spec.range_m[0],
        far_m=spec.range_m[1],
        range_resolution_m=0.0,
        range_accuracy_m=spec.range_accuracy_m,
        azimuth_error_mean_deg=0.0,
        azimuth_error_std_deg=0.0,
        elevation_error_mean_deg=0.0,
        elevation_error_std_deg=0.0,
        max_returns=1,
        scan_rate_hz=spec.scan_rate_hz,
        report_rate_hz=spec.scan_rate_hz * spec.azimuth_steps,
        number_of_emitters=n,
        emitter_states=(state,),
        min_reflectance=0.1,
        min_reflectance_range_m=100.0,
        wavelength_nm=905.0,
        intensity_mapping="LINEAR",
        raw={
            "profile": {
                "scanType": "rotary",
                "rotationDirection": spec.rotation_direction,
                "nearRangeM": spec.range_m[0],
                "farRangeM": spec.range_m[1],
                "scanRateBaseHz": spec.scan_rate_hz,
                "reportRateBaseHz": spec.scan_rate_hz * spec.azimuth_steps,
                "numberOfEmitters": n,
                "rangeAccuracyM": spec.range_accuracy_m,
                "emitterStateCount": 1,
                "emitterStates": [
                    {
                        "azimuthDeg": [0.0] * n,
                        "elevationDeg": elevation.tolist(),
                        "fireTimeNs": [0] * n,
                        "channelId": list(range(1, n + 1)),
                    }
                ],
            }
        },
    )


@dataclass(frozen=True, eq=False)
class ScanPattern:
    """Every ray of one full scan, in firing order (time non-decreasing)."""

    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    time_ns: np.ndarray  # int64, from the scan start
    emitter: np.ndarray  # uint32 emitter index within its state
    channel: np.ndarray  # uint32 channel id from the profile

    def __len__(self) -> int:
        return len(self.time_ns)


def scan_pattern(profile: LidarProfile) -> ScanPattern:
    firings = profile.firings_per_scan if profile.scan_type == "rotary" else max(1, profile.firings_per_scan)
    n = profile.number_of_emitters
    k = np.repeat(np.arange(firings), n)
    states = profile.emitter_states
    state_of = k % len(states)
    e = np.tile(np.arange(n), firings)
    az = np.empty(len(k))
    el = np.empty(len(k))
    fire = np.empty(len(k))
    channel = np.empty(len(k), dtype=np.int64)
    for s, state in enumerate(states):
        sel = state_of == s
        az[sel] = state.azimuth_deg[e[sel]]
        el[sel] = state.elevation_deg[e[sel]]
        fire[sel] = state.fire_time_ns[e[sel]]
        channel[sel] = state.channel_id[e[sel]]
    time_ns = k * (1e9 / profile.report_rate_hz) + fire
    if profile.scan_type == "rotary":
        sign = -1.0 if profile.rotation_direction == "CW" else 1.0
        az = az + sign * 360.0 * profile.scan_rate_hz * time_ns * 1e-9
    order = np.argsort(time_ns, kind="stable")
    az_rad = np.radians((az[order] + 180.0) % 360.0 - 180.0)
    return ScanPattern(
        az_rad,
        np.radians(el[order]),
        np.round(time_ns[order]).astype(np.int64),
        e[order].astype(np.uint32),
        channel[order].astype(np.uint32),
    )
