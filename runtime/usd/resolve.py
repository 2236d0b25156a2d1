"""``resolve(document) -> ResolvedScenario``: measure the assets a scenario references.

The second half of DESIGN §9 "Parse, then resolve": meshes are read (OBJ/PLY/STL/glTF),
USD references opened, and for every asset and distractor shape the local bounds (before
scale) and the upward-facing support surface are computed. The digests are taken here too:
the scenario digest covers the model and the bytes of every referenced file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import config_path
from ...scenarios.budget import MAX_TEXTURE_PIXELS, LidarRays, check_budget
from ...scenarios.loader import ScenarioDocument
from ...scenarios.model import Shape
from ...scenarios.placement import convex_hull_2d
from ...scenarios.resolved import Bounds, MeshData, ResolvedScenario, ShapeGeometry, SupportSurface
from ...scenarios.seeding import randomization_digest, scenario_digest
from ...scenarios.yaml_source import SourceMap
from ...sensors.errors import BadInputError
from ...sensors.lidar import LidarProfile, load_profile, profile_from_simple
from ...sensors.models.lidar_signal import INTENSITY_MAPPINGS
from .mesh_io import MeshReadError, read_mesh
from .tessellate import tessellate_shape
from .textures import TextureFileError, check_texture_file

__all__ = ["check_resources", "resolve", "shape_geometry", "support_surface", "texture_sizes"]

_UP_NORMAL = 0.999
"""cos of the largest tilt (≈2.6°) of a face still counted as part of a flat top."""


def support_surface(vertices: np.ndarray, faces: np.ndarray) -> SupportSurface | None:
    """The highest flat, upward-facing region of a triangle mesh, as a convex outline."""
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    ok = lengths > 1e-15
    up = np.zeros(len(faces), dtype=bool)
    up[ok] = normals[ok, 2] / lengths[ok] > _UP_NORMAL
    if not up.any():
        return None
    heights = tri[up][:, :, 2].mean(axis=1)
    top = heights.max()
    span = float(np.ptp(vertices[:, 2])) or 1.0
    level = np.abs(heights - top) <= 1e-4 * span + 1e-9
    points = tri[up][level][:, :, :2].reshape(-1, 2)
    hull = convex_hull_2d(points)
    if len(hull) < 3:
        return None
    return SupportSurface(height=float(top), polygon=tuple((float(x), float(y)) for x, y in hull))


def _bounds(vertices: np.ndarray) -> Bounds:
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return Bounds(tuple(map(float, lo)), tuple(map(float, hi)))  # type: ignore[arg-type]


def shape_geometry(doc: ScenarioDocument, shape: Shape, loc: tuple) -> ShapeGeometry:
    kind = shape.kind
    if kind == "mesh":
        assert shape.mesh is not None
        try:
            mesh = read_mesh(doc.asset_file(shape.mesh.path), shape.mesh)
        except MeshReadError as exc:
            raise doc.error(
                (*loc, "mesh", "path"), str(exc), expected="a readable triangle mesh", got=shape.mesh.path
            ) from None
        return ShapeGeometry(kind, _bounds(mesh.vertices), support_surface(mesh.vertices, mesh.faces), mesh)
    if kind == "usd":
        from .geometry import reference_geometry

        assert shape.usd is not None
        return reference_geometry(doc, shape.usd, (*loc, "usd"))
    tri = tessellate_shape(kind, shape.spec, segments=64, rings=32)
    bounds = _bounds(tri.vertices)
    if kind in ("sphere", "cylinder", "cone", "capsule"):
        # Exact bounds of the implicit surface, not of its tessellation.
        bounds = _analytic_bounds(kind, shape.spec)
    return ShapeGeometry(kind, bounds, support_surface(tri.vertices, tri.faces))


def _analytic_bounds(kind: str, spec: object) -> Bounds:
    r = spec.radius_m  # type: ignore[attr-defined]
    if kind == "sphere":
        return Bounds((-r, -r, -r), (r, r, r))
    half = spec.height_m / 2 + (r if kind == "capsule" else 0.0)  # type: ignore[attr-defined]
    ext = np.array([r, r, r])
    ext["XYZ".index(spec.axis)] = half  # type: ignore[attr-defined]
    return Bounds(tuple(map(float, -ext)), tuple(map(float, ext)))  # type: ignore[arg-type]


def _profile_files(doc: ScenarioDocument) -> list[tuple[str, Path]]:
    files = []
    for lidar in doc.scenario.lidars.values():
        if lidar.profile is not None and lidar.profile not in doc.files:
            shipped = config_path("lidar_profiles", f"{lidar.profile}.json")
            if shipped.is_file():
                files.append((f"profile:{lidar.profile}", shipped))
    return files


def lidar_profiles(doc: ScenarioDocument) -> dict[str, LidarProfile]:
    """Load each LiDAR's profile; a bad profile is bad input naming its file, line and key."""
    out = {}
    for name, spec in sorted(doc.scenario.lidars.items()):
        if spec.simple is not None:
            out[name] = profile_from_simple(name, spec.simple)
            continue
        assert spec.profile is not None
        path = doc.files.get(spec.profile) or config_path("lidar_profiles", f"{spec.profile}.json")
        out[name] = load_profile(Path(path), Path(path).stem)  # bad input names the profile's file:line
    for name, profile in out.items():
        if doc.scenario.lidars[name].intensity == "calibrated" and profile.intensity_mapping not in INTENSITY_MAPPINGS:
            raise doc.error(
                ("lidars", name, "intensity"),
                f"calibrated intensity cannot encode {Path(profile.source).name}'s intensityMappingType",
                expected=" or ".join(INTENSITY_MAPPINGS),
                got=profile.intensity_mapping,
            )
    return out


def texture_sizes(doc: ScenarioDocument) -> dict[str, tuple[int, int]]:
    """(width, height) of every texture file, each decoded once so that a file that is not an
    image is bad input now, not a crash at the first frame."""
    out: dict[str, tuple[int, int]] = {}
    issues = []
    smap = doc.source_map or SourceMap(doc.file)
    for name, tex in sorted(doc.scenario.textures.items()):
        if tex.file is None or tex.file in out:
            continue
        try:
            # over the budget it is left undecoded (the budget refuses it) unless allowed
            out[tex.file] = check_texture_file(
                doc.asset_file(tex.file), None if doc.allow_large else MAX_TEXTURE_PIXELS
            )
        except TextureFileError as exc:
            issues.append(
                smap.issue(
                    ("textures", name, "file"),
                    str(exc),
                    expected="a PNG, JPEG, Radiance .hdr or OpenEXR .exr image",
                    got=tex.file,
                )
            )
    if issues:
        raise BadInputError(issues)
    return out


def _check_base_usd(doc: ScenarioDocument) -> None:
    """A base USD must open and compose cleanly (cycles are bad input), like a USD asset."""
    if doc.scenario.stage.base_usd is not None:
        from .geometry import open_usd_file

        open_usd_file(doc, doc.scenario.stage.base_usd, ("stage", "base_usd"))


def check_resources(
    doc: ScenarioDocument, profiles: dict[str, LidarProfile], textures: dict[str, tuple[int, int]]
) -> None:
    """Refuse a scenario whose frames would exceed the budgets of :mod:`scenarios.budget`
    (unless the document allows large runs): before any output exists, not by MemoryError."""
    if doc.allow_large:
        return
    rays = {name: LidarRays(p.rays_per_scan, p.number_of_emitters, Path(p.source).name) for name, p in profiles.items()}
    issues = check_budget(doc.scenario, doc.source_map or SourceMap(doc.file), rays, textures)
    if issues:
        raise BadInputError(issues)


def resolve(doc: ScenarioDocument) -> ResolvedScenario:
    """Measure every asset of ``doc``; raise ``BadInputError`` for unreadable assets and for
    frames over the resource budgets."""
    s = doc.scenario
    textures = texture_sizes(doc)
    profiles = lidar_profiles(doc)
    # budgets first: measuring assets and composing USD files is work a refused run need not do
    check_resources(doc, profiles, textures)
    _check_base_usd(doc)
    assets = {name: shape_geometry(doc, asset, ("assets", name)) for name, asset in s.assets.items()}
    pools = {
        name: tuple(shape_geometry(doc, shape, ("distractors", name, "pool", i)) for i, shape in enumerate(d.pool))
        for name, d in s.distractors.items()
    }
    files = sorted({*doc.files.items(), *_profile_files(doc)})
    digest, per_file = scenario_digest(s, files)
    return ResolvedScenario(doc, assets, pools, digest, randomization_digest(s), per_file, profiles)


__all__ += ["MeshData"]
