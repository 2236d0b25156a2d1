"""Label statistics of a run: one row per labelled instance per camera image (class, box area,
occlusion, visibility, truncation, distance to the camera), and the physics log's outcomes."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..sensors.physics_state import SETTLE_STATUS
from ..writers.cuboid import Pinhole, box_truncation, camera_model, cuboid_corners, to_camera
from .folder import RunFolder
from .histograms import categorical, numeric

__all__ = ["INSTANCE_STATS", "Instances", "instances", "label_section", "physics_section"]

TIGHT = "bounding_box_2d_tight"
BOX3D = "bounding_box_3d"
PARAMS = "camera_params"

INSTANCE_STATS: dict[str, tuple[str, str]] = {
    "box_area_px": ("tight 2D box area", "px"),
    "occlusion": ("occlusion ratio", ""),
    "visibility": ("visible fraction (1 - occlusion)", ""),
    "truncation": ("truncation (projected 3D box outside the image)", ""),
    "distance_m": ("distance from the camera to the box centre", "m"),
}
"""Per-instance statistics: name → (label, unit). Conditions may bin any of them."""

UNIT_RANGE = {"occlusion", "visibility", "truncation"}


@dataclass(frozen=True)
class Instances:
    """Every labelled instance of every camera image, as columns (one row each)."""

    frame: np.ndarray
    """Frame index of the row."""
    camera: np.ndarray
    """Camera (render product) name."""
    cls: np.ndarray
    """Class label (``semantics.class``)."""
    stats: dict[str, np.ndarray]
    """``INSTANCE_STATS`` columns; ``nan`` where a camera lacks the annotator."""
    images: list[tuple[int, str]]
    """Every (frame, camera) image, boxes or not."""


def _class_of(label: Any) -> str:
    if isinstance(label, dict):
        return str(label.get("class", ", ".join(f"{k}={v}" for k, v in sorted(label.items()))))
    return str(label)


def _camera_params(run: RunFolder, camera: str) -> dict[str, np.ndarray] | None:
    base = f"cameras/{camera}/{PARAMS}"
    if not run.has(base):
        return None
    names = run.group_names(base)
    return {name: run.array(f"{base}/{name}") for name in names}


def _frame_params(params: dict[str, np.ndarray], k: int) -> dict[str, Any]:
    out = {}
    for name, values in params.items():
        v = values[k]
        out[name] = v.decode("utf-8") if isinstance(v, bytes) else v
    return out


def instances(run: RunFolder) -> Instances:
    frames, cameras, classes = [], [], []
    stats: dict[str, list[np.ndarray]] = {name: [] for name in INSTANCE_STATS}
    images: list[tuple[int, str]] = []
    for camera in run.group_names("cameras"):
        images += [(int(f), camera) for f in run.frames]
        tight_name = f"cameras/{camera}/{TIGHT}"
        if not run.has(tight_name):
            continue
        rows = run.ragged(f"{tight_name}/data")
        ids = run.ragged(f"{tight_name}/bboxIds")
        maps = [json.loads(t) for t in run.strings(f"{tight_name}/idToLabels")]
        row_frame = rows.frame_of_row()
        frames.append(run.frames[row_frame])
        cameras.append(np.full(len(row_frame), camera, dtype=object))
        classes.append(
            np.array(
                [_class_of(maps[k].get(str(int(s)), "?")) for k, s in zip(row_frame, rows.values["semanticId"])],
                dtype=object,
            )
        )
        data = rows.values
        area = (data["x_max"].astype(np.int64) - data["x_min"] + 1) * (
            data["y_max"].astype(np.int64) - data["y_min"] + 1
        )
        area = np.where((data["x_max"] < data["x_min"]) | (data["y_max"] < data["y_min"]), 0, area)
        occlusion = data["occlusionRatio"].astype(np.float64)
        stats["box_area_px"].append(area.astype(np.float64))
        stats["occlusion"].append(occlusion)
        stats["visibility"].append(1.0 - occlusion)
        truncation = np.full(len(data), np.nan)
        distance = np.full(len(data), np.nan)
        params = _camera_params(run, camera)
        box_name = f"cameras/{camera}/{BOX3D}"
        if params is not None and run.has(box_name):
            boxes = run.ragged(f"{box_name}/data")
            box_ids = run.ragged(f"{box_name}/bboxIds")
            for k in range(len(run.frames)):
                wanted = ids.row(k)
                if not len(wanted):
                    continue
                frame_params = _frame_params(params, k)
                model = camera_model(frame_params)
                corners = to_camera(cuboid_corners(boxes.row(k)), frame_params)
                trunc = box_truncation(corners, Pinhole.of(model), model.width, model.height)
                dist = np.linalg.norm(corners[:, 0, :], axis=1)
                where = {int(i): j for j, i in enumerate(box_ids.row(k))}
                lo = ids.offsets[k]
                for j, iid in enumerate(wanted):
                    m = where.get(int(iid))
                    if m is not None:
                        truncation[lo + j] = trunc[m]
                        distance[lo + j] = dist[m]
        stats["truncation"].append(truncation)
        stats["distance_m"].append(distance)
    if not frames:
        empty = np.zeros(0)
        return Instances(
            empty.astype(np.int64),
            empty.astype(object),
            empty.astype(object),
            {n: empty for n in INSTANCE_STATS},
            images,
        )
    return Instances(
        np.concatenate(frames).astype(np.int64),
        np.concatenate(cameras),
        np.concatenate(classes),
        {name: np.concatenate(cols) for name, cols in stats.items()},
        images,
    )


def label_section(inst: Instances) -> dict[str, Any]:
    """``labels`` of the report: per class its instances and frames, and the histograms."""
    classes: dict[str, dict[str, int]] = {}
    for name in sorted(set(inst.cls.tolist())):
        mask = inst.cls == name
        classes[name] = {"instances": int(mask.sum()), "frames": len(set(inst.frame[mask].tolist()))}
    per_image = Counter(zip(inst.frame.tolist(), inst.camera.tolist()))
    counts = np.array([per_image.get(image, 0) for image in inst.images], dtype=np.float64)
    top = int(counts.max()) if counts.size else 0
    hists: dict[str, Any] = {
        "instances_per_frame": numeric(
            counts, label="labelled instances per camera image", bins=list(np.arange(top + 2) - 0.5)
        ),
        "class": categorical(list(classes), [c["instances"] for c in classes.values()], label="instances per class"),
    }
    for name, (label, unit) in INSTANCE_STATS.items():
        values = inst.stats[name]
        if not np.isfinite(values).any():
            continue
        if name in UNIT_RANGE:
            hists[name] = numeric(values, label=label, unit=unit, lower=0.0, upper=1.0)
        else:
            hists[name] = numeric(values, label=label, unit=unit)
    return {"classes": classes, "histograms": hists}


def physics_section(run: RunFolder) -> dict[str, Any] | None:
    """Settle outcomes and fallen bodies from the physics log (``None`` without physics)."""
    if not run.has("physics/settle_status"):
        return None
    status = run.strings("physics/settle_status")
    counts = Counter(status)
    out: dict[str, Any] = {
        "settle_status": {s: int(counts.get(s, 0)) for s in SETTLE_STATUS},
        "caps_reached": [int(f) for f, s in zip(run.frames, status) if s == "cap_reached"],
    }
    for key in ("fell_off_support", "left_scene"):
        if not run.has(f"physics/{key}"):
            continue
        ragged = run.ragged(f"physics/{key}")
        paths = run.ragged("physics/body_paths") if run.has("physics/body_paths") else None
        hit = ragged.values.astype(bool)
        rows = np.nonzero(hit)[0]
        frames = run.frames[ragged.frame_of_row()[rows]]
        bodies = []
        if paths is not None and len(paths.values) == len(ragged.values):
            bodies = sorted({(v.decode() if isinstance(v, bytes) else str(v)) for v in paths.values[rows]})
        out[key] = {"bodies": int(hit.sum()), "frames": sorted({int(f) for f in frames}), "paths": bodies}
    if run.has("physics/settle_time_s"):
        out["settle_time_s"] = numeric(run.array("physics/settle_time_s"), label="settling time", unit="s")
    return out
