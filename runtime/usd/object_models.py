"""The labelled assets as rigid object models (``writers.object_models.ObjectModel``).

Taken from the authored stage with the same tessellation the embedded ray caster uses, so a
model's silhouette is the one the masks were cast from. Each model is its asset prim's gprims
in the prim's local frame, scaled by the asset's scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...scenarios.prim_paths import asset_paths
from ...scenarios.resolved import ResolvedScenario
from ...writers.object_models import ObjectModel
from .geometry import gprim_mesh, iter_gprims

__all__ = ["labelled_assets", "object_models"]


def labelled_assets(resolved: ResolvedScenario) -> list[str]:
    """Names of the assets with a ``class`` label, sorted: object id = 1 + index."""
    assets = resolved.scenario.assets
    return sorted(name for name, asset in assets.items() if asset.semantics and "class" in asset.semantics)


def object_models(resolved: ResolvedScenario, stage: Any) -> tuple[ObjectModel, ...]:
    """One model per labelled asset with geometry (ids from ``labelled_assets``)."""
    from pxr import UsdGeom

    s = resolved.scenario
    tess = s.render.tessellation
    cache = UsdGeom.XformCache()
    models = []
    for k, name in enumerate(labelled_assets(resolved)):
        asset = s.assets[name]
        paths = tuple(asset_paths(name, asset.count))
        prim = stage.GetPrimAtPath(paths[0])  # copies share the geometry
        to_local = np.linalg.inv(np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64))
        verts, faces, offset = [], [], 0
        for gprim in iter_gprims(prim):
            mesh = gprim_mesh(gprim, tess.segments, tess.rings)
            if mesh is None or len(mesh.faces) == 0:
                continue
            rel = np.asarray(cache.GetLocalToWorldTransform(gprim), dtype=np.float64) @ to_local
            verts.append(np.asarray(mesh.vertices, dtype=np.float64) @ rel[:3, :3] + rel[3, :3])
            faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
            offset += len(mesh.vertices)
        if not verts:
            continue
        scale = tuple(float(v) for v in asset.scale)
        sym = asset.symmetries
        models.append(
            ObjectModel(
                obj_id=k + 1,
                name=name,
                prim_paths=paths,
                vertices_m=np.vstack(verts) * np.asarray(scale),
                faces=np.vstack(faces),
                scale=scale,  # type: ignore[arg-type]
                symmetries_discrete=tuple(
                    (tuple(map(float, d.axis)), float(d.angle_deg), tuple(map(float, d.offset_m)))  # type: ignore[misc]
                    for d in (sym.discrete if sym else ())
                ),
                symmetries_continuous=tuple(
                    (tuple(map(float, c.axis)), tuple(map(float, c.offset_m)))  # type: ignore[misc]
                    for c in (sym.continuous if sym else ())
                ),
            )
        )
    return tuple(models)
