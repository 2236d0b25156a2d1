"""The stage as ray-casting geometry: an Open3D ``RaycastingScene`` (Embree) per frame.

Built once from the stage: every ``UsdGeom`` gprim (meshes and tessellated implicit
primitives) with its local triangles, the labelled prim it belongs to (its nearest
``LabelsAPI`` ancestor-or-self, as Replicator assigns instances), and the id spaces of the
segmentation annotators (DESIGN §9 "Ids"). Per frame, the visible gprims are transformed to
world space with the stage's current xformOps and put into one Embree BVH (a rebuild costs
10–20 ms for 20k triangles, cheaper than tracking refits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..tessellate import TriMesh
from ..usd_geometry import gprim_mesh, iter_gprims

__all__ = ["FrameGeometry", "Gprim", "Instance", "SceneIndex", "build_raycasting_scene"]

CLASS = "class"


@dataclass
class Gprim:
    path: str
    index: int
    mesh: TriMesh
    smooth_normals: bool
    """Interpolate vertex normals (tessellated implicit surfaces) or use face normals (meshes)."""
    instance: int
    """Index into ``SceneIndex.instances``, or −1 for unlabelled geometry."""


@dataclass
class Instance:
    """A labelled prim: the unit of instance segmentation, boxes and occlusion."""

    path: str
    instance_id: int
    labels: dict[str, str]
    """Per taxonomy, the prim's labels (with its labelled ancestors', outermost first), ", "-joined."""
    gprims: list[int] = field(default_factory=list)
    local_bounds: tuple[np.ndarray, np.ndarray] | None = None
    scene: Any = None
    """A RaycastingScene of this instance alone, in its own local frame (occlusion pass)."""

    @property
    def class_label(self) -> str | None:
        return self.labels.get(CLASS)


def _labels_of(prim: Any) -> dict[str, list[str]]:
    from pxr import UsdSemantics

    out: dict[str, list[str]] = {}
    for taxonomy in UsdSemantics.LabelsAPI.GetDirectTaxonomies(prim):
        attr = UsdSemantics.LabelsAPI(prim, taxonomy).GetLabelsAttr()
        values = attr.Get() if attr else None
        if values:
            out[str(taxonomy)] = [str(v) for v in values]
    return out


def build_raycasting_scene(vertices: np.ndarray, faces: np.ndarray) -> Any:
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    if len(faces):
        scene.add_triangles(
            o3d.core.Tensor(np.ascontiguousarray(vertices, dtype=np.float32)),
            o3d.core.Tensor(np.ascontiguousarray(faces, dtype=np.uint32)),
        )
    return scene


class SceneIndex:
    """What does not change between frames: gprims, instances and their ids."""

    def __init__(self, stage: Any, segments: int = 48, rings: int = 24) -> None:
        from pxr import Usd, UsdGeom

        self.stage = stage
        self.meters_per_unit = float(UsdGeom.GetStageMetersPerUnit(stage))
        root = stage.GetPrimAtPath("/World") or stage.GetPseudoRoot()
        prims = sorted(iter_gprims(root), key=lambda p: str(p.GetPath()))
        self.gprims: list[Gprim] = []
        self.instances: list[Instance] = []
        instance_of_path: dict[str, int] = {}
        # Instance ids: 2 + index among labelled prims in prim-path order (DESIGN §9), over
        # every labelled prim authored, shown or hidden, so ids are stable across frames.
        labelled = sorted(
            {str(p.GetPath()): p for p in Usd.PrimRange(root, Usd.TraverseInstanceProxies()) if _labels_of(p)}.items()
        )
        for k, (path, prim) in enumerate(labelled):
            chain: dict[str, list[str]] = {}
            for ancestor in reversed(list(_ancestors(prim))):
                for taxonomy, values in _labels_of(ancestor).items():
                    chain.setdefault(taxonomy, []).extend(values)
            labels = {t: ", ".join(v) for t, v in chain.items()}
            instance_of_path[path] = k
            self.instances.append(Instance(path, 2 + k, labels))
        for prim in prims:
            mesh = gprim_mesh(prim, segments, rings)
            if mesh is None or len(mesh.faces) == 0:
                continue
            owner = next(
                (instance_of_path[str(a.GetPath())] for a in _ancestors(prim) if str(a.GetPath()) in instance_of_path),
                -1,
            )
            gprim = Gprim(str(prim.GetPath()), len(self.gprims), mesh, prim.GetTypeName() != "Mesh", owner)
            self.gprims.append(gprim)
            if owner >= 0:
                self.instances[owner].gprims.append(gprim.index)
        class_labels = sorted({i.class_label for i in self.instances if i.class_label is not None})
        self.semantic_ids = {label: 2 + k for k, label in enumerate(class_labels)}
        """``semantic_segmentation`` ids: 0 BACKGROUND, 1 UNLABELLED, then sorted class labels."""
        self.box_semantic_ids = {label: k for k, label in enumerate(class_labels)}
        """Box annotators' ``semanticId`` space: sorted class labels from 0."""
        self._prepare_instances()

    def _prepare_instances(self) -> None:
        from pxr import Usd, UsdGeom

        cache = UsdGeom.XformCache()
        bbox = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_, UsdGeom.Tokens.render])
        for inst in self.instances:
            prim = self.stage.GetPrimAtPath(inst.path)
            rng = bbox.ComputeUntransformedBound(prim).ComputeAlignedRange()
            if not rng.IsEmpty():
                inst.local_bounds = (np.asarray(rng.GetMin(), dtype=np.float64), np.asarray(rng.GetMax(), np.float64))
            to_local = np.linalg.inv(np.asarray(cache.GetLocalToWorldTransform(prim)))
            verts, faces, offset = [], [], 0
            for gi in inst.gprims:
                g = self.gprims[gi]
                rel = np.asarray(cache.GetLocalToWorldTransform(self.stage.GetPrimAtPath(g.path))) @ to_local
                verts.append(_transform(g.mesh.vertices, rel))
                faces.append(g.mesh.faces + offset)
                offset += len(g.mesh.vertices)
            if verts:
                inst.scene = build_raycasting_scene(np.vstack(verts), np.vstack(faces))

    def visible_instances(self, frame: FrameGeometry) -> list[Instance]:
        return [i for i in self.instances if any(frame.visible[g] for g in i.gprims)]


def _ancestors(prim: Any) -> Any:
    while prim and prim.GetPath().pathString != "/":
        yield prim
        prim = prim.GetParent()


def _transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:3, :3] + matrix[3, :3]


class FrameGeometry:
    """One frame's world-space geometry and the Embree scene over it."""

    def __init__(self, index: SceneIndex) -> None:
        from pxr import UsdGeom

        stage = index.stage
        cache = UsdGeom.XformCache()
        n = len(index.gprims)
        self.index = index
        self.matrices = np.zeros((n, 4, 4))
        self.visible = np.zeros(n, dtype=bool)
        verts, faces, owner = [], [], []
        self.face_offset = np.zeros(n + 1, dtype=np.int64)
        vert_offset = 0
        face_count = 0
        for g in index.gprims:
            prim = stage.GetPrimAtPath(g.path)
            self.face_offset[g.index] = face_count
            if UsdGeom.Imageable(prim).ComputeVisibility() == UsdGeom.Tokens.invisible:
                continue
            m = np.asarray(cache.GetLocalToWorldTransform(prim))
            self.matrices[g.index] = m
            self.visible[g.index] = True
            verts.append(_transform(g.mesh.vertices, m))
            faces.append(g.mesh.faces + vert_offset)
            owner.append(np.full(len(g.mesh.faces), g.index, dtype=np.int64))
            vert_offset += len(g.mesh.vertices)
            face_count += len(g.mesh.faces)
        self.face_offset[n] = face_count
        self.vertices = np.vstack(verts) if verts else np.zeros((0, 3))
        self.faces = np.vstack(faces) if faces else np.zeros((0, 3), dtype=np.int64)
        self.face_gprim = np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64)
        """Gprim index of every triangle of the frame's scene."""
        self.scene = build_raycasting_scene(self.vertices, self.faces)

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> dict[str, np.ndarray]:
        """First hits of rays (N, 3) + (N, 3): t (inf on miss), gprim (−1 on miss), face, uv, face normal."""
        import open3d as o3d

        rays = np.concatenate([origins, directions], axis=-1).astype(np.float32)
        out = self.scene.cast_rays(o3d.core.Tensor(rays))
        t = out["t_hit"].numpy().astype(np.float64)
        prim_ids = out["primitive_ids"].numpy()
        hit = np.isfinite(t)
        face = np.where(hit, prim_ids, 0).astype(np.int64)
        gprim = np.where(hit, self.face_gprim[face] if len(self.face_gprim) else -1, -1)
        return {
            "t": t,
            "hit": hit,
            "gprim": gprim,
            "face": face,
            "uv": out["primitive_uvs"].numpy(),
            "face_normal": out["primitive_normals"].numpy().astype(np.float64),
        }

    def occluded(self, origins: np.ndarray, directions: np.ndarray, t_far: np.ndarray | float) -> np.ndarray:
        """Any-hit shadow test: True where something lies between origin and origin + t_far·dir."""
        import open3d as o3d

        scaled = directions * np.asarray(t_far, dtype=np.float64)[..., None] if np.ndim(t_far) else directions * t_far
        rays = np.concatenate([origins, scaled], axis=-1).astype(np.float32)
        # test_occlusions takes one scalar tfar: directions are scaled so that tfar = 1 is the light.
        return self.scene.test_occlusions(o3d.core.Tensor(rays), tnear=0.0, tfar=1.0).numpy().astype(bool)

    def smooth_normals(self, hits: dict[str, np.ndarray]) -> np.ndarray:
        """World-space shading normals: interpolated for implicit surfaces, face normals for meshes."""
        normals = hits["face_normal"].copy()
        sel = np.nonzero(hits["hit"])[0]
        if len(sel) == 0:
            return normals
        gprims = hits["gprim"][sel]
        for gi in np.flatnonzero(np.bincount(gprims)):
            g = self.index.gprims[gi]
            if not g.smooth_normals:
                continue
            rows = sel[gprims == gi]
            local_face = hits["face"][rows] - self.face_offset[gi]
            tri = g.mesh.faces[local_face]
            u, v = hits["uv"][rows, 0:1], hits["uv"][rows, 1:2]
            n = (1 - u - v) * g.mesh.normals[tri[:, 0]] + u * g.mesh.normals[tri[:, 1]] + v * g.mesh.normals[tri[:, 2]]
            inv_t = np.linalg.inv(self.matrices[gi][:3, :3]).T
            n = n @ inv_t
            normals[rows] = n
        length = np.linalg.norm(normals, axis=-1, keepdims=True)
        length[length == 0] = 1.0
        return normals / length
