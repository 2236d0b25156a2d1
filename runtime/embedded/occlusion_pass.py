"""The occlusion pass: each labelled object ray cast alone over its projected pixel window.

Its unoccluded pixels give the loose 2D box and the denominator of ``occlusionRatio``. Rays
are the camera's own pixel-centre rays mapped into the object's local frame (its BVH is
built once, in local space); the map is affine, so hit distances are the same in both
frames. Ray setup and the hit reduction are compiled (numba); Embree does the casting.

``alone_mask`` is the same pass keeping the pixels (the ``instance_segmentation_amodal``
annotator). It casts only the rays that meet the object's local 3D box: for a pinhole camera
those are exactly the pixels inside the image-clipped 2D hull of the projected box, and the
test is just as exact through a lens, whose projected box has no simple outline (the window
is then the whole image, and the per-pixel box test keeps the cast small).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from ...sensors.camera import PinholeCamera
from ...sensors.motion import RigidMotion
from .scene import Instance

if TYPE_CHECKING:
    from .annotators import CameraHits

__all__ = ["alone_mask", "projected_window", "swept_window", "unoccluded_pixels"]

BOX_PAD = 1e-4
"""The local box is grown by this share of its size (plus a nanometre) before the ray-box test,
so a ray grazing a face the geometry shares with its box (a cube) is still cast."""


def projected_window(
    inst: Instance, matrix: np.ndarray, model: PinholeCamera, world_to_cam: np.ndarray
) -> tuple[int, int, int, int] | None:
    """Pixel window (x0, y0, x1, y1, exclusive ends) that can contain the instance."""
    if inst.local_bounds is None:
        return None
    if model.lens is not None:
        return _lens_window(inst.local_bounds, matrix, model, world_to_cam)
    lo, hi = inst.local_bounds
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    cam = corners @ matrix @ world_to_cam
    if np.all(cam[:, 2] >= -model.near_m):
        return None  # entirely behind the near plane
    if np.any(cam[:, 2] >= -model.near_m):
        return (0, 0, model.width, model.height)
    uv = model.project(cam[:, :3])
    x0, y0 = np.floor(uv.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(uv.max(axis=0)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, model.width), min(y1, model.height)
    if x0 >= x1 or y0 >= y1:
        return None
    return (int(x0), int(y0), int(x1), int(y1))


_EDGE_SAMPLES = 33
_LENS_MARGIN_PX = 2
"""Through a lens a box's edges bend: its image is bounded by the images of its edges (a lens
maps the pinhole image one-to-one where it has rays), sampled 33 times each; between samples an
edge bulges by far less than the margin."""
_CORNER_BITS = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=np.float64)
_EDGES = np.array([(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1])


def _lens_window(
    bounds: tuple[np.ndarray, np.ndarray], matrix: np.ndarray, model: PinholeCamera, world_to_cam: np.ndarray
) -> tuple[int, int, int, int] | None:
    """The pixel window of a box seen through ``model.lens``: the extent of its edges' images, or
    the whole image when part of the box has no image (beyond the field of view or a fold,
    within the near distance) or the eye is inside it."""
    lo, hi = (np.asarray(b, dtype=np.float64) for b in bounds)
    full = (0, 0, model.width, model.height)
    eye_local = np.linalg.inv(matrix @ world_to_cam)[3, :3]
    if np.all(eye_local >= lo) and np.all(eye_local <= hi):
        return full
    corners = lo + _CORNER_BITS * (hi - lo)
    t = np.linspace(0.0, 1.0, _EDGE_SAMPLES)[:, None]
    local = (corners[_EDGES[:, 0], None, :] * (1 - t) + corners[_EDGES[:, 1], None, :] * t).reshape(-1, 3)
    cam = np.hstack([local, np.ones((len(local), 1))]) @ matrix @ world_to_cam
    uv = model.project(cam[:, :3])
    if not np.isfinite(uv).all() or np.linalg.norm(cam[:, :3], axis=1).min() < model.near_m:
        return full
    x0, y0 = np.floor(uv.min(axis=0)).astype(int) - _LENS_MARGIN_PX
    x1, y1 = np.ceil(uv.max(axis=0)).astype(int) + _LENS_MARGIN_PX
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, model.width), min(y1, model.height)
    return None if x0 >= x1 or y0 >= y1 else (int(x0), int(y0), int(x1), int(y1))


def swept_window(
    inst: Instance,
    matrix: np.ndarray,
    model: PinholeCamera,
    world_to_cam: np.ndarray,
    obj: RigidMotion | None,
    cam: RigidMotion | None,
    row_times: np.ndarray,
) -> tuple[int, int, int, int] | None:
    """``projected_window`` for a rolling shutter: row r sees the object (moving by ``obj``)
    from the camera (moving by ``cam``) at ``row_times[r]``; the window holds every row whose own
    projection of the bounds reaches it, across the columns those rows' projections span.
    Through a lens, the window of the bounds grown by the most any of their points moves
    relative to the camera during the readout (|v|·t plus |ω|·t times its distance from the
    pivot, for the object and the camera each)."""
    if inst.local_bounds is None:
        return None
    lo, hi = inst.local_bounds
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    world = (corners @ matrix)[:, :3]
    if model.lens is not None:
        span = float(np.abs(row_times).max()) if len(row_times) else 0.0
        grow = 0.0
        for motion in (obj, cam):
            if motion is not None:
                reach = float(np.linalg.norm(world - motion.pivot_m, axis=1).max()) + grow
                grow += span * (
                    float(np.linalg.norm(motion.linear_m_s)) + float(np.linalg.norm(motion.angular_rad_s)) * reach
                )
        local_grow = grow / np.linalg.norm(matrix[:3, :3], axis=1)  # the bounds are before the prim's scale
        return _lens_window((lo - local_grow, hi + local_grow), matrix, model, world_to_cam)
    h = len(row_times)
    t = np.repeat(row_times, 8)
    points = np.tile(world, (h, 1))
    if obj is not None:
        points = obj.forward(points, t)
    if cam is not None:
        points = cam.backward(points, t)
    camera = points @ world_to_cam[:3, :3] + world_to_cam[3, :3]
    if np.any(camera[:, 2] >= -model.near_m):
        return (0, 0, model.width, model.height)  # some corner at some row is behind the near plane
    uv = model.project(camera).reshape(h, 8, 2)
    rows = np.arange(h)
    v_lo, v_hi = np.floor(uv[..., 1].min(axis=1)) - 1, np.ceil(uv[..., 1].max(axis=1)) + 1
    reach = (rows >= v_lo) & (rows < v_hi)
    if not reach.any():
        return None
    x0 = max(int(np.floor(uv[reach, :, 0].min())) - 1, 0)
    x1 = min(int(np.ceil(uv[reach, :, 0].max())) + 1, model.width)
    y0, y1 = int(rows[reach].min()), int(rows[reach].max()) + 1
    if x0 >= x1:
        return None
    return (x0, y0, x1, y1)


def unoccluded_pixels(
    inst: Instance,
    matrix: np.ndarray,
    ch: CameraHits,
    world_to_cam: np.ndarray,
    inst_ids: np.ndarray,
    visible_box: np.ndarray,
    rest_rays: tuple[np.ndarray, np.ndarray] | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> tuple[int, tuple[int, ...]]:
    """Pixels of the instance rendered alone: count and inclusive box (x0, y0, x1, y1), or (0, ()).

    Pixels where the full scene already shows the instance (``inst_ids``, their inclusive box
    ``visible_box``) are hits of the instance alone too, so only the other pixels of the
    window are cast. ``rest_rays`` (origins, directions) replace the label rays where the rows
    have their own times (a rolling shutter with motion): the rays as they meet the object at
    its ``matrix`` pose, cast over ``window`` (``swept_window``)."""
    import open3d as o3d

    if rest_rays is None:
        window = projected_window(inst, matrix, ch.model, world_to_cam)
        origins, directions = ch.rays.origins, ch.rays.directions
    else:
        origins, directions = (np.ascontiguousarray(a, dtype=np.float64) for a in rest_rays)
    if window is None or inst.scene is None:
        return 0, ()
    x0, y0, x1, y1 = window
    width = ch.model.width
    inv = np.ascontiguousarray(np.linalg.inv(matrix))
    rays, pixel, own = _window_rays(x0, y0, x1, y1, width, origins, directions, inv, inst_ids, inst.instance_id)
    t = inst.scene.cast_rays(o3d.core.Tensor.from_numpy(rays))["t_hit"].numpy() if len(rays) else np.zeros(0)
    box = np.array(visible_box if own else (width, ch.model.height, -1, -1), dtype=np.int64)
    count = own + _window_hits(t, pixel, width, ch.rays.start, ch.rays.cos, ch.model.far_m, box)
    if count == 0:
        return 0, ()
    return int(count), tuple(int(v) for v in box)


@nb.njit(cache=True)  # serial: windows are small, and waking OpenMP workers per object costs more
def _window_rays(
    x0: int,
    y0: int,
    x1: int,
    y1: int,
    width: int,
    origins: np.ndarray,
    directions: np.ndarray,
    inv: np.ndarray,
    inst_ids: np.ndarray,
    instance_id: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """float32 rays in the object's local frame (row-vector ``inv``) for the window's pixels not
    showing the instance, those pixels' indices, and how many pixels do show it."""
    rows, w = y1 - y0, x1 - x0
    per_row = np.zeros(rows + 1, dtype=np.int64)
    for r in range(rows):
        base = (y0 + r) * width + x0
        n = 0
        for c in range(w):
            n += inst_ids[base + c] != instance_id
        per_row[r + 1] = n
    offset = np.cumsum(per_row)
    total = offset[rows]
    rays = np.empty((total, 6), dtype=np.float32)
    pixel = np.empty(total, dtype=np.int64)
    for r in range(rows):
        j = offset[r]
        for c in range(w):
            i = (y0 + r) * width + x0 + c
            if inst_ids[i] == instance_id:
                continue
            o, d = origins[i], directions[i]
            for k in range(3):
                rays[j, k] = o[0] * inv[0, k] + o[1] * inv[1, k] + o[2] * inv[2, k] + inv[3, k]
                rays[j, 3 + k] = d[0] * inv[0, k] + d[1] * inv[1, k] + d[2] * inv[2, k]
            pixel[j] = i
            j += 1
    return rays, pixel, rows * w - total


@nb.njit(cache=True)
def _window_hits(
    t: np.ndarray, pixel: np.ndarray, width: int, start: np.ndarray, cos: np.ndarray, far_m: float, box: np.ndarray
) -> int:
    """Hits within the clipping range: their count, grown into the inclusive pixel ``box``."""
    count = 0
    for j in range(t.shape[0]):
        i = pixel[j]
        if not np.isfinite(t[j]) or (t[j] + start[i]) * cos[i] > far_m:
            continue
        count += 1
        row, col = i // width, i % width
        box[0], box[1] = min(box[0], col), min(box[1], row)
        box[2], box[3] = max(box[2], col), max(box[3], row)
    return count


def alone_mask(
    inst: Instance,
    matrix: np.ndarray,
    ch: CameraHits,
    world_to_cam: np.ndarray,
    inst_ids: np.ndarray,
    rest_rays: tuple[np.ndarray, np.ndarray] | None = None,
    window: tuple[int, int, int, int] | None = None,
) -> tuple[int, tuple[int, ...], np.ndarray | None]:
    """The instance's silhouette rendered alone: pixel count, inclusive box (x0, y0, x1, y1) and
    the bool mask cropped to that box, or (0, (), None). The count and box equal
    ``unoccluded_pixels``'s; pixels showing the instance in the full scene are not cast.
    ``rest_rays`` and ``window``: as for ``unoccluded_pixels`` (a rolling shutter with motion:
    each row's silhouette is the object alone at that row's time)."""
    import open3d as o3d

    origins, directions = ch.rays.origins, ch.rays.directions
    if rest_rays is None:
        window = projected_window(inst, matrix, ch.model, world_to_cam)
    else:
        origins, directions = (np.ascontiguousarray(a, dtype=np.float64) for a in rest_rays)
    if window is None or inst.scene is None or inst.local_bounds is None:
        return 0, (), None
    x0, y0, x1, y1 = window
    lo, hi = (np.asarray(b, dtype=np.float64) for b in inst.local_bounds)
    pad = BOX_PAD * float(np.max(hi - lo)) + 1e-9
    inv = np.ascontiguousarray(np.linalg.inv(matrix))
    rays, cell, mask = _box_rays(
        x0, y0, x1, y1, ch.model.width, origins, directions, ch.rays.start, inv,
        inst_ids, inst.instance_id, lo - pad, hi + pad,
    )  # fmt: skip
    t = inst.scene.cast_rays(o3d.core.Tensor.from_numpy(rays))["t_hit"].numpy() if len(rays) else np.zeros(0)
    _mark_hits(mask, t, cell, x0, y0, ch.model.width, ch.rays.start, ch.rays.cos, ch.model.far_m)
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return 0, (), None
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())
    crop = np.ascontiguousarray(mask[r0 : r1 + 1, c0 : c1 + 1])
    return int(len(rows)), (x0 + c0, y0 + r0, x0 + c1, y0 + r1), crop


@nb.njit(cache=True)
def _box_rays(
    x0: int,
    y0: int,
    x1: int,
    y1: int,
    width: int,
    origins: np.ndarray,
    directions: np.ndarray,
    start: np.ndarray,
    inv: np.ndarray,
    inst_ids: np.ndarray,
    instance_id: int,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float32 local-frame rays of the window's pixels that do not show the instance and whose
    ray meets the local box ``lo``..``hi`` (slab test, ahead of the ray's start), their cells
    (row * window width + column), and the window mask with the instance's visible pixels set."""
    rows, w = y1 - y0, x1 - x0
    mask = np.zeros((rows, w), dtype=np.bool_)
    rays = np.empty((rows * w, 6), dtype=np.float32)
    cell = np.empty(rows * w, dtype=np.int64)
    o, d = np.empty(3), np.empty(3)
    n = 0
    for r in range(rows):
        for c in range(w):
            i = (y0 + r) * width + x0 + c
            if inst_ids[i] == instance_id:
                mask[r, c] = True
                continue
            if not np.isfinite(start[i]):  # a lens sends no ray through this pixel
                continue
            for k in range(3):
                o[k] = origins[i, 0] * inv[0, k] + origins[i, 1] * inv[1, k] + origins[i, 2] * inv[2, k] + inv[3, k]
                d[k] = directions[i, 0] * inv[0, k] + directions[i, 1] * inv[1, k] + directions[i, 2] * inv[2, k]
            near, far = 0.0, np.inf
            for k in range(3):
                if d[k] == 0.0:
                    if o[k] < lo[k] or o[k] > hi[k]:
                        far = -1.0
                        break
                    continue
                ta, tb = (lo[k] - o[k]) / d[k], (hi[k] - o[k]) / d[k]
                near, far = max(near, min(ta, tb)), min(far, max(ta, tb))
            if far < near:
                continue
            for k in range(3):
                rays[n, k], rays[n, 3 + k] = o[k], d[k]
            cell[n] = r * w + c
            n += 1
    return rays[:n].copy(), cell[:n].copy(), mask


@nb.njit(cache=True)
def _mark_hits(
    mask: np.ndarray,
    t: np.ndarray,
    cell: np.ndarray,
    x0: int,
    y0: int,
    width: int,
    start: np.ndarray,
    cos: np.ndarray,
    far_m: float,
) -> None:
    """Set the mask where a cast ray hit within the clipping range (``_window_hits``'s test)."""
    w = mask.shape[1]
    for j in range(t.shape[0]):
        r, c = cell[j] // w, cell[j] % w
        i = (y0 + r) * width + x0 + c
        if not np.isfinite(t[j]) or (t[j] + start[i]) * cos[i] > far_m:
            continue
        mask[r, c] = True
