"""Read OBJ/PLY/STL/glTF meshes (with trimesh) into metres, Z-up triangle arrays.

usd-core reads none of these formats (DESIGN §5); the stage author writes what this returns
as a ``UsdGeom.Mesh``. Scenes with several meshes (glTF, multi-object OBJ) are merged in
their scene-graph pose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...scenarios.model import MeshSpec
from ...scenarios.resolved import MeshData

__all__ = ["MAX_TRIANGLES", "MeshReadError", "read_mesh"]

MAX_TRIANGLES = 5_000_000
"""Largest mesh accepted per asset."""


class MeshReadError(Exception):
    """The file could not be read as a triangle mesh; the message says why."""


def _y_up_to_z_up(points: np.ndarray) -> np.ndarray:
    # +90° about X: (x, y, z) -> (x, -z, y); a proper rotation, winding unchanged.
    return np.stack([points[:, 0], -points[:, 2], points[:, 1]], axis=1)


def read_mesh(path: Path, spec: MeshSpec) -> MeshData:
    import trimesh

    if path.stat().st_size == 0:
        raise MeshReadError("mesh file is empty (0 bytes)")
    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for broken files
        # a bare KeyError says only "'model.gltf'": name the exception type too
        raise MeshReadError(f"cannot read mesh: {type(exc).__name__}: {exc}") from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise MeshReadError("file holds no triangles")
    if len(loaded.faces) > MAX_TRIANGLES:
        raise MeshReadError(f"mesh has {len(loaded.faces)} triangles, more than {MAX_TRIANGLES}")
    vertices = np.asarray(loaded.vertices, dtype=np.float64) * spec.units_m
    if not np.all(np.isfinite(vertices)):
        raise MeshReadError("mesh has non-finite vertex coordinates")
    up = spec.up_axis or ("Y" if path.suffix.lower() in (".gltf", ".glb") else "Z")
    if up == "Y":
        vertices = _y_up_to_z_up(vertices)
    uvs = None
    visual = getattr(loaded, "visual", None)
    uv = getattr(visual, "uv", None)
    if uv is not None and len(uv) == len(vertices):
        uvs = np.asarray(uv, dtype=np.float64)
    return MeshData(vertices=vertices, faces=np.asarray(loaded.faces, dtype=np.int32), uvs=uvs)
