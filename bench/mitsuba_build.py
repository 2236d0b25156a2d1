"""Build and render, with Mitsuba 3 (``llvm_ad_rgb``), the scene ``cycles_scene.py`` exported.

Runs in a venv of its own with ``mitsuba`` and ``pyoidn`` (``bench/README`` of ``bench_path.py``),
and needs Debian's ``libllvm19`` (LLVM 14 and 15 abort the first render, 16 to 18 were not
tried; ``../shared/reference/embedded-backend-bakeoff.md``). Same protocol as ``cycles_build.py``:
``python mitsuba_build.py SCENE OUT_DIR THREADS``, then one JSON line per render on stdin,
``[samples, denoise, name, warm]``, each answered by a ``RESULT`` line, the linear RGB in
``OUT_DIR/name.npy``. Every (samples, denoise) pair is warmed once, whatever ``warm`` says:
Dr.Jit traces and compiles a kernel per sample count, which a run pays once.

The scene is the one our renderer sees, rebuilt so that Mitsuba converges to our picture:

- every material is our BRDF (``runtime/embedded/brdf.py``: Lambert plus GGX with Smith's
  height-correlated visibility and Schlick's Fresnel, added without layering), written as a
  Python ``mi.BSDF`` that Dr.Jit traces into its kernel; Mitsuba's own ``principled`` or
  ``roughplastic`` layer their lobes and would converge elsewhere. Directions are drawn from a
  mixture of cosine and GGX visible normals (Mitsuba's best), two-sided as ours;
- the sun is a ``directional`` emitter of irradiance E (its 0.53° disc is not modelled:
  Mitsuba 3 has no angular sun), the sphere light a ``sphere`` with an ``area`` emitter of our
  radiance L (recovered from the export's Blender power P = 4π²r²L), area lights a
  ``rectangle``/``disk`` of radiance L (P = πAL), an untextured dome a ``constant`` emitter;
- the ``path`` integrator with ``max_depth`` N + 1 (Mitsuba counts the camera ray's hit: its 2
  is direct light, our ``max_bounces`` 1) and ``hide_emitters`` (our lights are not seen by
  camera rays), a 1-px box filter, the camera's horizontal field of view (a principal-point
  offset is refused: the reference scene has none).

Denoising: Mitsuba's own denoiser is OptiX (GPU only), so ``high``/``fast`` run Intel Open Image
Denoise (``pyoidn``) on the render, guided by albedo and shading normals from Mitsuba's ``aov``
integrator at 1 spp, all inside the timed render.
"""

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import drjit as dr
import mitsuba as mi
import numpy as np

mi.set_variant("llvm_ad_rgb")

MIN_ALPHA = 2e-3
"""``brdf.MIN_ALPHA``, copied: this runs in the peers' venv, where scenesmith is not installed."""


def _luminance(rgb: list[float]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


class OurBrdf(mi.BSDF):
    """``brdf.py``'s BRDF for one material record (``diffuse``, ``f0``, ``roughness``)."""

    def __init__(self, record: dict) -> None:
        mi.BSDF.__init__(self, mi.Properties())
        self.diffuse = [float(c) for c in record["diffuse"]]
        self.f0 = [float(c) for c in record["f0"]]
        self.alpha = max(float(record["roughness"]) ** 2, MIN_ALPHA)
        diffuse, specular = _luminance(self.diffuse), max(_luminance(self.f0), 0.0)
        if diffuse <= 0:
            self.p_spec = 1.0
        elif specular <= 0:
            self.p_spec = 0.0
        else:
            self.p_spec = min(max(specular / (specular + diffuse), 0.1), 0.9)
        reflection = mi.BSDFFlags.FrontSide | mi.BSDFFlags.BackSide
        self.m_components = [
            mi.BSDFFlags.DiffuseReflection | reflection,
            mi.BSDFFlags.GlossyReflection | reflection,
        ]
        self.m_flags = self.m_components[0] | self.m_components[1]

    def _distribution(self) -> "mi.MicrofacetDistribution":
        return mi.MicrofacetDistribution(mi.MicrofacetType.GGX, self.alpha, True)

    @staticmethod
    def _sided(si: "mi.SurfaceInteraction3f", wo: "mi.Vector3f") -> tuple["mi.Vector3f", "mi.Vector3f"]:
        """Two-sided: seen from below, mirror both directions into the upper hemisphere."""
        flip = dr.select(mi.Frame3f.cos_theta(si.wi) < 0, -1.0, 1.0)
        wi = mi.Vector3f(si.wi.x, si.wi.y, si.wi.z * flip)
        return wi, mi.Vector3f(wo.x, wo.y, wo.z * flip)

    def _value(self, wi: "mi.Vector3f", wo: "mi.Vector3f") -> "mi.Color3f":
        """f · cos θo (zero below the surface)."""
        n_l, n_v = mi.Frame3f.cos_theta(wo), dr.maximum(mi.Frame3f.cos_theta(wi), 1e-6)
        h = dr.normalize(wi + wo)
        n_h = dr.clip(h.z, 0.0, 1.0)
        v_h = dr.clip(dr.dot(wi, h), 0.0, 1.0)
        a2 = self.alpha * self.alpha
        denom = n_h * n_h * (a2 - 1.0) + 1.0
        d = a2 / (dr.pi * denom * denom)
        nl = dr.maximum(n_l, 1e-6)
        vis = 0.5 / (nl * dr.sqrt(n_v * n_v * (1.0 - a2) + a2) + n_v * dr.sqrt(nl * nl * (1.0 - a2) + a2))
        schlick = dr.power(1.0 - v_h, 5.0)
        spec = d * vis
        value = mi.Color3f(
            [self.diffuse[c] / dr.pi + (self.f0[c] + (1.0 - self.f0[c]) * schlick) * spec for c in range(3)]
        )
        return dr.select(n_l > 0, value * n_l, 0.0)

    def _pdf(self, wi: "mi.Vector3f", wo: "mi.Vector3f") -> "mi.Float":
        n_l = mi.Frame3f.cos_theta(wo)
        h = dr.normalize(wi + wo)
        spec = self._distribution().pdf(wi, h) / (4.0 * dr.maximum(dr.abs(dr.dot(wo, h)), 1e-12))
        mixed = (1.0 - self.p_spec) * n_l / dr.pi + self.p_spec * spec
        return dr.select((n_l > 0) & (mi.Frame3f.cos_theta(wi) > 0), mixed, 0.0)

    def eval(
        self, ctx: "mi.BSDFContext", si: "mi.SurfaceInteraction3f", wo: "mi.Vector3f", active: Any = True
    ) -> "mi.Color3f":
        wi, wo_ = self._sided(si, wo)
        return self._value(wi, wo_)

    def pdf(
        self, ctx: "mi.BSDFContext", si: "mi.SurfaceInteraction3f", wo: "mi.Vector3f", active: Any = True
    ) -> "mi.Float":
        wi, wo_ = self._sided(si, wo)
        return self._pdf(wi, wo_)

    def eval_pdf(
        self, ctx: "mi.BSDFContext", si: "mi.SurfaceInteraction3f", wo: "mi.Vector3f", active: Any = True
    ) -> tuple["mi.Color3f", "mi.Float"]:
        wi, wo_ = self._sided(si, wo)
        return self._value(wi, wo_), self._pdf(wi, wo_)

    def sample(
        self,
        ctx: "mi.BSDFContext",
        si: "mi.SurfaceInteraction3f",
        sample1: "mi.Float",
        sample2: "mi.Point2f",
        active: Any = True,
    ) -> tuple["mi.BSDFSample3f", "mi.Color3f"]:
        flip = dr.select(mi.Frame3f.cos_theta(si.wi) < 0, -1.0, 1.0)
        wi = mi.Vector3f(si.wi.x, si.wi.y, si.wi.z * flip)
        m, _ = self._distribution().sample(wi, sample2)
        glossy = sample1 < self.p_spec
        wo = dr.select(glossy, mi.reflect(wi, m), mi.warp.square_to_cosine_hemisphere(sample2))
        value, pdf = self._value(wi, wo), self._pdf(wi, wo)
        bs = mi.BSDFSample3f()
        bs.wo = mi.Vector3f(wo.x, wo.y, wo.z * flip)
        bs.pdf = pdf
        bs.eta = 1.0
        bs.sampled_type = mi.UInt32(
            dr.select(glossy, int(mi.BSDFFlags.GlossyReflection), int(mi.BSDFFlags.DiffuseReflection))
        )
        bs.sampled_component = dr.select(glossy, mi.UInt32(1), mi.UInt32(0))
        ok = (pdf > 0) & (mi.Frame3f.cos_theta(wo) > 0)
        return bs, dr.select(ok, value / dr.maximum(pdf, 1e-20), 0.0)

    def eval_diffuse_reflectance(self, si: "mi.SurfaceInteraction3f", active: Any = True) -> "mi.Color3f":
        return mi.Color3f(self.diffuse)  # the denoiser's albedo guide, as ours (first-hit albedo)

    def traverse(self, callback: Any) -> None:
        pass

    def to_string(self) -> str:
        return f"OurBrdf[diffuse={self.diffuse}, f0={self.f0}, alpha={self.alpha}]"


def _mesh(name: str, v: np.ndarray, f: np.ndarray, n: np.ndarray | None, bsdf: mi.BSDF) -> mi.Mesh:
    props = mi.Properties()
    props["bsdf"] = bsdf
    mesh = mi.Mesh(name, len(v), len(f), props, has_vertex_normals=n is not None)
    params = mi.traverse(mesh)
    params["vertex_positions"] = mi.Float(np.ascontiguousarray(v, dtype=np.float32).ravel())
    params["faces"] = mi.UInt32(np.ascontiguousarray(f, dtype=np.uint32).ravel())
    if n is not None:
        params["vertex_normals"] = mi.Float(np.ascontiguousarray(n, dtype=np.float32).ravel())
    params.update()
    return mesh


def _rgb(value: list[float]) -> dict:
    return {"type": "rgb", "value": [float(c) for c in value]}


def _area(radiance: np.ndarray, power_w: float) -> dict:
    return {"type": "area", "radiance": _rgb(radiance), "sampling_weight": power_w}


def _emitter(record: dict, distant_area_m2: float) -> dict:
    """One light, with its sampling weight: Mitsuba's next-event estimation samples one emitter
    per vertex, uniformly unless weighted (ours samples every light). Local lights weigh their
    power; a sun its irradiance times ``distant_area_m2``, the area it lights that the camera
    sees, which ``build`` tunes (on the reference scene: 22.9% error at 16 spp with uniform
    weights, 4.9% tuned)."""
    colour = np.asarray(record["color"], dtype=np.float64)
    black = {"type": "diffuse", "reflectance": _rgb([0.0, 0.0, 0.0])}
    if record["type"] == "SUN":
        irradiance = colour * record["strength"]
        return {
            "type": "directional",
            "direction": record["direction"],
            "irradiance": _rgb(irradiance),
            "sampling_weight": float(np.mean(irradiance) * distant_area_m2),
        }
    if record["type"] == "POINT":
        r = record["radius_m"]
        radiance = colour * record["power"] / (4.0 * math.pi**2 * r * r)
        return {
            "type": "sphere",
            "center": record["location"],
            "radius": r,
            "bsdf": black,
            "emitter": _area(radiance, float(np.mean(colour) * record["power"])),
        }
    # AREA: a unit shape (rectangle [-1, 1]², disk of radius 1) scaled to the light's size
    sx, sy = record["size_m"] / 2.0, record["size_y_m"] / 2.0
    area = 4.0 * sx * sy if record["shape"] == "RECTANGLE" else math.pi * sx * sy
    radiance = colour * record["power"] / (math.pi * area)
    to_world = mi.ScalarTransform4f(np.asarray(record["matrix_world"])) @ mi.ScalarTransform4f().scale([sx, sy, 1.0])
    return {
        "type": "rectangle" if record["shape"] == "RECTANGLE" else "disk",
        "flip_normals": True,  # Mitsuba's emit towards local +Z, ours from the -Z face (lights.py)
        "to_world": to_world,
        "bsdf": black,
        "emitter": _area(radiance, float(np.mean(colour) * record["power"])),
    }


def _sensor(cam: dict, spp: int) -> dict:
    w, h = cam["resolution"]
    m = np.asarray(cam["matrix_world"], dtype=np.float64)
    origin, forward, up = m[:3, 3], -m[:3, 2], m[:3, 1]
    fov_deg = math.degrees(2.0 * math.atan(cam["sensor_width_mm"] / (2.0 * cam["lens_mm"])))
    if cam["shift_x"] or cam["shift_y"]:  # Mitsuba's principal_point_offset: sign and unit not verified
        raise SystemExit("principal-point offsets are not exported to Mitsuba")
    return {
        "type": "perspective",
        "fov_axis": "x",
        "fov": fov_deg,
        "near_clip": cam["clip_start_m"],
        "far_clip": cam["clip_end_m"],
        "to_world": mi.ScalarTransform4f().look_at(
            origin=origin.tolist(), target=(origin + forward).tolist(), up=up.tolist()
        ),
        "film": {"type": "hdrfilm", "width": w, "height": h, "rfilter": {"type": "box"}, "pixel_format": "rgb"},
        "sampler": {"type": "independent", "sample_count": spp},  # renders pick theirs (SAMPLERS)
    }


def _scene(record: dict, arrays: Any, bsdfs: list, distant_area_m2: float) -> mi.Scene:
    scene: dict = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": record["max_bounces"] + 1, "hide_emitters": True},
        "sensor": _sensor(record["camera"], 1),
    }
    for o in record["objects"]:
        name = o["name"]
        normals = arrays[name + "_n"] if o["smooth"] else None
        scene[name] = _mesh(name, arrays[name + "_v"], arrays[name + "_f"], normals, bsdfs[o["material"]])
    for i, light in enumerate(record["lights"]):
        scene[f"light{i}"] = _emitter(light, distant_area_m2)
    if max(record["world_rgb"]) > 0:
        radiance = np.asarray(record["world_rgb"], dtype=np.float64)
        scene["dome"] = {
            "type": "constant",
            "radiance": _rgb(radiance),
            "sampling_weight": float(np.mean(radiance) * math.pi * distant_area_m2),
        }
    return mi.load_dict(scene)


def build(scene_base: str) -> tuple[mi.Scene, dict]:
    """The exported scene, its emitters weighted as well as Mitsuba can: the sun's and the
    dome's weight is tuned on the scene's own noise (two 4-spp renders with different seeds,
    no reference needed), trying the area they light from the scene's largest cross-section
    down to 1/64 of it (most of a floor is out of view)."""
    record = json.loads(Path(scene_base + ".json").read_text())
    arrays = np.load(scene_base + ".npz")
    for m in record["materials"]:
        if max(m["emission"]) > 0:
            raise SystemExit("emissive materials are not exported to Mitsuba")
    if max(record["world_camera_rgb"]) > 0:  # hide_emitters would hide a dome from camera rays too
        raise SystemExit("a background seen by the camera is not exported to Mitsuba")
    if not all(light["shadows"] for light in record["lights"]):
        raise SystemExit("lights without shadows are not exported to Mitsuba")
    bsdfs = [OurBrdf(m) for m in record["materials"]]
    points = np.concatenate([arrays[o["name"] + "_v"] for o in record["objects"]])
    size = points.max(axis=0) - points.min(axis=0)
    largest_m2 = float(max(size[0] * size[1], size[1] * size[2], size[0] * size[2]))
    best = None
    for fraction in (1.0, 1 / 4, 1 / 16, 1 / 64):
        scene = _scene(record, arrays, bsdfs, largest_m2 * fraction)
        a, b = (np.array(mi.render(scene, spp=4, seed=s))[..., :3] for s in (1000, 1001))
        noise = float(np.sqrt(np.mean((a - b) ** 2) / np.mean(((a + b) / 2) ** 2)))
        if best is None or noise < best[0]:
            best = (noise, scene, fraction)
    assert best is not None
    print(f"TUNED sun/dome weight: {best[2]:.4g} of the largest cross-section", flush=True)
    return best[1], record


def _guides(scene: mi.Scene) -> tuple[np.ndarray, np.ndarray]:
    aov = mi.load_dict({"type": "aov", "aovs": "albedo:albedo,nn:sh_normal"})
    image = np.array(mi.render(scene, integrator=aov, spp=1, seed=1))
    return np.ascontiguousarray(image[..., 0:3]), np.ascontiguousarray(image[..., 3:6])


def _denoise(color: np.ndarray, albedo: np.ndarray, normal: np.ndarray, quality: str) -> np.ndarray:
    """The call ours makes (``runtime/embedded/denoise.py``): pyoidn's reused device and filter."""
    import pyoidn

    return np.asarray(pyoidn.denoise(color, albedo, normal, hdr=True, quality=quality))


SAMPLERS = ("ldsampler", "multijitter")
"""Mitsuba's best samplers here (4.9% at 16 spp against 7.4% for ``independent``,
``stratified`` 6.6%). Neither takes every count: ``ldsampler`` rounds up to a power of 4 (32
becomes 64), ``multijitter`` to a product of near-equal factors (32 becomes 35). A rung renders
with the one that takes the fewest samples at or above its count, and reports that count."""


def sensors(record: dict) -> dict[str, mi.Sensor]:
    out = {}
    for kind in SAMPLERS:
        spec = _sensor(record["camera"], 1)
        spec["sampler"] = {"type": kind, "sample_count": 1}
        out[kind] = mi.load_dict(spec)
    return out


def pick_sensor(cameras: dict[str, mi.Sensor], spp: int) -> tuple[mi.Sensor, int]:
    """The sensor whose sampler takes the fewest samples at or above ``spp``, and that count."""
    best = None
    for kind in SAMPLERS:
        sensor = cameras[kind]
        sensor.sampler().set_sample_count(spp)
        count = sensor.sampler().sample_count()
        if best is None or count < best[1]:
            best = (sensor, count)
    assert best is not None
    return best


def render(scene: mi.Scene, cameras: dict[str, mi.Sensor], spp: int, denoise: str, seed: int) -> np.ndarray:
    sensor, count = pick_sensor(cameras, spp)
    image = np.array(mi.render(scene, sensor=sensor, spp=count, seed=seed), dtype=np.float32)[..., :3]
    if denoise != "off":
        albedo, normal = _guides(scene)
        image = _denoise(np.ascontiguousarray(image), albedo, normal, denoise)
    return image.astype(np.float64)


def main() -> None:
    scene_base, out_dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    dr.set_thread_count(threads)
    scene, record = build(scene_base)
    cameras = sensors(record)
    print("READY", flush=True)
    seed = 0
    warmed = set()
    for line in sys.stdin:
        spp, denoise, name, _ = json.loads(line)
        if (spp, denoise) not in warmed:  # Dr.Jit compiles a kernel per sample count (once a run)
            render(scene, cameras, spp, denoise, seed)
            warmed.add((spp, denoise))
        seed += 1
        start = time.perf_counter()
        image = render(scene, cameras, spp, denoise, seed)
        seconds = time.perf_counter() - start
        np.save(f"{out_dir}/{name}.npy", image)
        taken = pick_sensor(cameras, spp)[1]  # the samples the rung took (its sampler may round up)
        print("RESULT " + json.dumps({"spp": taken, "denoise": denoise, "seconds": seconds, "name": name}), flush=True)


if __name__ == "__main__":
    main()
