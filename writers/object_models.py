"""Object models: the labelled assets' geometry, for writers of model-based formats (BOP).

Payloads carry poses, not meshes, so the run hands writers that ask for them
(``Writer.needs_object_models``) one ``ObjectModel`` per labelled asset in ``RunInfo.objects``,
built from the authored stage by ``runtime.usd.object_models``. Ids are stable: 1 + the index
of the asset's name among the scenario's assets with a ``class`` label, sorted, so the same
scenario numbers its objects the same way in every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ObjectModel"]


@dataclass(frozen=True, eq=False)
class ObjectModel:
    """One labelled asset as a rigid model.

    The model frame is the asset prim's local frame with the asset's scale applied, in metres:
    a frame's ``bounding_box_3d`` transform (local to world) is ``diag(scale) · R · T`` in row
    vectors, so the model's pose in that frame is ``R, T``.
    """

    obj_id: int
    """1-based, stable across runs (see the module docstring)."""
    name: str
    """The asset's name in the scenario."""
    prim_paths: tuple[str, ...]
    """The prims that show this object (``/World/<name>`` or its counted copies)."""
    vertices_m: np.ndarray
    """(V, 3) float64 model-frame vertices, metres."""
    faces: np.ndarray
    """(F, 3) int64 triangles (counter-clockwise seen from outside, as authored)."""
    scale: tuple[float, float, float]
    """The asset's scale, which each frame's local-to-world transform carries."""
    symmetries_discrete: tuple[tuple[tuple[float, float, float], float, tuple[float, float, float]], ...] = ()
    """Declared discrete symmetries: (axis, angle in degrees, point on the axis in metres)."""
    symmetries_continuous: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = field(default=())
    """Declared continuous symmetries: (axis, point on the axis in metres)."""
