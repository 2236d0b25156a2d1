"""Our writers fed by Replicator's own writer payloads (no Kit needed here).

Replicator hands a ``rep.Writer`` one of three payload layouts (``OgnWriter.py`` of
omni.replicator.core 1.12.27, reference §2.2), chosen by the writer's ``data_structure``:

- ``annotator``: ``{"annotators": {<anno>: {<rp>: <flat output>}, "camera": {<rp>: path},
  "resolution": {<rp>: [w, h]}}, "swhFrameNumber", "reference_time", ...}``;
- ``renderProduct``: ``{"renderProducts": {<rp>: {"camera", "resolution", <anno>: <output>}}}``;
- ``legacy``: ``{"rp_<rp>": {"camera", "resolution"}, "<anno>-<rp>": <output>}`` (just
  ``"<anno>"`` with one render product), where an output is a bare array (array only), a flat
  dict (no array), or ``{"data": array, "info": {extras}}`` with extra arrays at both levels.

:func:`normalize_payload` turns any of them into the payload our writers take (the
``annotator`` layout with flat outputs): ``_fast`` annotator names lose the suffix, registry
aliases become the standard names, empty ``(0,)`` outputs get the annotator's dtype, and
``swhFrameNumber`` becomes our frame index (Replicator's is the renderer's frame counter).
:class:`ReplicatorWriterAdapter` drives one of our writers from such payloads; the
``rep.Writer`` subclasses in ``runtime/isaac/rep_writers.py`` are thin shells around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import SCHEMA_VERSION, __version__
from ..sensors.outputs import (
    BBOX2D_DTYPE,
    BBOX3D_DTYPE,
    LIDAR_ANNOTATOR,
    OCCLUSION_DTYPE,
    PAYLOAD_TOP_KEYS,
    camera_payload,
    empty_payload,
)
from .base import RunInfo, ShardContext, Writer
from .registry import default_registry
from .splits import DEFAULT_SPLITS, SPLIT_NAME

__all__ = ["ALIASES", "LIDAR_ANNOTATORS", "ReplicatorWriterAdapter", "normalize_output", "normalize_payload"]

ALIASES = {"LdrColor": "rgb", "CameraParams": "camera_params"}
"""Registry aliases of standard annotators (``annotators_default.py``)."""
LIDAR_ANNOTATORS = frozenset({LIDAR_ANNOTATOR})
_EMPTY_DTYPES = {
    "bounding_box_2d_tight": BBOX2D_DTYPE,
    "bounding_box_2d_loose": BBOX2D_DTYPE,
    "bounding_box_3d": BBOX3D_DTYPE,
    "occlusion": OCCLUSION_DTYPE,
}
_PLUMBING = {"camera", "resolution"}


def standard_name(annotator: str) -> str:
    """``bounding_box_2d_tight_fast`` → ``bounding_box_2d_tight``; ``LdrColor`` → ``rgb``."""
    name = annotator[: -len("_fast")] if annotator.endswith("_fast") else annotator
    return ALIASES.get(name, name)


def normalize_output(annotator: str, output: Any) -> dict[str, Any]:
    """One annotator output, in whatever form Replicator delivered it, as a flat dict."""
    if isinstance(output, np.ndarray):
        flat: dict[str, Any] = {"data": output}
    elif isinstance(output, dict):
        info = output.get("info")
        flat = dict(info) if isinstance(info, dict) else {}
        # extra arrays sit at both levels in the legacy form; the top level wins
        flat.update({k: v for k, v in output.items() if k != "info"})
    else:
        raise TypeError(f"{annotator}: unexpected output of type {type(output).__name__}")
    data = flat.get("data")
    dtype = _EMPTY_DTYPES.get(standard_name(annotator))
    if dtype is not None and isinstance(data, np.ndarray) and data.size == 0 and data.dtype != dtype:
        flat["data"] = np.zeros(0, dtype=dtype)
    return flat


def _by_annotator(data: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, list[int]]]:
    """(annotator → render product → output, cameras, resolutions) from any of the layouts."""
    outputs: dict[str, dict[str, Any]] = {}
    cameras: dict[str, str] = {}
    resolutions: dict[str, list[int]] = {}
    if "annotators" in data:
        block = data["annotators"]
        cameras.update(block.get("camera", {}))
        resolutions.update(block.get("resolution", {}))
        for anno, per_rp in block.items():
            if anno not in _PLUMBING:
                outputs[anno] = dict(per_rp)
    elif "renderProducts" in data:
        for rp, block in data["renderProducts"].items():
            cameras[rp] = block.get("camera", "")
            resolutions[rp] = block.get("resolution", [0, 0])
            for anno, output in block.items():
                if anno not in _PLUMBING:
                    outputs.setdefault(anno, {})[rp] = output
    else:
        rps = [k[len("rp_") :] for k in data if k.startswith("rp_")]
        for rp in rps:
            cameras[rp] = data[f"rp_{rp}"].get("camera", "")
            resolutions[rp] = data[f"rp_{rp}"].get("resolution", [0, 0])
        for key, output in data.items():
            if key in PAYLOAD_TOP_KEYS or key.startswith("rp_"):
                continue
            anno, _, rp = key.rpartition("-") if "-" in key else (key, "", "")
            if not rp:
                if len(rps) != 1:
                    raise ValueError(f"legacy key {key!r} names no render product but there are {len(rps)}")
                rp = rps[0]
            outputs.setdefault(anno, {})[rp] = output
    return outputs, cameras, resolutions


def normalize_payload(data: dict[str, Any], frame_index: int) -> dict[str, Any]:
    """A Replicator writer payload (any ``data_structure``) as our writers' payload."""
    outputs, cameras, resolutions = _by_annotator(data)
    payload = empty_payload(frame_index, tuple(data.get("reference_time", (0, 1))))
    for key in ("distribution_outputs", "trigger_outputs", "named_outputs"):
        payload[key] = data.get(key, {})
    block = payload["annotators"]
    lidar_rps = {rp for anno, per_rp in outputs.items() if anno in LIDAR_ANNOTATORS for rp in per_rp}
    for anno, per_rp in outputs.items():
        name = standard_name(anno)
        for rp, output in per_rp.items():
            block.setdefault(name, {})[rp] = normalize_output(anno, output)
    for rp in sorted(cameras):
        if rp not in lidar_rps:
            camera_payload(payload, rp, cameras[rp], resolutions[rp])
    return payload


def _checked_splits(splits: dict[str, float] | None) -> tuple[tuple[str, float], ...]:
    """``output.splits`` as the scenario model accepts it (names, positive fractions summing to
    1), for writers built straight from Replicator scripts, where no scenario checks it."""
    if splits is None:
        return DEFAULT_SPLITS
    items = tuple((str(name), float(fraction)) for name, fraction in dict(splits).items())
    bad = [name for name, fraction in items if not SPLIT_NAME.fullmatch(name) or not fraction > 0.0]
    if not items or bad or abs(sum(f for _, f in items) - 1.0) > 1e-9:
        raise ValueError(
            f"splits: expected names matching {SPLIT_NAME.pattern} with positive fractions summing to 1, got {splits!r}"
        )
    return items


class ReplicatorWriterAdapter:
    """One of our writers, fed Replicator payloads, writing one shard into ``output_dir``.

    Frames are numbered 0, 1, … in the order they arrive. ``categories`` are the class labels
    COCO numbers (1 + index, sorted); ``frames`` bounds the frame count recorded in the shard;
    ``seed`` and ``splits`` (``output.splits``: name -> fraction) put each frame in its split
    exactly as a scenesmith run with that seed does.
    """

    def __init__(
        self,
        writer: str,
        output_dir: str | Path,
        categories: tuple[str, ...] | list[str] = (),
        frames: int = 1_000_000,
        seed: int = 0,
        splits: dict[str, float] | None = None,
        **options: Any,
    ) -> None:
        self.splits = _checked_splits(splits)
        self.out = Path(output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.writer: Writer = default_registry().get(writer)(**options)
        self.categories = tuple(sorted(categories))
        self.frames = frames
        self.seed = seed
        self.count = 0
        self.info: RunInfo | None = None

    def write(self, data: dict[str, Any]) -> None:
        payload = normalize_payload(data, self.count)
        if self.info is None:
            annotators = payload["annotators"]
            lidars = {rp for anno in LIDAR_ANNOTATORS for rp in annotators.get(anno, {})}
            self.info = RunInfo(
                __version__,
                SCHEMA_VERSION,
                "",
                "",
                self.seed,
                self.categories,
                tuple(sorted(annotators["camera"])),
                tuple(sorted(lidars)),
                {"source": "omni.replicator.core payloads"},
                splits=self.splits,
            )
            self.writer.open(ShardContext(self.out, 0, (0, self.frames), self.info))
        self.writer.write(payload)
        self.count += 1

    def finish(self) -> list[Path]:
        """Close the shard and run the writer's final merge; the files written (relative)."""
        if self.info is None:
            return []
        files = self.writer.close()
        return files + self.writer.on_final_frame(self.out, self.info, [0])
