"""The embedded RGB renderer: direct lighting ray traced on the same Embree scene.

Per camera ray: emission, plus for every light ``samples`` shadow-tested light samples through
the UsdPreviewSurface BRDF (``brdf.py``), plus the dome. Anti-aliasing uses ``samples_per_pixel``
jittered sub-pixel positions (multi-jittered over the pixel's samples, ``strata.py``); with one
sample per pixel the ray goes through the pixel centre, exactly like the label annotators'.
Every random number comes from the frame's seeded generator (seed, frame, camera), so the
same seed gives bit-identical images. Per-ray work runs in compiled kernels (numba, parallel
over rays: ``shading_points``, ``lights``, ``direct_light``); this module orchestrates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ...scenarios.model import RenderSpec
from ...scenarios.seeding import frame_rng
from .annotators import CameraHits
from .camera_rays import camera_rays
from .denoise import denoise, guide_albedo
from .direct_light import accumulate, lit_points, shadow_rays
from .lights import LightSample, read_lights
from .materials import MaterialParams, MaterialTable
from .motion import CameraTiming, MovingScene
from .normal_maps import perturbed_normals
from .path_tracer import next_event, primary_radiance, trace
from .scene import FrameGeometry
from .shading_points import fresnel_f0, shading_points
from .strata import PixelJitter, PixelStrata
from .tonemap import tone_map

__all__ = ["CameraImage", "Renderer"]


@dataclass
class _Surface:
    points: np.ndarray
    normals: np.ndarray  # shading normals, facing the viewer
    geo_normals: np.ndarray  # geometric normals, facing the viewer
    view: np.ndarray
    albedo: np.ndarray
    roughness: np.ndarray
    metallic: np.ndarray
    f0: np.ndarray
    emissive: np.ndarray
    t: np.ndarray
    rows: np.ndarray  # index of each point's ray
    gprim: np.ndarray | None = None  # each point's gprim (the path engine's dielectrics look it up)
    entering: np.ndarray | None = None  # the ray arrives on the face's outer side (winding normal)
    time: np.ndarray | None = None  # each point's time from the capture instant (None: the scene stands still)


_NO_ROWS = np.zeros(0)
"""An empty array: no MIS weight, no dielectric opacity (numba takes arrays, not None)."""


@nb.njit(parallel=True, cache=True)
def _add_into_rows(out: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``out[rows] += values`` (a lamp seen in front of a surface adds to it)."""
    for j in nb.prange(rows.shape[0]):
        for c in range(out.shape[1]):
            out[rows[j], c] += values[j, c]


@nb.njit(parallel=True, cache=True)
def _interpolated_uvs(
    rows: np.ndarray, face: np.ndarray, hit_uv: np.ndarray, face_offset: int, faces: np.ndarray, uvs: np.ndarray
) -> np.ndarray:
    """(M, 2) texture coordinates of hits ``rows``: the mesh's corner UVs weighted by the hit's
    barycentrics (Embree's float32 u, v; the weights formed in float32, the sum in float64)."""
    m = rows.shape[0]
    out = np.empty((m, 2))
    one = np.float32(1.0)
    for j in nb.prange(m):
        i = rows[j]
        f = face[i] - face_offset
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        u, v = hit_uv[i, 0], hit_uv[i, 1]
        w = one - u - v
        for k in range(2):
            out[j, k] = w * uvs[a, k] + u * uvs[b, k] + v * uvs[c, k]
    return out


def _sensor_only(radiance: np.ndarray, in_view: np.ndarray | None) -> np.ndarray:
    """Black where a lens sends no ray (outside a fisheye's image circle): no light gets there."""
    if in_view is not None:
        radiance[~in_view] = 0.0
    return radiance


class Renderer:
    """Renders the cameras of one frame (lights and materials are read once per frame)."""

    def __init__(
        self,
        frame: FrameGeometry,
        materials: MaterialTable,
        spec: RenderSpec,
        randomization_digest: str,
        seed: int,
        frame_index: int,
        moving: MovingScene | None = None,
    ) -> None:
        self.frame = frame
        self.moving = moving
        """The frame's moving geometry (None: nothing moves); rays with times are cast in it."""
        self.spec = spec
        self.digest = randomization_digest
        self.seed = seed
        self.frame_index = frame_index
        gprims = frame.index.gprims
        self.params: list[MaterialParams] = materials.for_gprims([g.path for g in gprims])
        self._textures: dict[str, Any] = {}
        self.lights, self.dome = read_lights(frame.index.stage, self._textures)
        self.albedo = np.array([p.diffuse for p in self.params] + [(0.0, 0.0, 0.0)], dtype=np.float64)
        self.roughness = np.array([p.roughness for p in self.params] + [1.0], dtype=np.float64)
        self.metallic = np.array([p.metallic for p in self.params] + [0.0], dtype=np.float64)
        self.emissive = np.array([p.emissive for p in self.params] + [(0.0, 0.0, 0.0)], dtype=np.float64)
        self.specular = np.array(
            [p.specular if p.specular is not None else (-1.0, -1.0, -1.0) for p in self.params] + [(-1.0, -1.0, -1.0)],
            dtype=np.float64,
        )
        self.tables = (self.albedo, self.roughness, self.metallic, self.specular, self.emissive)
        self.opacity = np.array([p.opacity for p in self.params] + [1.0], dtype=np.float64)
        self.ior = np.array([p.ior for p in self.params] + [1.5], dtype=np.float64)
        self.dielectrics = bool((self.opacity < 1.0).any())
        self.strata: PixelStrata | None = None
        """Set while ``_integrate`` path traces a camera's pixel samples (first-vertex strata)."""
        self.textured = [
            gi
            for gi, p in enumerate(self.params)
            if p.texture or p.roughness_texture or p.metallic_texture or p.normal_texture
        ]

    # ------------------------------------------------------------------ geometry at times

    def cast(self, origins: np.ndarray, directions: np.ndarray, times: np.ndarray | None) -> dict[str, np.ndarray]:
        """First hits; rays with ``times`` see the moving geometry where it is then."""
        if times is None or self.moving is None:
            return self.frame.cast(origins, directions)
        return self.moving.cast(origins, directions, times)

    def occluded(self, rays: np.ndarray, times: np.ndarray | None) -> np.ndarray:
        if times is None or self.moving is None:
            return self.frame.occluded_rays(rays)
        return self.moving.occluded(rays, times)

    def surface(
        self,
        origins: np.ndarray,
        directions: np.ndarray,
        hits: dict[str, np.ndarray],
        valid: np.ndarray,
        normals_all: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> _Surface:
        """Shading points of ``hits``; hits of a cast at ``times`` are shaded in their group's
        t = 0 frame (where textures, normal maps and smooth normals live) and moved to their time."""
        if times is None or "group" not in hits:
            return self._surface(origins, directions, hits, valid, normals_all)
        assert self.moving is not None
        rest = {**hits, "face_normal": hits["face_normal_rest"]}
        s = self._surface(hits["origins_rest"], hits["directions_rest"], rest, valid)
        s.time = times[s.rows]
        self.moving.surface_to_time(s, hits["group"][s.rows])
        return s

    # ------------------------------------------------------------------ surfaces

    def _surface(
        self,
        origins: np.ndarray,
        directions: np.ndarray,
        hits: dict[str, np.ndarray],
        valid: np.ndarray,
        normals_all: np.ndarray | None = None,
    ) -> _Surface:
        sel = np.flatnonzero(valid)
        if normals_all is None:
            normals_all = self.frame.smooth_normals(hits)
        p = shading_points(sel, origins, directions, hits, normals_all, self.tables)
        if self.textured:
            for gi in self.textured:
                rows = np.flatnonzero(p.gprim == gi)
                if len(rows):
                    params, uv = self.params[gi], self._uvs(hits, sel[rows], gi)
                    if params.texture is not None:
                        p.albedo[rows] = params.texture.sample(uv)
                    # scalar maps: their red channel, as raw data (before F0, which needs metallic)
                    if params.roughness_texture is not None:
                        p.roughness[rows] = np.clip(params.roughness_texture.sample(uv)[:, 0], 0.0, 1.0)
                    if params.metallic_texture is not None:
                        p.metallic[rows] = np.clip(params.metallic_texture.sample(uv)[:, 0], 0.0, 1.0)
                    if params.normal_texture is not None:
                        p.normals[rows] = self._bent_normals(p, hits, sel[rows], rows, gi, params.normal_texture, uv)
        f0, metallic = fresnel_f0(p.albedo, p.metallic, p.specular)
        return _Surface(
            p.points, p.normals, p.geo_normals, p.view, p.albedo, p.roughness, metallic, f0, p.emissive, p.t, sel,
            p.gprim, p.entering,
        )  # fmt: skip

    def _bent_normals(
        self, p: Any, hits: dict[str, np.ndarray], hit_rows: np.ndarray, rows: np.ndarray, gi: int, normal_map: Any,
        uv: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Shading normals of ``rows`` bent by gprim ``gi``'s tangent-space normal map."""
        mesh = self.frame.index.gprims[gi].mesh
        tri = mesh.faces[hits["face"][hit_rows] - self.frame.face_offset[gi]]
        corners = self.frame.vertices[self.frame.faces[hits["face"][hit_rows]]]
        return perturbed_normals(p.normals[rows], p.view[rows], corners, mesh.uvs[tri], normal_map.sample(uv))

    def _uvs(self, hits: dict[str, np.ndarray], rows: np.ndarray, gi: int) -> np.ndarray:
        """Texture coordinates interpolated from the mesh's UVs with the hit's barycentrics."""
        mesh = self.frame.index.gprims[gi].mesh
        return _interpolated_uvs(
            rows,
            hits["face"],
            hits["uv"],
            int(self.frame.face_offset[gi]),
            mesh.faces,
            mesh.uvs.astype(np.float64, copy=False),
        )

    # ------------------------------------------------------------------ lighting

    def _add(
        self,
        radiance: np.ndarray,
        s: _Surface,
        sample: LightSample,
        shadows: bool,
        weight: float,
        mis: tuple[np.ndarray, float, np.ndarray | None] | None = None,
    ) -> None:
        """Adds one light sample's reflected radiance; ``mis`` (the samples' pdf, their count at
        this vertex, the dielectric opacity or None) weighs it against BRDF sampling."""
        lit = sample.lit
        if lit is None:
            lit = lit_points(s.normals, s.geo_normals, sample.direction, sample.li_over_pdf)
        idx = np.flatnonzero(lit)
        if len(idx) == 0:
            return
        if shadows:
            rays = shadow_rays(idx, s.points, s.geo_normals, s.t, sample.direction, sample.distance)
            blocked = self.occluded(rays, None if s.time is None else s.time[idx])
        else:
            blocked = np.zeros(len(idx), dtype=bool)
        accumulate(
            radiance,
            idx,
            blocked,
            s.normals,
            s.view,
            sample.direction,
            s.albedo,
            s.roughness,
            s.metallic,
            s.f0,
            sample.li_over_pdf,
            weight,
            _NO_ROWS if mis is None else mis[0],
            1.0 if mis is None else mis[1],
            _NO_ROWS if mis is None or mis[2] is None else mis[2],
        )

    def shade(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """Linear radiance (M, 3) along each camera ray, by ``render.engine``."""
        if self.spec.engine == "path":
            return trace(self, *args, **kwargs)
        return self.shade_direct(*args, **kwargs)

    def shade_direct(
        self,
        origins: np.ndarray,
        directions: np.ndarray,
        hits: dict[str, np.ndarray],
        valid: np.ndarray,
        rng: np.random.Generator,
        normals: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> np.ndarray:
        """Linear radiance (M, 3) along each ray (at ``times``, when the scene moves)."""
        out = primary_radiance(self, origins, directions, hits, valid)
        if not valid.any():
            return out
        s = self.surface(origins, directions, hits, valid, normals, times)
        radiance = next_event(self, s, True, rng, mis=False, into=s.emissive.copy())
        _add_into_rows(out, s.rows, radiance)
        return out

    # ------------------------------------------------------------------ cameras

    def render_linear(self, camera: str, ch: CameraHits) -> np.ndarray:
        """(H, W, 3) linear radiance; ``ch`` are the pixel-centre hits the labels used. With
        ``render.denoise`` the image is denoised (``denoise.py``), the labels never are."""
        if ch.timing is not None:
            image, guides = self._integrate_over_time(camera, ch, ch.timing)
            return denoise(self, image, ch, guides) if self.spec.denoise else image
        image = self._integrate(camera, ch)
        return denoise(self, image, ch) if self.spec.denoise else image

    def _integrate_over_time(
        self, camera: str, ch: CameraHits, timing: CameraTiming
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Like ``_integrate``, each sub-pixel sample at its own time in the exposure
        (``sensors/shutter.py``): the camera and the moving geometry where they are then.
        The times come from their own stream, so the shading draws are those of a still
        frame. With ``render.denoise`` the denoiser's guides are averaged over the samples
        too (a blurred image needs blurred guides). Returns the image and the guides."""
        model = ch.model
        h, w = model.height, model.width
        rng = frame_rng(self.digest, self.seed, self.frame_index, f"render:{camera}")
        n = self.spec.samples_per_pixel
        times = timing.shutter.sample_times(
            frame_rng(self.digest, self.seed, self.frame_index, f"shutter:{camera}"), n, h, w
        )
        jitter = PixelJitter(rng, n, h, w) if n > 1 else None
        total = np.zeros((h * w, 3))
        guides = (np.zeros((h * w, 3)), np.zeros((h * w, 3))) if self.spec.denoise else None
        for k in range(n):
            rays = timing.rays_at(
                camera_rays(model, ch.cam_to_world, None if jitter is None else jitter.offsets(k)), times[k]
            )
            hits = timing.cast(self.frame, rays, times[k])
            valid = rays.clip(hits, model.far_m)[0]
            scene_times = times[k] if timing.moving is not None else None
            total += _sensor_only(
                self.shade(rays.origins, rays.directions, hits, valid, rng, times=scene_times), rays.in_view
            )
            if guides is not None and valid.any():
                s = self.surface(rays.origins, rays.directions, hits, valid, None, scene_times)
                guides[0][s.rows] += guide_albedo(s)
                guides[1][s.rows] += s.normals
        if guides is not None:
            guides = (guides[0] / n, guides[1] / n)
        return (total / n).reshape(h, w, 3), guides

    def _integrate(self, camera: str, ch: CameraHits) -> np.ndarray:
        model = ch.model
        h, w = model.height, model.width
        rng = frame_rng(self.digest, self.seed, self.frame_index, f"render:{camera}")
        n = self.spec.samples_per_pixel
        if n == 1:
            radiance = self.shade(
                ch.rays.origins, ch.rays.directions, ch.hits, ch.valid, rng, ch.shading_normals(self.frame)
            )
            return _sensor_only(radiance, ch.rays.in_view).reshape(h, w, 3)
        jitter = PixelJitter(rng, n, h, w)
        total = np.zeros((h * w, 3))
        if self.spec.engine == "path":
            self.strata = PixelStrata(frame_rng(self.digest, self.seed, self.frame_index, f"strata:{camera}"), h * w, n)
        try:
            for k in range(n):
                if self.strata is not None:
                    self.strata.sample = k
                rays = camera_rays(model, ch.cam_to_world, jitter.offsets(k))
                hits = self.frame.cast(rays.origins, rays.directions)
                valid = rays.clip(hits, model.far_m)[0]
                total += _sensor_only(self.shade(rays.origins, rays.directions, hits, valid, rng), rays.in_view)
        finally:
            self.strata = None
        return (total / n).reshape(h, w, 3)

    def diffuse_albedo(self, ch: CameraHits) -> np.ndarray:
        """``DiffuseAlbedo`` (Replicator's RTX AOV name): (H, W, 4) uint8, the first hit's diffuse
        reflectance (1 − metallic)·albedo with textures applied, linear × 255; 0 where nothing is
        hit; alpha 255. The depth sensor model reads it (metals have none)."""
        h, w = ch.model.height, ch.model.width
        out = np.zeros((h * w, 4), dtype=np.uint8)
        out[:, 3] = 255
        if ch.valid.any():
            s = self._surface(ch.rays.origins, ch.rays.directions, ch.hits, ch.valid, ch.shading_normals(self.frame))
            diffuse = np.clip(s.albedo * (1.0 - s.metallic[:, None]), 0.0, 1.0)
            out[s.rows, :3] = np.rint(diffuse * 255.0).astype(np.uint8)
        return out.reshape(h, w, 4)

    def render_rgba(self, camera: str, ch: CameraHits) -> np.ndarray:
        """The ``rgb`` annotator: (H, W, 4) uint8, alpha 255."""
        return self.image(camera, ch).rgba()

    def image(self, camera: str, ch: CameraHits) -> CameraImage:
        """The camera's linear render, tone mapped on demand (``rgb`` and ``HdrColor`` share it)."""
        return CameraImage(self.render_linear(camera, ch), self.spec)


class CameraImage:
    """One camera's linear radiance and the two annotators made from it."""

    def __init__(self, linear: np.ndarray, spec: RenderSpec) -> None:
        self.linear = linear
        self.spec = spec

    def rgba(self) -> np.ndarray:
        """``rgb``: tone mapped (H, W, 4) uint8, alpha 255."""
        return tone_map(self.linear, self.spec.tone_map.kind, self.spec.tone_map.exposure_ev, alpha=True)

    def hdr(self) -> np.ndarray:
        """``HdrColor``: linear radiance before tone mapping, float16 (H, W, 4), alpha 1, as
        Replicator's ``HdrColor`` (radiance beyond float16's 65504 saturates to inf)."""
        h, w = self.linear.shape[:2]
        out = np.ones((h, w, 4), dtype=np.float16)
        out[..., :3] = self.linear
        return out
