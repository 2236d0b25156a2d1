"""The Cycles export of bench/bench_path.py (``bench/cycles_scene.py``): its light units, BRDF and
camera, each checked against a closed form or Blender's documented model, not against itself."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from cycles_scene import UnsupportedError, camera_record, light_record, material_record
from scenesmith.runtime.embedded.brdf import evaluate
from scenesmith.runtime.embedded.lights import read_lights
from scenesmith.runtime.embedded.materials import MaterialParams
from scenesmith.sensors.camera import PinholeCamera


def _stage():  # type: ignore[no-untyped-def]
    from pxr import Gf, Usd, UsdGeom, UsdLux

    stage = Usd.Stage.CreateInMemory()
    sun = UsdLux.DistantLight.Define(stage, "/Sun")
    sun.CreateIntensityAttr(3.0)
    sun.CreateExposureAttr(1.0)
    sun.CreateColorAttr(Gf.Vec3f(1.0, 0.96, 0.9))
    sun.CreateAngleAttr(2.0)
    UsdGeom.Xformable(sun).AddOrientOp().Set(Gf.Quatf(0.9493609, -0.21134542, -0.23247996, 0.0))
    lamp = UsdLux.SphereLight.Define(stage, "/Lamp")
    lamp.CreateIntensityAttr(60.0)
    lamp.CreateRadiusAttr(0.1)
    UsdGeom.Xformable(lamp).AddTranslateOp().Set(Gf.Vec3d(-0.9, 0.9, 2.0))
    bulb = UsdLux.SphereLight.Define(stage, "/Bulb")
    bulb.CreateIntensityAttr(10.0)
    bulb.CreateRadiusAttr(0.05)
    bulb.CreateNormalizeAttr(True)
    rect = UsdLux.RectLight.Define(stage, "/Panel")
    rect.CreateIntensityAttr(5.0)
    rect.CreateWidthAttr(2.0)
    rect.CreateHeightAttr(1.0)
    xf = UsdGeom.Xformable(rect)
    xf.AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, 3.0))
    xf.AddRotateXOp().Set(30.0)
    xf.AddScaleOp().Set(Gf.Vec3f(2.0, 0.5, 1.0))
    disk = UsdLux.DiskLight.Define(stage, "/Disk")
    disk.CreateIntensityAttr(7.0)
    disk.CreateRadiusAttr(0.25)
    return stage


def _records() -> dict[str, dict]:
    lights, dome = read_lights(_stage(), {})
    assert dome is None
    return {type(light).__name__ + str(i): light_record(light) for i, light in enumerate(lights)}


def test_sun_strength_is_irradiance_and_a_lambertian_plane_shows_rho_e_over_pi() -> None:
    sun = next(r for r in _records().values() if r["type"] == "SUN")
    irradiance = 3.0 * 2.0**1.0 * np.array([1.0, 0.96, 0.9])  # intensity · 2^exposure · colour
    cycles_irradiance = sun["strength"] * np.asarray(sun["color"])  # Cycles: Sun strength in W/m²
    np.testing.assert_allclose(cycles_irradiance, irradiance, rtol=1e-6)  # USD colours are float32
    rho = np.array([0.55, 0.55, 0.52])
    # the same plane under both descriptions: radiance ρ·E/π (Lambert), E our scale
    np.testing.assert_allclose(rho * cycles_irradiance / math.pi, rho * irradiance / math.pi, rtol=1e-6)
    assert sun["angle_rad"] == pytest.approx(math.radians(2.0))  # angular diameter, as USD's angle
    # a USD distant light shines along its −Z; the quaternion rotates −Z to the exported direction
    q = (0.9493609, -0.21134542, -0.23247996, 0.0)
    expected = Rotation.from_quat([q[1], q[2], q[3], q[0]]).apply([0.0, 0.0, -1.0])
    np.testing.assert_allclose(sun["direction"], expected, atol=1e-6)


def test_sphere_light_power_gives_our_radiance_and_irradiance() -> None:
    points = [r for r in _records().values() if r["type"] == "POINT"]
    lamp = next(r for r in points if r["radius_m"] == pytest.approx(0.1))
    bulb = next(r for r in points if r["radius_m"] == pytest.approx(0.05))
    for record, radiance in ((lamp, 60.0), (bulb, 10.0 / (4 * math.pi * 0.05**2))):  # normalize: ÷ its area
        power = record["power"] * np.asarray(record["color"])
        r = record["radius_m"]
        # Blender: radiant intensity P/(4π) spread over the sphere's disc π r²
        np.testing.assert_allclose(power / (4 * math.pi) / (math.pi * r * r), radiance, rtol=1e-6)
        # far on its axis, a sphere of radiance L gives E = π L sin²α = π L r²/d²; a point of P: P/(4π d²)
        d = 7.0
        np.testing.assert_allclose(power / (4 * math.pi * d * d), math.pi * radiance * r * r / (d * d), rtol=1e-6)
    assert lamp["location"] == pytest.approx([-0.9, 0.9, 2.0])


def test_area_light_power_gives_our_radiance_over_the_scaled_area() -> None:
    areas = {r["shape"]: r for r in _records().values() if r["type"] == "AREA"}
    rect, disk = areas["RECTANGLE"], areas["DISK"]
    assert (rect["size_m"], rect["size_y_m"]) == pytest.approx((4.0, 0.5))  # width, height × scale
    assert (disk["size_m"], disk["size_y_m"]) == pytest.approx((0.5, 0.5))  # diameter
    for record, area, radiance in ((rect, 4.0 * 0.5, 5.0), (disk, math.pi * 0.25**2, 7.0)):
        # a Lambertian face of radiance L has exitance π L, so its power is π L A
        np.testing.assert_allclose(record["power"] * np.asarray(record["color"]) / (math.pi * area), radiance)
    # the matrix keeps the rotation and the translation, not the scale (it went into the size)
    world = np.asarray(rect["matrix_world"])
    np.testing.assert_allclose(world[:3, 3], [0.0, 0.0, 3.0])
    expected = Rotation.from_euler("x", 30.0, degrees=True).as_matrix()
    np.testing.assert_allclose(world[:3, :3], expected, atol=1e-12)


def _ggx_schlick_lambert(n, v, light, diffuse, f0, roughness):  # type: ignore[no-untyped-def]
    """The exported description as Cycles evaluates it: Lambert(diffuse) + GGX(α = roughness²)
    with height-correlated Smith masking (Heitz 2014) and Schlick's Fresnel at the half vector."""
    h = (v + light) / np.linalg.norm(v + light)
    nl, nv, nh, vh = n @ light, n @ v, n @ h, v @ h
    a2 = roughness**4
    d = a2 / (math.pi * (nh * nh * (a2 - 1) + 1) ** 2)
    lam = lambda c: (-1 + math.sqrt(1 + a2 * (1 - c * c) / (c * c))) / 2  # noqa: E731
    g = 1 / (1 + lam(nl) + lam(nv))
    fresnel = np.asarray(f0) + (1 - np.asarray(f0)) * (1 - vh) ** 5
    return np.asarray(diffuse) / math.pi + d * g * fresnel / (4 * nl * nv)


@pytest.mark.parametrize(
    "params",
    [
        MaterialParams(diffuse=(0.6, 0.2, 0.1), roughness=0.4),
        MaterialParams(diffuse=(0.9, 0.7, 0.3), roughness=0.55, metallic=0.7),
        MaterialParams(diffuse=(0.3, 0.3, 0.8), roughness=0.8, specular=(0.1, 0.2, 0.05)),
    ],
)
def test_exported_material_evaluates_to_our_brdf(params: MaterialParams) -> None:
    record = material_record(params)
    rng = np.random.default_rng(3)
    n = np.array([0.0, 0.0, 1.0])
    for _ in range(8):
        v, light = rng.normal(size=3), rng.normal(size=3)
        v[2], light[2] = abs(v[2]) + 0.2, abs(light[2]) + 0.2
        v, light = v / np.linalg.norm(v), light / np.linalg.norm(light)
        f0 = (
            np.asarray(params.specular)
            if params.specular is not None
            else 0.04 * (1 - params.metallic) + np.asarray(params.diffuse) * params.metallic
        )
        ours = evaluate(n, v, light, np.asarray(params.diffuse), params.roughness,
                        0.0 if params.specular is not None else params.metallic, f0)[0]  # fmt: skip
        cycles = _ggx_schlick_lambert(n, v, light, record["diffuse"], record["f0"], record["roughness"])
        np.testing.assert_allclose(cycles, ours, rtol=1e-9)


def test_unsupported_materials_are_refused() -> None:
    with pytest.raises(UnsupportedError, match="dielectric"):
        material_record(MaterialParams(opacity=0.5))


def test_exported_camera_projects_world_points_to_our_pixels() -> None:
    model = PinholeCamera(
        width=320, height=200, focal_length_mm=18.0, horizontal_aperture_mm=20.955,
        vertical_aperture_mm=13.1, aperture_offset_mm=(1.2, -0.7), near_m=0.01, far_m=100.0,
    )  # fmt: skip
    cam_to_world = np.eye(4)
    cam_to_world[:3, :3] = Rotation.from_euler("xyz", [70.0, 5.0, 130.0], degrees=True).as_matrix().T
    cam_to_world[3, :3] = [1.45, -1.25, 1.45]
    record = camera_record(model, cam_to_world)
    rng = np.random.default_rng(0)
    cam_points = np.column_stack([rng.uniform(-1, 1, 50), rng.uniform(-0.7, 0.7, 50), -rng.uniform(0.5, 5, 50)])
    world_points = cam_points @ cam_to_world[:3, :3] + cam_to_world[3, :3]
    # Blender's camera: matrix_world (column vectors) maps camera to world; it looks down −Z.
    # Its view plane at unit depth is sensor_width / lens wide across the image width (horizontal
    # fit) and shifted by shift × the image width (BKE_camera_params_compute_viewplane).
    world = np.asarray(record["matrix_world"])
    local = (world_points - world[:3, 3]) @ world[:3, :3]
    w, h = record["resolution"]
    scale = record["lens_mm"] / record["sensor_width_mm"] * w
    u = w / 2 - record["shift_x"] * w + scale * local[:, 0] / -local[:, 2]
    v = h / 2 + record["shift_y"] * w - scale * local[:, 1] / -local[:, 2]
    np.testing.assert_allclose(np.column_stack([u, v]), model.project(cam_points), atol=1e-9)
    assert (record["clip_start_m"], record["clip_end_m"]) == (0.01, 100.0)
