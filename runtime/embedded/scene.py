"""The stage as ray-casting geometry: an Open3D ``RaycastingScene`` (Embree) per frame.

Built once from the stage: every ``UsdGeom`` gprim (meshes and tessellated implicit
primitives) with its local triangles, the labelled prim it belongs to (its nearest
``LabelsAPI`` ancestor-or-self, as Replicator assigns instances), and the id spaces of the
segmentation annotators (DESIGN §9 "Ids"). Per frame, the visible gprims are transformed to
world space with the stage's current xformOps and put into one Embree BVH (a rebuild costs
10–20 ms for 20k triangles, cheaper than tracking refits).

The occlusion pass casts each labelled object alone, in its own local frame. Those "alone"
scenes are built lazily, shared by objects whose local triangles are identical (counted copies
of one asset), and at most ``ALONE_SCENES_LIVE`` of them are alive at once: every Open3D
``RaycastingScene`` owns an Embree device, and a process segfaults once about 1,100 of them are
alive (Open3D 0.20; measured), so one scene per object could not reach the documented 10,000
instances per frame. A scene is a pure function of its triangles, so sharing and rebuilding
change no output.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numba as nb
import numpy as np

from ..usd.geometry import gprim_mesh, iter_gprims
from ..usd.tessellate import TriMesh

__all__ = [
    "ALONE_SCENES_LIVE",
    "AloneScenes",
    "FrameGeometry",
    "Gprim",
    "Instance",
    "SceneIndex",
    "build_raycasting_scene",
]

CLASS = "class"
ALONE_SCENES_LIVE = 64
"""Alone-scenes kept alive at once (far below the ~1,100 live Embree devices that crash a
process; rebuilding an evicted small one costs ~0.25 ms)."""


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
    alone_key: str | None = None
    """Digest of the instance's own triangles in its local frame (``None``: it has none)."""
    alone_scenes: AloneScenes | None = None

    @property
    def class_label(self) -> str | None:
        return self.labels.get(CLASS)

    @property
    def scene(self) -> Any:
        """A RaycastingScene of this instance alone, in its own local frame (occlusion pass),
        or ``None``. Built on first use and possibly shared with identical instances: hold it
        only for the call that casts into it."""
        if self.alone_key is None or self.alone_scenes is None:
            return None
        return self.alone_scenes.get(self.alone_key)


class AloneScenes:
    """Instances' local-frame triangles by content digest, and a bounded LRU of their scenes."""

    def __init__(self, live: int = ALONE_SCENES_LIVE) -> None:
        self.live = live
        self.geometry: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._scenes: OrderedDict[str, Any] = OrderedDict()
        self.built = 0
        """Scenes built so far (a rebuild after eviction counts again)."""

    def add(self, vertices: np.ndarray, faces: np.ndarray) -> str:
        """Register triangles; identical ones (bytes of the float32/uint32 arrays Embree gets)
        share one key, so their scene is built once."""
        v = np.ascontiguousarray(vertices, dtype=np.float32)
        f = np.ascontiguousarray(faces, dtype=np.uint32)
        digest = hashlib.sha256()
        for array in (v, f):
            digest.update(str(array.shape).encode())
            digest.update(array.tobytes())
        key = digest.hexdigest()
        self.geometry.setdefault(key, (v, f))
        return key

    def get(self, key: str) -> Any:
        scene = self._scenes.get(key)
        if scene is not None:
            self._scenes.move_to_end(key)
            return scene
        scene = build_raycasting_scene(*self.geometry[key])
        self.built += 1
        self._scenes[key] = scene
        while len(self._scenes) > self.live:
            self._scenes.popitem(last=False)
        return scene

    @property
    def alive(self) -> int:
        return len(self._scenes)


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
        self.alone_scenes = AloneScenes()
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
                inst.alone_key = self.alone_scenes.add(np.vstack(verts), np.vstack(faces))
                inst.alone_scenes = self.alone_scenes

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
        self._vertex_normals: np.ndarray | None = None  # world-space, computed on first use
        self._smooth_face: np.ndarray | None = None

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> dict[str, np.ndarray]:
        """First hits of rays (N, 3) + (N, 3): t (inf on miss), gprim (−1 on miss), face, uv, face normal."""
        import open3d as o3d

        out = self.scene.cast_rays(o3d.core.Tensor.from_numpy(_ray_array(origins, directions)))
        t, hit, face, gprim = _hit_ids(out["t_hit"].numpy(), out["primitive_ids"].numpy(), self.face_gprim)
        return {
            "t": t,
            "hit": hit,
            "gprim": gprim,
            "face": face,
            "uv": out["primitive_uvs"].numpy(),
            "face_normal": out["primitive_normals"].numpy().astype(np.float64),
        }

    def occluded_rays(self, rays: np.ndarray) -> np.ndarray:
        """Any-hit test of float32 rays (K, 6) whose directions are scaled so that t = 1 is their end."""
        import open3d as o3d

        return self.scene.test_occlusions(o3d.core.Tensor.from_numpy(rays), tnear=0.0, tfar=1.0).numpy().astype(bool)

    def smooth_normals(self, hits: dict[str, np.ndarray]) -> np.ndarray:
        """World-space shading normals: interpolated for implicit surfaces, face normals for meshes."""
        if self._vertex_normals is None:
            self._vertex_normals, self._smooth_face = self._world_vertex_normals()
        return _interpolated_normals(
            hits["hit"],
            hits["face"],
            hits["uv"],
            hits["face_normal"],
            self.faces,
            self._vertex_normals,
            self._smooth_face,
        )

    def _world_vertex_normals(self) -> tuple[np.ndarray, np.ndarray]:
        """Vertex normals of smooth gprims in world space (by the inverse transpose; the map is
        linear, so interpolating them equals mapping the interpolated local normal), and which
        triangles use them."""
        normals = np.zeros_like(self.vertices)
        smooth = np.zeros(len(self.faces), dtype=np.bool_)
        start = 0
        for g in self.index.gprims:
            if not self.visible[g.index]:
                continue
            end = start + len(g.mesh.vertices)
            if g.smooth_normals:
                normals[start:end] = g.mesh.normals @ np.linalg.inv(self.matrices[g.index][:3, :3]).T
                smooth[self.face_offset[g.index] : self.face_offset[g.index] + len(g.mesh.faces)] = True
            start = end
        return normals, smooth


@nb.njit(parallel=True, cache=True)
def _ray_array(origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Embree's float32 (N, 6) rays."""
    rays = np.empty((origins.shape[0], 6), dtype=np.float32)
    for i in nb.prange(origins.shape[0]):
        for k in range(3):
            rays[i, k], rays[i, 3 + k] = origins[i, k], directions[i, k]
    return rays


@nb.njit(parallel=True, cache=True)
def _hit_ids(
    t_hit: np.ndarray, primitive_ids: np.ndarray, face_gprim: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """t as float64 (inf on miss), hit mask, triangle (0 on miss) and gprim (−1 on miss)."""
    n = t_hit.shape[0]
    t, hit = np.empty(n), np.empty(n, dtype=np.bool_)
    face, gprim = np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    for i in nb.prange(n):
        t[i] = t_hit[i]
        hit[i] = math.isfinite(t[i])
        if hit[i]:
            face[i] = primitive_ids[i]
            gprim[i] = face_gprim[face[i]]
    return t, hit, face, gprim


@nb.njit(parallel=True, cache=True)
def _interpolated_normals(
    hit: np.ndarray,
    face: np.ndarray,
    uv: np.ndarray,
    face_normal: np.ndarray,
    faces: np.ndarray,
    vertex_normals: np.ndarray,
    smooth_face: np.ndarray,
) -> np.ndarray:
    out = np.empty((hit.shape[0], 3))
    for i in nb.prange(hit.shape[0]):
        if hit[i] and smooth_face[face[i]]:
            a, b, c = faces[face[i], 0], faces[face[i], 1], faces[face[i], 2]
            u, v = np.float64(uv[i, 0]), np.float64(uv[i, 1])
            w = 1.0 - u - v
            for k in range(3):
                out[i, k] = w * vertex_normals[a, k] + u * vertex_normals[b, k] + v * vertex_normals[c, k]
        else:
            for k in range(3):
                out[i, k] = face_normal[i, k]
        length = math.sqrt(out[i, 0] ** 2 + out[i, 1] ** 2 + out[i, 2] ** 2)
        if length > 0.0:
            for k in range(3):
                out[i, k] /= length
    return out
