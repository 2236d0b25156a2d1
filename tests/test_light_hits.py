"""Lights a ray can hit (``lights.LightHit``): the path engine's BRDF-sampled rays see sphere,
disk, rect and soft distant lights, weighted against light sampling by MIS, and camera rays see
lights authored ``visibleInPrimaryRay`` (RTX's attribute). Checked against geometry and physics:
a ray along a light sample meets the light at the sample's distance with the sample's pdf; each
light's pdf integrates to one over the sphere of directions; a mirror shows a lamp at F·L."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scenesmith.runtime.embedded.lights import read_lights
from test_renderer import DOWN, LAMBERT, plane_scene, render


def _stage_with(kind: str):  # type: ignore[no-untyped-def]
    """One light of ``kind`` (``sheared rect``: a rect rotated under a non-uniformly scaled
    parent, so its local Z is not normal to its face), moved, rotated and scaled."""
    from pxr import Gf, Usd, UsdGeom, UsdLux

    stage = Usd.Stage.CreateInMemory()
    parent = "/P" if kind == "sheared rect" else ""
    if parent:
        UsdGeom.Xform.Define(stage, parent).AddScaleOp().Set(Gf.Vec3f(1.0, 2.5, 0.6))
        kind = "rect"
    cls = {"sphere": UsdLux.SphereLight, "disk": UsdLux.DiskLight, "rect": UsdLux.RectLight,
           "distant": UsdLux.DistantLight}[kind]  # fmt: skip
    light = cls.Define(stage, parent + "/L")
    light.CreateIntensityAttr(3.0)
    if kind == "sphere":
        light.CreateRadiusAttr(0.4)
    elif kind == "disk":
        light.CreateRadiusAttr(0.5)
    elif kind == "rect":
        light.CreateWidthAttr(0.8)
        light.CreateHeightAttr(0.5)
    else:
        light.CreateAngleAttr(20.0)
    xf = UsdGeom.Xformable(light.GetPrim())
    xf.AddTranslateOp().Set(Gf.Vec3d(0.3, -0.2, 2.0))
    xf.AddRotateXYZOp().Set(Gf.Vec3f(25.0, -15.0, 40.0))
    xf.AddScaleOp().Set(Gf.Vec3f(1.3, 0.7, 1.0))  # a scaled emitter is hit where it is sampled
    lights, _ = read_lights(stage, {})
    return lights[0]


KINDS = ["sphere", "disk", "rect", "sheared rect", "distant"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_ray_along_a_light_sample_meets_the_light_with_that_samples_pdf(kind: str) -> None:
    light = _stage_with(kind)
    rng = np.random.default_rng(1)
    m = 4000
    points = rng.uniform(-1.5, 1.5, (m, 3)) * np.array([1.0, 1.0, 0.3]) - np.array([0.0, 0.0, 1.0])
    u = rng.random((m, 2)).astype(np.float32)
    # normals along the light's direction, so every sample counts as lit where the light faces
    toward = light.sample(points, np.tile([0.0, 0.0, 1.0], (m, 1)), np.tile([0.0, 0.0, 1.0], (m, 1)), u).direction
    normals = np.broadcast_to(toward, (m, 3)).copy()
    sample = light.sample(points, normals, normals, u)
    assert sample.pdf is not None
    front = sample.pdf > 0
    assert front.mean() > 0.5
    hit = light.hit(points[front], sample.direction[front])
    assert hit.mask.all()
    assert np.allclose(hit.pdf, sample.pdf[front], rtol=1e-6)
    if kind != "distant":  # the sun is at infinity
        length = np.linalg.norm(sample.direction[front], axis=1)
        assert np.allclose(hit.t * length, sample.distance[front], rtol=1e-6, atol=1e-9)
    # the same rays turned round miss it
    assert not light.hit(points[front], -sample.direction[front]).mask.any()


@pytest.mark.parametrize("kind", KINDS)
def test_each_lights_pdf_integrates_to_one_over_the_directions_that_meet_it(kind: str) -> None:
    """∫ pdf dω over the directions that meet the light = 1 (for a sampler drawing only those),
    estimated with uniform directions from one point in front of it: mean(pdf·mask)·4π."""
    light = _stage_with(kind)
    rng = np.random.default_rng(2)
    n = 400_000
    z = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2 * math.pi, n)
    r = np.sqrt(1 - z * z)
    dirs = np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)
    origin = np.tile([0.1, 0.0, 0.6], (n, 1))
    hit = light.hit(origin, dirs)
    assert hit.mask.mean() > 0.005  # the light covers a solid angle worth estimating
    integral = float(np.where(hit.mask, hit.pdf, 0.0).mean() * 4 * math.pi)
    # Monte Carlo error of a uniform-sphere estimate of a covered fraction f: ~sqrt((1-f)/(f n))
    assert integral == pytest.approx(1.0, abs=4 * math.sqrt(1 / (hit.mask.mean() * n)))


MIRROR = {"diffuse_color": [0.9, 0.9, 0.9], "metallic": 1.0, "roughness": 0.0}


def _mirror_under_a_lamp(engine: str, **lamp: object) -> np.ndarray:
    scene = plane_scene(
        {"lamp": {"type": "rect", "width_m": 8.0, "height_m": 8.0, "intensity": 2.0, "position_m": [0.0, 0.0, 5.0],
                  **lamp}},
        material=MIRROR,
        height=3.0,
        res=32,
        render_opts={"engine": engine, "max_bounces": 2, "samples_per_pixel": 4, "area_light_samples": 4},
    )  # fmt: skip
    return render(scene)


def test_a_mirror_shows_a_lamp_above_it_at_fresnel_times_its_radiance() -> None:
    """The camera (z = 3, looking down) sees, in a metal mirror (F0 = 0.9), the rect lamp above
    it (z = 5, 8 m wide, radiance 2): near normal incidence Schlick's F is F0, so the image is 0.9 × 2.
    Light sampling alone cannot find a mirror's reflection of a lamp: ``direct`` stays dark."""
    path = _mirror_under_a_lamp("path")
    centre = path[12:20, 12:20].reshape(-1, 3)
    # most pixels exactly; a few carry MIS noise from the GGX tail (a BRDF ray weighted down,
    # a light sample inside the lobe), which averages out
    assert np.median(centre) == pytest.approx(0.9 * 2.0, rel=0.002)
    assert centre.mean() == pytest.approx(0.9 * 2.0, rel=0.02)
    direct = _mirror_under_a_lamp("direct")
    assert direct[12:20, 12:20].mean() < 0.1 * 0.9 * 2.0
    # a lamp that casts no shadows is left to light sampling: no reflection either
    assert _mirror_under_a_lamp("path", shadows=False)[12:20, 12:20].mean() < 0.1 * 0.9 * 2.0


GLOSSY = {"diffuse_color": [0.6, 0.5, 0.4], "metallic": 0.4, "roughness": 0.3}


@pytest.mark.parametrize("kind", ["distant", "disk", "rect", "sphere"])
def test_on_a_glossy_floor_one_bounce_of_path_agrees_with_direct(kind: str) -> None:
    """MIS is unbiased only if both strategies weigh a direction with the same two pdfs and
    sample counts: the path engine at one bounce (light sampling + BRDF rays that meet the
    lamp) must equal the light-sampling-only ``direct`` engine on a glossy floor, where the two
    disagree most. Four light samples per light at the first vertex (``area_light_samples``
    128 over 32 pixel samples): weighting the hits as if it took one is 5–10% off."""
    lamp = {
        "sphere": {"type": "sphere", "radius_m": 0.3, "intensity": 60.0, "position_m": [0.8, 0.0, 1.2]},
        "disk": {"type": "disk", "radius_m": 0.4, "intensity": 40.0, "position_m": [0.8, 0.0, 1.2],
                 "rotation_deg": [0.0, -30.0, 0.0]},
        "rect": {"type": "rect", "width_m": 0.8, "height_m": 0.5, "intensity": 40.0, "position_m": [0.8, 0.0, 1.2],
                 "rotation_deg": [0.0, -30.0, 0.0]},
        "distant": {"type": "distant", "angle_deg": 15.0, "intensity": 3.0, "rotation_deg": [0.0, -40.0, 0.0]},
    }[kind]  # fmt: skip
    opts = {"samples_per_pixel": 32, "area_light_samples": 128}
    scene = plane_scene({"lamp": lamp}, material=GLOSSY, height=2.5, res=24, render_opts=opts)
    scene["cameras"]["cam"]["position_m"] = [-0.6, 0.0, 2.5]
    direct = render(scene)
    path = render({**scene, "render": {**scene["render"], "engine": "path", "max_bounces": 1}})
    assert direct.mean() > 0.05
    assert path.mean() == pytest.approx(direct.mean(), rel=0.02)
    blocks = lambda img: img.reshape(6, 4, 6, 4, 3).mean(axis=(1, 3))  # noqa: E731 - 4×4-pixel blocks
    # block by block too; the highlight's blocks carry the noise of light sampling a glossy lobe
    assert np.allclose(blocks(path), blocks(direct), rtol=0.12, atol=0.01 * direct.mean())


@pytest.mark.parametrize("engine", ["direct", "path"])
def test_a_light_visible_in_primary_rays_is_seen_by_the_camera_at_its_radiance(engine: str) -> None:
    """A disk lamp facing up between the camera and the floor: with ``visible_in_primary_ray``
    the camera sees its radiance; without, it sees past it to the floor it does not light."""

    def scene(visible: bool) -> dict:
        lamp = {"type": "disk", "radius_m": 0.5, "intensity": 1.5, "position_m": [0.0, 0.0, 1.0],
                "rotation_deg": [180.0, 0.0, 0.0], "visible_in_primary_ray": visible}  # fmt: skip
        return plane_scene({"lamp": lamp}, material=LAMBERT, height=3.0, res=32, render_opts={"engine": engine})

    seen, unseen = render(scene(True)), render(scene(False))
    assert np.allclose(seen[14:18, 14:18], 1.5, rtol=1e-9)
    assert np.all(unseen[14:18, 14:18] == 0.0)
    assert np.all(seen[0:3, 0:3] == unseen[0:3, 0:3])  # the floor beyond the lamp's disc


def test_visible_in_primary_ray_is_authored_as_rtx_reads_it_and_refused_on_a_dome() -> None:
    from scenesmith.runtime.usd.light_attrs import VISIBLE_IN_PRIMARY_RAY
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.runtime.usd.stage import author_stage
    from scenesmith.scenarios.loader import build
    from scenesmith.sensors.errors import BadInputError

    lamp = {"type": "sphere", "radius_m": 0.1, "position_m": [0.0, 0.0, 2.0], "visible_in_primary_ray": True}
    stage = author_stage(resolve(build({"version": 1, **plane_scene({"lamp": lamp})})))
    prims = [p for p in stage.Traverse() if p.GetTypeName() == "SphereLight"]
    assert len(prims) == 1 and prims[0].GetAttribute(VISIBLE_IN_PRIMARY_RAY).Get() is True
    assert not prims[0].HasAttribute("inputs:" + VISIBLE_IN_PRIMARY_RAY)
    # authored off too, so Isaac's RTX agrees with the embedded renderer whatever its default
    lamp["visible_in_primary_ray"] = False
    stage = author_stage(resolve(build({"version": 1, **plane_scene({"lamp": lamp})})))
    off = [p for p in stage.Traverse() if p.GetTypeName() == "SphereLight"][0].GetAttribute(VISIBLE_IN_PRIMARY_RAY)
    assert off.IsAuthored() and off.Get() is False
    with pytest.raises(BadInputError, match="visible_in_primary_ray"):
        build({"version": 1, **plane_scene({"sky": {"type": "dome", "visible_in_primary_ray": False}})})


def test_the_camera_does_not_see_lights_by_default() -> None:
    lamp = {"type": "disk", "radius_m": 0.5, "intensity": 1.5, "position_m": [0.0, 0.0, 1.0],
            "rotation_deg": [180.0, 0.0, 0.0]}  # fmt: skip
    scene = plane_scene({"lamp": lamp}, res=16, render_opts={"engine": "path"})
    assert scene["cameras"]["cam"]["quat_wxyz"] == DOWN
    assert np.all(render(scene)[6:10, 6:10] == 0.0)


def _without_mis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path engine with light sampling alone for every light (no BRDF ray sees one): the
    estimator before light MIS, unbiased too, so it must give the same image on average."""
    from scenesmith.runtime.embedded import path_tracer

    monkeypatch.setattr(path_tracer, "_weighed", lambda light: False)


def _lamp(kind: str, x: float, z: float) -> dict:
    """A lamp of ``kind`` at (x, 0, z) facing back towards the origin (a sun from −x, 30° up)."""
    return {
        "sphere": {"type": "sphere", "radius_m": 0.3, "intensity": 60.0, "position_m": [x, 0.0, z]},
        "disk": {"type": "disk", "radius_m": 0.4, "intensity": 40.0, "position_m": [x, 0.0, z],
                 "rotation_deg": [0.0, 70.0, 0.0]},
        "rect": {"type": "rect", "width_m": 0.8, "height_m": 0.5, "intensity": 40.0, "position_m": [x, 0.0, z],
                 "rotation_deg": [0.0, 70.0, 0.0]},
        "distant": {"type": "distant", "intensity": 3.0, "angle_deg": 20.0, "rotation_deg": [0.0, -60.0, 0.0]},
    }[kind]  # fmt: skip


@pytest.mark.parametrize("opacity", [1.0, 0.6])
@pytest.mark.parametrize("kind", ["distant", "disk", "rect", "sphere"])
def test_light_mis_changes_the_noise_not_the_image(kind: str, opacity: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four light samples per light at the first vertex (``area_light_samples`` 64 over 16
    pixel samples) and one at later ones: the sample counts enter the weights.

    - Opaque: a glossy floor and a glossy wall, three bounces (later vertices too).
    - ``opacity`` 0.6: the floor is part glass (the BRDF lobe's pdf is its share), alone, with
      the lamp low and far to the side, where no mirror direction from what the camera sees
      (straight down) reaches it: glass's specular paths, which only MIS lets see a lamp (a
      caustic, or a lamp in a window), must add nothing for the two to agree."""
    material = {**GLOSSY, "roughness": 0.45, "opacity": opacity}
    opts = {"engine": "path", "max_bounces": 3, "samples_per_pixel": 16, "area_light_samples": 64}
    if opacity == 1.0:
        wall = {"wall": {"cube": {"size_m": 1.0}, "position_m": [-1.2, 0.0, 0.5], "scale": [0.2, 3.0, 1.0],
                         "material": "m"}}  # fmt: skip
        lamp = _lamp(kind, 1.6, 0.6)
    else:
        wall, lamp = {}, _lamp(kind, 3.2, 0.35)
    scene = plane_scene({"lamp": lamp}, material=material, height=2.5, res=24, extra=wall, render_opts=opts)
    with_mis = render(scene)
    _without_mis(monkeypatch)
    without = render(scene)
    assert without.mean() > 0.01
    assert with_mis.mean() == pytest.approx(without.mean(), rel=0.02)


def test_a_lamp_flush_with_the_ceiling_lights_the_floor_as_light_sampling_says() -> None:
    """BRDF rays reach a rect lamp mounted flush under a ceiling, where the ceiling's float32 t
    and the lamp's tie: with the shadow rays' slack they see it as light sampling does (without
    it a third of them lost the tie). A large lamp close over the floor, so BRDF rays carry a
    good share of the light."""
    lamp = {"type": "rect", "width_m": 3.0, "height_m": 3.0, "intensity": 2.0, "position_m": [0.0, 0.0, 1.0]}
    ceiling = {"ceiling": {"cube": {"size_m": 1.0}, "position_m": [0.0, 0.0, 1.25], "scale": [8.0, 8.0, 0.5],
                           "material": "m"}}  # fmt: skip
    # 64 samples: light sampling a large lamp this close is noisy (16 samples: ±2%); MIS is not
    opts = {"samples_per_pixel": 64, "area_light_samples": 64}
    scene = plane_scene({"lamp": lamp}, height=0.8, res=24, extra=ceiling, render_opts=opts)
    direct = render(scene)
    path = render({**scene, "render": {**scene["render"], "engine": "path", "max_bounces": 1}})
    assert direct.mean() > 0.05
    assert path.mean() == pytest.approx(direct.mean(), rel=0.02)


def _light_sampling_and_specular_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The classic estimator MIS must agree with: every light sample at full weight, and a
    BRDF ray sees a lamp only where it was a specular (glass) choice, which light sampling
    cannot make. It keeps the paths through glass that light MIS added, unlike ``_without_mis``."""
    from scenesmith.runtime.embedded import path_tracer

    def specular_hits(r, out, origins, directions, t_scene, rows=None, throughput=None, bsdf_pdf=None, first=False):  # type: ignore[no-untyped-def]
        if bsdf_pdf is None:  # camera rays: as before
            return
        for light in r.lights:
            if getattr(light, "hittable", False) and light.shadows:
                hit = light.hit(origins, directions)
                specular = hit.mask & (bsdf_pdf >= path_tracer.DELTA_PDF)
                path_tracer._add_light(
                    out, rows, throughput, directions, hit.t, specular, hit.pdf, hit.radiance, t_scene, np.zeros(0), 1.0
                )

    monkeypatch.setattr(path_tracer, "_weighed", lambda light: False)
    monkeypatch.setattr(path_tracer, "add_lights_seen", specular_hits)


@pytest.mark.parametrize("kind", ["rect", "sphere"])
def test_through_a_part_glass_floor_mis_equals_light_sampling_plus_specular_hits(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``opacity`` 0.5: a BRDF-lobe ray is drawn with half the probability, so its pdf in the
    light samples' weights must be halved too (leaving that out is 3.6% too dark here)."""
    lamp = {
        "sphere": {"type": "sphere", "radius_m": 0.3, "intensity": 60.0, "position_m": [0.8, 0.0, 1.2]},
        "rect": {"type": "rect", "width_m": 0.8, "height_m": 0.5, "intensity": 40.0, "position_m": [0.8, 0.0, 1.2],
                 "rotation_deg": [0.0, -30.0, 0.0]},
    }[kind]  # fmt: skip
    opts = {"engine": "path", "max_bounces": 1, "samples_per_pixel": 32, "area_light_samples": 32}
    scene = plane_scene({"lamp": lamp}, material={**GLOSSY, "opacity": 0.5}, height=2.5, res=24, render_opts=opts)
    scene["cameras"]["cam"]["position_m"] = [-0.6, 0.0, 2.5]
    with_mis = np.mean([render(scene, seed=k).mean() for k in range(2)])
    _light_sampling_and_specular_hits(monkeypatch)
    classic = np.mean([render(scene, seed=k).mean() for k in range(2)])
    assert classic > 0.05
    assert with_mis == pytest.approx(classic, rel=0.012)
