"""Checks with a verdict (pass, warn, fail) over a run folder: frames the run promised, empty
images, zero-area boxes, labels that disagree with the instance masks, NaN/inf where the
output contract allows none, physics settle caps and fallen bodies, and ``verify``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..sensors.outputs import BACKGROUND, UNLABELLED
from .folder import RunFolder
from .labels import TIGHT, Instances

__all__ = ["ALLOWED_NON_FINITE", "CHECKS", "Verifier", "run_checks", "verdict_of"]

Verifier = Callable[[Path], list[str]]
"""``scenesmith verify``'s folder check: the problem lines of a folder (empty when it matches)."""

ALLOWED_NON_FINITE: dict[str, frozenset[str]] = {
    # DESIGN §9: no hit is +inf for both distance annotators
    "distance_to_camera": frozenset({"+inf"}),
    "distance_to_image_plane": frozenset({"+inf"}),
    # README "Cameras as sensors": REP 118, NaN no depth, -inf too near, +inf too far
    "depth_sensor": frozenset({"nan", "-inf", "+inf"}),
    # README "Motion blur": NaN where the place a pixel shows was outside the previous view
    "motion_vectors": frozenset({"nan"}),
}
"""Annotator → the non-finite values its contract allows; every other float may hold none."""

MAX_LISTED = 50
"""Frames listed per check (the detail says how many there are)."""
SEGMENTATION = "instance_segmentation"
CHUNK_FRAMES = 64
DENSE_IDS = 1 << 16
"""Instance ids below this are counted directly (ours are 2 + a labelled prim's index)."""


def _check(name: str, verdict: str, detail: str, frames: list[int] | None = None) -> dict[str, Any]:
    listed = sorted(set(frames or []))
    return {"name": name, "verdict": verdict, "detail": detail, "frames": listed[:MAX_LISTED]}


def check_frames(run: RunFolder) -> dict[str, Any]:
    start, stop = int(run.run["frames"]["start"]), int(run.run["frames"]["stop"])
    have = set(run.frames.tolist())
    missing = [f for f in range(start, stop) if f not in have]
    if missing:
        return _check(
            "frames_complete", "fail", f"{len(missing)} of {stop - start} frames missing from the shards", missing
        )
    return _check("frames_complete", "pass", f"all {stop - start} frames present")


def check_empty(inst: Instances) -> dict[str, Any]:
    labelled = set(zip(inst.frame.tolist(), inst.camera.tolist()))
    empty = [(f, c) for f, c in inst.images if (f, c) not in labelled]
    if empty:
        return _check(
            "empty_frames",
            "warn",
            f"{len(empty)} of {len(inst.images)} camera images have no labelled instance",
            [f for f, _ in empty],
        )
    return _check("empty_frames", "pass", f"every one of {len(inst.images)} camera images has labels")


def check_zero_area(inst: Instances) -> dict[str, Any]:
    zero = inst.stats["box_area_px"] <= 0
    if zero.any():
        return _check(
            "zero_area_boxes", "fail", f"{int(zero.sum())} tight 2D boxes enclose no pixel", inst.frame[zero].tolist()
        )
    return _check("zero_area_boxes", "pass", f"all {len(zero)} tight 2D boxes enclose pixels")


def _mask_boxes(seg: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """Per instance id in a (H, W) id image, its inclusive (x_min, y_min, x_max, y_max):
    which ids occur in each column and each row, from two bincounts (ids are small, DESIGN §9)."""
    h, w = seg.shape
    top = int(seg.max()) if seg.size else 0
    if top < DENSE_IDS:
        dense = seg.astype(np.int64)
        ids = np.nonzero(np.bincount(dense.ravel(), minlength=top + 1))[0]
        n = top + 1
    else:  # sparse ids (another backend's): number them first
        ids, inverse = np.unique(seg.ravel(), return_inverse=True)
        dense = inverse.reshape(h, w).astype(np.int64)
        n = len(ids)
    cols = np.bincount((dense * w + np.arange(w)).ravel(), minlength=n * w).reshape(n, w) > 0
    rows = np.bincount((dense * h + np.arange(h)[:, None]).ravel(), minlength=n * h).reshape(n, h) > 0
    index = ids if top < DENSE_IDS else np.arange(n)
    x0, x1 = cols.argmax(1), w - 1 - cols[:, ::-1].argmax(1)
    y0, y1 = rows.argmax(1), h - 1 - rows[:, ::-1].argmax(1)
    return {int(i): (int(x0[j]), int(y0[j]), int(x1[j]), int(y1[j])) for i, j in zip(ids, index)}


def check_label_mask(run: RunFolder) -> dict[str, Any]:
    """Every labelled instance in a mask has a tight box enclosing exactly its pixels, and every
    box has pixels; matched by prim path, since annotators keep their own id spaces (DESIGN §9)."""
    import h5py

    bad: list[int] = []
    problems: list[str] = []
    checked = 0
    for camera in run.group_names("cameras"):
        base = f"cameras/{camera}"
        if not (run.has(f"{base}/{SEGMENTATION}/data") and run.has(f"{base}/{TIGHT}")):
            continue
        for path in run.shards:
            with h5py.File(path, "r") as f:
                frames = f["frames"][:]
                seg_ds = f[f"{base}/{SEGMENTATION}/data"]
                seg_maps = f[f"{base}/{SEGMENTATION}/idToLabels"][:]
                sem_maps = (
                    f[f"{base}/{SEGMENTATION}/idToSemantics"][:]
                    if "idToSemantics" in f[f"{base}/{SEGMENTATION}"]
                    else None
                )
                box = f[f"{base}/{TIGHT}"]
                data, off = box["data/values"][:], box["data/frame_offsets"][:]
                prims = box["primPaths/values"][:]
                for lo in range(0, len(frames), CHUNK_FRAMES):
                    block = seg_ds[lo : lo + CHUNK_FRAMES]
                    for j, seg in enumerate(block):
                        k = lo + j
                        checked += 1
                        to_path = json.loads(seg_maps[k])
                        classes = json.loads(sem_maps[k]) if sem_maps is not None else {}
                        in_mask = {}
                        for iid, extent in _mask_boxes(seg).items():
                            label = to_path.get(str(iid))
                            cls = classes.get(str(iid), {})
                            cls = cls.get("class") if isinstance(cls, dict) else cls
                            if label in (None, BACKGROUND, UNLABELLED) or cls in (BACKGROUND, UNLABELLED):
                                continue
                            in_mask[str(label)] = extent
                        in_boxes = {}
                        for r in range(off[k], off[k + 1]):
                            p = prims[r].decode() if isinstance(prims[r], bytes) else str(prims[r])
                            row = data[r]
                            in_boxes[p] = (int(row["x_min"]), int(row["y_min"]), int(row["x_max"]), int(row["y_max"]))
                        frame = int(frames[k])
                        for p in sorted(set(in_mask) | set(in_boxes)):
                            if p not in in_boxes:
                                problems.append(f"frame {frame} {camera}: {p} has mask pixels but no box")
                            elif p not in in_mask:
                                problems.append(f"frame {frame} {camera}: {p} has a box but no mask pixels")
                            elif in_mask[p] != in_boxes[p]:
                                problems.append(
                                    f"frame {frame} {camera}: {p} box {in_boxes[p]} != mask extent {in_mask[p]}"
                                )
                            else:
                                continue
                            bad.append(frame)
    if not checked:
        return _check("label_mask", "pass", "no camera has both instance masks and tight boxes")
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return _check("label_mask", "fail", "; ".join(problems[:3]) + more, bad)
    return _check("label_mask", "pass", f"boxes match the instance masks in {checked} camera images")


def _non_finite(array: np.ndarray) -> set[str]:
    found = set()
    if array.dtype.names:
        for name in array.dtype.names:
            found |= _non_finite(array[name])
        return found
    if array.dtype.kind != "f" or np.isfinite(array).all():  # one pass in the common case
        return found
    if np.isnan(array).any():
        found.add("nan")
    if np.isposinf(array).any():
        found.add("+inf")
    if np.isneginf(array).any():
        found.add("-inf")
    return found


def _datasets(f: Any) -> list[tuple[str, Any]]:
    import h5py

    found: list[tuple[str, Any]] = []
    f.visititems(lambda name, obj: found.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
    return found


def check_non_finite(run: RunFolder) -> dict[str, Any]:
    import h5py

    problems: dict[str, set[str]] = {}
    frames: set[int] = set()

    for path in run.shards:
        with h5py.File(path, "r") as f:
            shard_frames = f["frames"][:]
            datasets = _datasets(f)
            for name, ds in datasets:
                if ds.dtype.kind != "f" and not ds.dtype.names:
                    continue
                parts = name.split("/")
                annotator = parts[2] if parts[0] in ("cameras", "lidars") and len(parts) > 2 else parts[0]
                allowed = ALLOWED_NON_FINITE.get(annotator, frozenset())
                ragged = parts[-1] == "values"
                step = CHUNK_FRAMES if not ragged and ds.shape and ds.shape[0] == len(shard_frames) else None
                blocks = range(0, ds.shape[0], step) if step else [0]
                for lo in blocks:
                    block = ds[lo : lo + step] if step else ds[()]
                    found = _non_finite(np.asarray(block)) - allowed
                    if not found:
                        continue
                    problems.setdefault(name, set()).update(found)
                    if step:
                        arr = np.asarray(block)
                        flat = arr.reshape(len(arr), -1) if not arr.dtype.names else None
                        if flat is not None:
                            bad = np.zeros(len(arr), bool)
                            if "nan" in found:
                                bad |= np.isnan(flat).any(1)
                            if "+inf" in found:
                                bad |= np.isposinf(flat).any(1)
                            if "-inf" in found:
                                bad |= np.isneginf(flat).any(1)
                            frames.update(shard_frames[lo : lo + step][bad].tolist())
    if problems:
        detail = "; ".join(f"{n}: {', '.join(sorted(v))}" for n, v in sorted(problems.items()))
        return _check("non_finite", "fail", f"values the output contract does not allow: {detail}", sorted(frames))
    return _check("non_finite", "pass", "no NaN or infinity outside the annotators that allow them")


def check_physics(physics: dict[str, Any] | None) -> list[dict[str, Any]]:
    if physics is None:
        return []
    caps = physics["caps_reached"]
    out = [
        _check("settle_caps", "warn", f"{len(caps)} frames reached physics.settle.max_s before settling", caps)
        if caps
        else _check("settle_caps", "pass", "every settled frame settled before the cap")
    ]
    fallen = [(k, physics[k]) for k in ("fell_off_support", "left_scene") if physics.get(k, {}).get("bodies")]
    if fallen:
        detail = "; ".join(f"{k}: {v['bodies']} bodies ({', '.join(v['paths'][:5])})" for k, v in fallen)
        out.append(_check("fallen_bodies", "warn", detail, [f for _, v in fallen for f in v["frames"]]))
    else:
        out.append(_check("fallen_bodies", "pass", "no body fell off its support or left the scene"))
    return out


def check_verify(run: RunFolder, verifier: Verifier) -> dict[str, Any]:
    lines = verifier(run.out)
    if lines:
        more = f" (+{len(lines) - 3} more)" if len(lines) > 3 else ""
        return _check("verify", "fail", "; ".join(lines[:3]) + more)
    return _check("verify", "pass", "every file matches the manifest")


CHECKS = (
    "frames_complete",
    "empty_frames",
    "zero_area_boxes",
    "label_mask",
    "non_finite",
    "settle_caps",
    "fallen_bodies",
    "verify",
)
"""Every check's name, in report order."""


def run_checks(
    run: RunFolder, inst: Instances, physics: dict[str, Any] | None, verifier: Verifier | None
) -> list[dict[str, Any]]:
    checks = [
        check_frames(run),
        check_empty(inst),
        check_zero_area(inst),
        check_label_mask(run),
        check_non_finite(run),
        *check_physics(physics),
    ]
    if verifier is not None:
        checks.append(check_verify(run, verifier))
    return checks


def verdict_of(checks: list[dict[str, Any]]) -> str:
    verdicts = {c["verdict"] for c in checks}
    return "fail" if "fail" in verdicts else "warn" if "warn" in verdicts else "pass"
