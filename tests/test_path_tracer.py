"""``render.engine: path`` against physics: energy conservation, bounce sums, parity with
``direct`` at one bounce, colour bleeding, mirrors, and bit-identical images for any thread count."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO
from test_renderer import DOWN, LIGHTS, PROBE, centre, plane_scene, render


def _camera(res: int, position: list[float], **pose: object) -> dict:
    return {"cam": {"resolution": [res, res], "position_m": position, "annotators": ["rgb"], **pose}}


def _lambert(rho: float | list[float], emissive: float = 0.0) -> dict:
    color = [rho] * 3 if isinstance(rho, float) else rho
    return {"diffuse_color": color, "specular_color": [0, 0, 0], "roughness": 1.0, "emissive_color": [emissive] * 3}


def test_white_furnace_a_diffuse_ball_in_a_uniform_dome_shows_rho_times_l() -> None:
    rho, radiance = 0.6, 2.0
    scene = {
        "materials": {"m": _lambert(rho)},
        "assets": {"ball": {"sphere": {"radius_m": 0.5}, "material": "m"}},
        "lights": {"dome": {"type": "dome", "intensity": radiance}},
        "cameras": _camera(32, [0.0, 0.0, 3.0], quat_wxyz=DOWN),
        "render": {"engine": "path", "max_bounces": 4, "samples_per_pixel": 4, "dome_light_samples": 4},
    }
    img = render(scene)
    ball = img[14:18, 14:18].reshape(-1, 3)  # the ball's face, away from its silhouette
    assert np.allclose(ball, rho * radiance, rtol=0.01), ball.mean(axis=0)
    assert np.allclose(img[0, 0], radiance)  # the dome seen past the ball


@pytest.mark.parametrize("bounces", [0, 1, 4])
def test_integrating_sphere_sums_the_bounces(bounces: int) -> None:
    """Inside a closed diffuse shell of albedo ρ whose wall emits Le: L = Le·(1−ρ^(N+1))/(1−ρ)."""
    rho, le = 0.5, 1.0
    scene = {
        "materials": {"m": _lambert(rho, emissive=le)},
        "assets": {"shell": {"sphere": {"radius_m": 2.0}, "material": "m"}},
        "cameras": _camera(16, [0.0, 0.0, 0.0], quat_wxyz=DOWN),
        "render": {"engine": "path", "max_bounces": bounces, "samples_per_pixel": 16},
    }
    want = le * (1 - rho ** (bounces + 1)) / (1 - rho)
    assert render(scene).mean() == pytest.approx(want, rel=0.015)


@pytest.mark.parametrize("kind", sorted(LIGHTS))
def test_with_one_bounce_path_agrees_with_direct(kind: str) -> None:
    """Units and light semantics are the same in both engines: direct light alone matches."""
    opts = {"samples_per_pixel": 16, "area_light_samples": 16, "dome_light_samples": 16}
    scene = plane_scene({"light": LIGHTS[kind]}, height=6.0, res=32, extra=PROBE, render_opts=opts)
    direct = render(scene)
    path = render({**scene, "render": {**scene["render"], "engine": "path", "max_bounces": 1}})
    assert path.mean() > 0.01
    # image-wide energy within 2%, and the probe's top and the far ground pixel by pixel
    assert path.mean() == pytest.approx(direct.mean(), rel=0.02)
    assert np.allclose(centre(path), centre(direct), rtol=0.03)
    assert np.allclose(path[2:6, 2:6].mean(axis=(0, 1)), direct[2:6, 2:6].mean(axis=(0, 1)), rtol=0.03)


def test_no_bounce_shows_only_emitters_and_the_environment() -> None:
    scene = plane_scene(
        {"sun": LIGHTS["distant"]},
        extra={"lamp": {"cube": {"size_m": 1.0}, "position_m": [0.0, 0.0, 0.5], "material": "glow"}},
        render_opts={"engine": "path", "max_bounces": 0},
    )
    scene["materials"]["glow"] = _lambert(0.5, emissive=3.0)
    img = render(scene)
    assert np.allclose(centre(img), 3.0)  # the emitter, as emitted
    assert np.all(img[0:4, 0:4] == 0.0)  # the sunlit ground reflects nothing without a bounce


def test_colour_bleeds_from_a_red_wall_onto_a_white_floor_only_in_path() -> None:
    scene = plane_scene(
        {"sun": {"type": "distant", "intensity": 3.0, "angle_deg": 0.0, "rotation_deg": [0.0, 40.0, 0.0]}},
        material=_lambert(0.8),
        height=4.0,
        res=32,
        extra={
            "wall": {
                "cube": {"size_m": 1.0},
                "position_m": [0.0, 0.0, 0.5],
                "scale": [0.2, 4.0, 3.0],
                "material": "red",
            }
        },  # fmt: skip
        render_opts={"samples_per_pixel": 16, "area_light_samples": 1},
    )
    scene["materials"]["red"] = _lambert([0.9, 0.05, 0.05])
    scene["cameras"]["cam"]["position_m"] = [1.2, 0.0, 4.0]
    floor = (slice(12, 20), slice(7, 11))  # floor 0.2–0.6 m from the wall's sunlit face
    direct = render(scene)[floor].reshape(-1, 3).mean(axis=0)
    path = render({**scene, "render": {**scene["render"], "engine": "path", "max_bounces": 3}})[floor]
    path = path.reshape(-1, 3).mean(axis=0)
    assert direct[0] / direct[1] == pytest.approx(1.0, abs=1e-6)  # white floor, white light
    assert path[0] / path[1] > 1.05  # red light from the wall
    assert path[1] >= direct[1] * 0.99  # bounce light adds, never removes


def test_a_mirror_ball_shows_the_dome_in_the_reflection_direction() -> None:
    """A smooth metal sphere seen from above, in a dome whose upper half is bright and lower
    half dark: its centre reflects straight up (the bright half), its rim grazes down."""
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.sampler import sample

    scene = {
        "version": 1,
        "textures": {"sky": {"checker": {"squares": 2, "color_a": [1, 1, 1], "color_b": [0.05, 0.05, 0.05]}}},
        "materials": {"chrome": {"diffuse_color": [1, 1, 1], "metallic": 1.0, "roughness": 0.0}},
        "assets": {"ball": {"sphere": {"radius_m": 0.5}, "material": "chrome"}},
        "lights": {"dome": {"type": "dome", "intensity": 1.0, "texture": "sky"}},
        "cameras": _camera(48, [0.0, 0.0, 4.0], quat_wxyz=DOWN),
        "render": {"engine": "path", "max_bounces": 2, "samples_per_pixel": 1, "dome_light_samples": 1,
                   "tessellation": {"segments": 96, "rings": 48}},
    }  # fmt: skip
    backend = EmbeddedBackend()
    backend.build(resolve(build(scene)))
    params = sample(backend.resolved, 0, 0)
    backend.apply(params)
    img = backend.render_linear(params, "cam")
    dome = backend_dome(backend)
    # pixel centres of the ball: ideal sphere hit, mirror direction, the dome's radiance there
    ch_rows = []
    focal = _focal_px(backend, 48)
    for y in range(48):
        for x in range(48):
            d = np.array([(x + 0.5 - 24) / focal, -(y + 0.5 - 24) / focal, -1.0])
            d /= np.linalg.norm(d)
            o = np.array([0.0, 0.0, 4.0])
            b = o @ d
            disc = b * b - (o @ o - 0.25)
            if disc <= 0:
                continue
            p = o + d * (-b - math.sqrt(disc))
            n = p / 0.5
            if n[2] < 0.3:  # keep away from the rim, where tessellation moves the normal most
                continue
            r = d - 2 * (d @ n) * n
            ch_rows.append((y, x, dome.radiance(r[None, :])[0]))
    want = np.array([w for _, _, w in ch_rows])
    got = np.array([img[y, x] for y, x, _ in ch_rows])
    assert len(ch_rows) > 100
    # metal with F0 = 1 reflects the dome exactly (one ray per pixel, through its centre as
    # here); only near a checker edge may the tessellated normal put a pixel on the other side
    close = np.all(np.abs(got - want) <= 0.02 * np.maximum(want, 0.05) + 1e-3, axis=1)
    assert close.mean() > 0.9, close.mean()


def backend_dome(backend: object) -> object:
    from scenesmith.runtime.embedded.lights import read_lights

    return read_lights(backend.stage, {})[1]  # type: ignore[attr-defined]


def _focal_px(backend: object, width: int) -> float:
    from pxr import UsdGeom

    cam = UsdGeom.Camera(backend.stage.GetPrimAtPath("/World/cam"))  # type: ignore[attr-defined]
    return cam.GetFocalLengthAttr().Get() / cam.GetHorizontalApertureAttr().Get() * width


_RENDER = """
import hashlib, json, sys
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample
resolved = resolve(build(json.loads(sys.argv[1])))
backend = EmbeddedBackend()
backend.build(resolved)
params = sample(resolved, 7, 0)
backend.apply(params)
print(hashlib.sha256(backend.render_linear(params, "cam").tobytes()).hexdigest())
"""


def test_path_traced_image_is_identical_with_one_thread_and_with_many() -> None:
    lights = {"light": LIGHTS["rect"], "dome": {"type": "dome", "intensity": 0.3}}
    opts = {"engine": "path", "max_bounces": 5, "samples_per_pixel": 2}
    scene = plane_scene(lights, height=6.0, res=24, extra=PROBE, render_opts=opts)
    digests = []
    for threads in ("1", "3"):
        done = subprocess.run(
            [sys.executable, "-c", _RENDER, json.dumps({"version": 1, **scene})],
            env={**os.environ, "NUMBA_NUM_THREADS": threads},
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        digests.append(done.stdout.strip())
    assert len(digests[0]) == 64 and digests[0] == digests[1]


def test_hdr_color_is_the_linear_image_the_rgb_is_tone_mapped_from(tmp_path) -> None:
    """``HdrColor`` (Replicator's name and layout: float16 (H, W, 4)) is the same render as
    ``rgb`` before tone mapping, on either engine, and the HDF5 writer stores it."""
    import h5py
    from conftest import run_cli
    from scenesmith.runtime.embedded.tonemap import tone_map
    from scenesmith.runtime.single_frame import capture_frame
    from scenesmith.scenarios.loader import build

    for engine in ("direct", "path"):
        scene = plane_scene({"sun": LIGHTS["distant"]}, extra=PROBE, render_opts={"engine": engine})
        scene["cameras"]["cam"]["annotators"] = ["rgb", "HdrColor"]
        payload = capture_frame(build({"version": 1, **scene}), seed=0, frame=0)["annotators"]
        hdr, rgb = payload["HdrColor"]["cam"]["data"], payload["rgb"]["cam"]["data"]
        assert hdr.dtype == np.float16 and hdr.shape == (64, 64, 4) and np.all(hdr[..., 3] == 1)
        assert hdr[..., :3].max() > 0.1
        # tone mapping the float16 copy gives the rgb annotator to within float16's rounding
        again = tone_map(hdr[..., :3].astype(np.float64), "aces", 0.0, alpha=True)  # the default curve
        assert np.abs(again.astype(int) - rgb.astype(int)).max() <= 1
    scenario = tmp_path / "s.yaml"
    scenario.write_text(json.dumps({"version": 1, **scene}))
    out = tmp_path / "out"
    assert run_cli("generate", str(scenario), "-o", str(out), "--frames", "1", "--no-progress").returncode == 0
    with h5py.File(out / "hdf5" / "shard_000000.h5") as f:
        stored = f["cameras/cam/HdrColor/data"]
        assert stored.dtype == np.float16 and stored.shape == (1, 64, 64, 4)


# --------------------------------------------------------------------------- denoising


def _noisy_room(denoise: bool, spp: int, quality: str = "high") -> dict:
    """A probe on a floor under a small rect light and a dim dome: soft shadows, bounce light (64 x 64)."""
    lights = {"light": LIGHTS["rect"], "dome": {"type": "dome", "intensity": 0.2}}
    opts = {"engine": "path", "max_bounces": 3, "samples_per_pixel": spp, "area_light_samples": spp,
            "dome_light_samples": spp, "denoise": denoise, "denoise_quality": quality}  # fmt: skip
    scene = plane_scene(lights, height=6.0, res=64, extra=PROBE, render_opts=opts)
    scene["cameras"]["cam"]["position_m"] = [0.0, -4.0, 4.0]
    scene["cameras"]["cam"]["look_at_m"] = [0.0, 0.0, 0.3]
    del scene["cameras"]["cam"]["quat_wxyz"]
    return scene


def test_denoising_brings_a_low_sample_image_closer_to_the_converged_one() -> None:
    # 64 x 64 at 2 spp: with multi-jittered samples OIDN halves the error here (0.028 -> 0.015);
    # at 48 x 48 or 4 spp it met its floor (~0.015) and kept only 0.7-0.75 of it
    reference = render(_noisy_room(False, 256), seed=99)
    noisy, clean = render(_noisy_room(False, 2)), render(_noisy_room(True, 2))

    def rmse(img: np.ndarray) -> float:
        return float(np.sqrt(np.mean((img - reference) ** 2)))

    assert rmse(clean) < 0.7 * rmse(noisy), (rmse(clean), rmse(noisy))
    assert render(_noisy_room(True, 2)).tobytes() == clean.tobytes()  # same input, same output
    # OIDN's fast filter is a different network: another image, still far closer than no denoising
    fast = render(_noisy_room(True, 2, "fast"))
    assert fast.tobytes() != clean.tobytes()
    assert rmse(fast) < 0.7 * rmse(noisy), (rmse(fast), rmse(noisy))


def test_labels_and_depth_never_pass_through_the_denoiser() -> None:
    from scenesmith.runtime.single_frame import capture_frame
    from scenesmith.scenarios.loader import build

    payloads = []
    for denoise in (False, True):
        scene = _noisy_room(denoise, 2)
        scene["cameras"]["cam"]["annotators"] = ["rgb", "distance_to_image_plane", "normals", "instance_segmentation",
                                                 "bounding_box_2d_tight"]  # fmt: skip
        payloads.append(capture_frame(build({"version": 1, **scene}), seed=0, frame=0)["annotators"])
    plain, denoised = payloads
    for name in ("distance_to_image_plane", "normals", "instance_segmentation", "bounding_box_2d_tight"):
        assert plain[name]["cam"]["data"].tobytes() == denoised[name]["cam"]["data"].tobytes(), name
    assert plain["rgb"]["cam"]["data"].tobytes() != denoised["rgb"]["cam"]["data"].tobytes()


def test_oidn_and_open3d_share_a_process_each_with_its_own_tbb() -> None:
    """Both wheels bundle libtbb: denoise after an Embree query, then query again."""
    code = (
        "import numpy as np, open3d as o3d, pyoidn\n"
        "scene = o3d.t.geometry.RaycastingScene()\n"
        "scene.add_triangles(o3d.core.Tensor(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)),"
        " o3d.core.Tensor(np.array([[0, 1, 2]], np.uint32)))\n"
        "rays = o3d.core.Tensor(np.array([[0.2, 0.2, 1, 0, 0, -1]], np.float32))\n"
        "assert abs(scene.cast_rays(rays)['t_hit'].numpy()[0] - 1.0) < 1e-6\n"
        "rng = np.random.default_rng(0)\n"
        "img = (0.5 + 0.1 * rng.standard_normal((32, 32, 3))).astype(np.float32)\n"
        "out = pyoidn.denoise(img)\n"
        "assert out.shape == img.shape and out.std() < img.std()\n"
        "assert abs(scene.cast_rays(rays)['t_hit'].numpy()[0] - 1.0) < 1e-6\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --------------------------------------------------------------------------- HDR environments


def _write_hdr(path, image: np.ndarray) -> None:
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    import cv2

    assert cv2.imwrite(str(path), np.ascontiguousarray(image[..., ::-1], dtype=np.float32))


def _sun_sky(h: int = 32, w: int = 64) -> np.ndarray:
    """A dim blue sky with one small, very bright sun cell (dynamic range 10^4)."""
    image = np.zeros((h, w, 3))
    image[: h // 2] = (0.05, 0.08, 0.15)
    image[h // 2 :] = (0.02, 0.02, 0.02)
    image[6, 40] = (800.0, 760.0, 700.0)
    return image


def _irradiance_up(image: np.ndarray) -> np.ndarray:
    """∫ L cosθ dω onto an upward plane, exactly per lat-long cell (row 0 is +Z)."""
    h, w = image.shape[:2]
    top = (0.5 - np.arange(h) / h) * math.pi
    bottom = (0.5 - (np.arange(h) + 1) / h) * math.pi
    # ∫∫ sin(e) cos(e) de dφ over the cell, above the horizon only
    cell = (2 * math.pi / w) * 0.5 * (np.sin(np.maximum(top, 0)) ** 2 - np.sin(np.maximum(bottom, 0)) ** 2)
    return np.einsum("ywc,y->c", image, cell)


@pytest.mark.parametrize("suffix", [".hdr", ".exr"])
def test_an_hdr_dome_lights_a_diffuse_plane_with_its_exact_irradiance(tmp_path, suffix: str) -> None:
    """Luminance importance sampling finds the small sun: the plane's radiance is ρ·E/π within
    2% with few samples, in both engines, from a Radiance or OpenEXR file."""
    from scenesmith.scenarios.loader import parse

    image = _sun_sky()
    _write_hdr(tmp_path / f"sky{suffix}", image)
    rho = 0.5
    for engine in ("direct", "path"):
        dome = {"dome": {"type": "dome", "intensity": 1.0, "texture": "sky"}}
        opts = {"engine": engine, "max_bounces": 1, "dome_light_samples": 64}
        scene = plane_scene(dome, material=_lambert(rho), res=16, render_opts=opts)
        scene["textures"] = {"sky": {"file": f"sky{suffix}"}}
        (tmp_path / "s.yaml").write_text(json.dumps({"version": 1, **scene}))
        from scenesmith.runtime.embedded.backend import EmbeddedBackend
        from scenesmith.runtime.usd.resolve import resolve
        from scenesmith.scenarios.sampler import sample

        backend = EmbeddedBackend()
        backend.build(resolve(parse(tmp_path / "s.yaml")))
        params = sample(backend.resolved, 0, 0)
        backend.apply(params)
        img = backend.render_linear(params, "cam")
        want = rho * _irradiance_up(image) / math.pi
        half_float = 2e-3 if suffix == ".hdr" else 1e-3  # RGBE keeps 8 mantissa bits
        assert np.allclose(img.reshape(-1, 3).mean(axis=0), want, rtol=0.02 + half_float), engine
        # every pixel, not just the mean: the sun (nearly all of E) is found by every point's
        # samples; cosine sampling would miss it in most pixels. 64 samples leave each pixel a
        # ~4% spread, so the worst of 256 pixels' channels is 10-16% off, depending on the seed
        assert np.all(np.abs(img.reshape(-1, 3) / want - 1) < 0.25), engine


def test_an_hdr_image_on_a_material_or_an_unreadable_one_is_bad_input(tmp_path) -> None:
    from conftest import run_cli

    _write_hdr(tmp_path / "sky.hdr", _sun_sky())
    (tmp_path / "broken.hdr").write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8 +X 8\n\x02\x02")
    scene = plane_scene({"dome": {"type": "dome", "intensity": 1.0, "texture": "sky"}})
    scene["textures"] = {"sky": {"file": "sky.hdr"}}
    scene["materials"]["m"] = {**_lambert(0.5), "diffuse_texture": "sky"}
    (tmp_path / "s.yaml").write_text(json.dumps({"version": 1, **scene}))
    result = run_cli("validate", str(tmp_path / "s.yaml"))
    assert result.returncode == 2 and "materials.m.diffuse_texture" in result.stderr and "HDR" in result.stderr
    scene["materials"]["m"] = _lambert(0.5)
    scene["textures"] = {"sky": {"file": "broken.hdr"}}
    (tmp_path / "s.yaml").write_text(json.dumps({"version": 1, **scene}))
    result = run_cli("validate", str(tmp_path / "s.yaml"))
    assert result.returncode == 2 and "textures.sky.file" in result.stderr, result.stderr


# --------------------------------------------------------------------------- procedural sky


def test_the_sky_model_matches_preethams_zenith_and_brightens_towards_the_sun() -> None:
    from scenesmith.runtime.usd.sky import sky_radiance
    from scenesmith.scenarios.model import SkyTexture

    for elevation, turbidity in ((15.0, 2.5), (45.0, 3.0), (70.0, 6.0)):
        spec = SkyTexture(sun_elevation_deg=elevation, turbidity=turbidity)
        theta_s = math.radians(90 - elevation)
        chi = (4 / 9 - turbidity / 120) * (math.pi - 2 * theta_s)
        zenith_kcd = (4.0453 * turbidity - 4.9710) * math.tan(chi) - 0.2155 * turbidity + 2.4192  # paper, eq. A.2
        zenith = sky_radiance(spec, np.array([[0.0, 0.0, 1.0]]))[0]
        assert zenith @ [0.2126, 0.7152, 0.0722] == pytest.approx(zenith_kcd, rel=0.01)
        assert zenith[2] > zenith[0]  # a clear sky's zenith is blue
        # along the sun's vertical, radiance grows towards the sun (circumsolar brightening)
        up = math.radians(elevation)
        toward = [np.array([[math.cos(e), 0.0, math.sin(e)]]) for e in (up + 0.6, up + 0.3, up + 0.1)]
        values = [float(sky_radiance(spec, d)[0] @ [0.2126, 0.7152, 0.0722]) for d in toward if d[0, 2] > 0]
        assert values == sorted(values)


def test_a_sky_dome_lights_the_scene_and_ships_as_hdr_for_isaac(tmp_path) -> None:
    from conftest import run_cli

    scene = plane_scene({"sky": {"type": "dome", "intensity": 1.0, "texture": "day"},
                         "sun": {"type": "distant", "intensity": 50.0, "angle_deg": 0.5, "rotation_deg": [0, 45, 0]}},
                        extra=PROBE, res=24, render_opts={"engine": "path", "max_bounces": 2})  # fmt: skip
    scene["textures"] = {"day": {"sky": {"sun_elevation_deg": 45.0, "width_px": 64}}}
    (tmp_path / "s.yaml").write_text(json.dumps({"version": 1, **scene}))
    out = tmp_path / "out"
    result = run_cli("generate", str(tmp_path / "s.yaml"), "-o", str(out), "--frames", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert (out / "stage_textures" / "day.hdr").is_file()  # RTX reads radiance above 1 from it
    assert "./stage_textures/day.hdr" in (out / "stage.usda").read_text()
    # the sky texture is refused on a material
    scene["materials"]["m"] = {**_lambert(0.5), "diffuse_texture": "day"}
    (tmp_path / "s.yaml").write_text(json.dumps({"version": 1, **scene}))
    bad = run_cli("validate", str(tmp_path / "s.yaml"))
    assert bad.returncode == 2 and "materials.m.diffuse_texture" in bad.stderr


# --------------------------------------------------------------------------- dielectrics


def _slab_render(tmp_path, top: float, bottom: float, bounces: int) -> float:
    """The centre of a glass slab (n = 1.5) seen straight down, in a dome of radiance ``top``
    above the horizon and ``bottom`` below."""
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import parse
    from scenesmith.scenarios.sampler import sample

    image = np.zeros((16, 32, 3))
    image[:8], image[8:] = top, bottom
    _write_hdr(tmp_path / "halves.hdr", image)
    scene = {
        "version": 1,
        "textures": {"halves": {"file": "halves.hdr"}},
        "materials": {"glass": {"diffuse_color": [1, 1, 1], "opacity": 0.0, "ior": 1.5}},
        "assets": {"slab": {"cube": {"size_m": 1.0}, "scale": [6.0, 6.0, 0.2], "material": "glass"}},
        "lights": {"dome": {"type": "dome", "intensity": 1.0, "texture": "halves"}},
        "cameras": _camera(8, [0.0, 0.0, 3.0], quat_wxyz=DOWN),
        "render": {"engine": "path", "max_bounces": bounces, "samples_per_pixel": 1024, "dome_light_samples": 1},
    }
    (tmp_path / "slab.yaml").write_text(json.dumps(scene))
    backend = EmbeddedBackend()
    backend.build(resolve(parse(tmp_path / "slab.yaml")))
    params = sample(backend.resolved, 0, 0)
    backend.apply(params)
    return float(backend.render_linear(params, "cam")[2:6, 2:6].mean())  # within 2° of normal incidence


_PATHS = 16 * 1024  # camera paths averaged by _slab_render


def _within(value: float, p: float) -> bool:
    """``value`` is a mean of Bernoulli(p) outcomes (each path ends in the bright half or not)
    within four standard deviations."""
    return abs(value - p) <= 4 * math.sqrt(p * (1 - p) / _PATHS)


def test_glass_reflects_and_transmits_as_fresnel_says(tmp_path) -> None:
    r = ((1.5 - 1) / (1.5 + 1)) ** 2  # 0.04 at normal incidence
    # one scattering event: only the first face's reflection comes back up
    first = _slab_render(tmp_path, 1.0, 0.0, bounces=1)
    assert _within(first, r), first
    # a non-absorbing slab with incoherent internal reflections: R_slab = 2R/(1+R), T = (1-R)/(1+R)
    reflected = _slab_render(tmp_path, 1.0, 0.0, bounces=32)
    assert _within(reflected, 2 * r / (1 + r)) and reflected > first * 1.5, reflected
    transmitted = _slab_render(tmp_path, 0.0, 1.0, bounces=32)
    assert _within(transmitted, (1 - r) / (1 + r)), transmitted
    assert transmitted == pytest.approx((1 - r) / (1 + r), rel=0.01)


def test_the_shipped_warehouse_environment_is_what_its_generator_writes(tmp_path) -> None:
    from scenesmith.scripts.make_example_hdr import SHIPPED, main

    assert main(["-o", str(tmp_path / "w.hdr")]) == 0
    assert (tmp_path / "w.hdr").read_bytes() == SHIPPED.read_bytes()


def test_a_sky_randomizer_moves_the_sun_of_the_sky_and_the_sun_light_together(tmp_path) -> None:
    from conftest import run_cli
    from scenesmith.runtime.embedded.backend import EmbeddedBackend
    from scenesmith.runtime.embedded.lights import read_lights
    from scenesmith.runtime.isaac.replicator_graph import replicator_mode_problems
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.scenarios.loader import build
    from scenesmith.scenarios.sampler import sample
    from scenesmith.sensors.conventions import quat_to_rotation_matrix

    scene = plane_scene({"sky": {"type": "dome", "intensity": 1.0, "texture": "day"},
                         "sun": {"type": "distant", "intensity": 50.0, "angle_deg": 0.5}},
                        res=16, render_opts={"engine": "path", "max_bounces": 1})  # fmt: skip
    scene["textures"] = {"day": {"sky": {"width_px": 32}}}
    scene["randomizers"] = {"daylight": {"kind": "sky", "targets": ["sky", "sun"],
                                         "sun_elevation_deg": {"uniform": {"lower": 5.0, "upper": 85.0}},
                                         "sun_azimuth_deg": {"uniform": {"lower": 0.0, "upper": 360.0}},
                                         "turbidity": {"uniform": {"lower": 2.0, "upper": 6.0}}}}  # fmt: skip
    resolved = resolve(build({"version": 1, **scene}))
    backend = EmbeddedBackend()
    backend.build(resolved)
    zeniths = []
    for frame in range(3):
        params = sample(resolved, 0, frame)
        drawn = params.prims["/World/Lights/sky"]["sky"]
        assert 5.0 <= drawn["sun_elevation_deg"] <= 85.0 and 2.0 <= drawn["turbidity"] <= 6.0
        # the sun light shines from the drawn direction (its +Z points at the sun)
        e, a = math.radians(drawn["sun_elevation_deg"]), math.radians(drawn["sun_azimuth_deg"])
        toward = quat_to_rotation_matrix(params.prims["/World/Lights/sun"]["orient"])[2]
        assert np.allclose(toward, [math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)], atol=1e-9)
        backend.apply(params)
        dome = read_lights(backend.stage, {})[1]
        zeniths.append(float(dome.radiance(np.array([[0.0, 0.0, 1.0]]))[0] @ [0.2126, 0.7152, 0.0722]))
    assert len(set(zeniths)) == 3  # the sky itself changes with the sun
    assert replicator_mode_problems(resolved) is not None  # no Replicator node for it: refused by name
    assert "cannot express sky randomizers" in str(replicator_mode_problems(resolved))
    scene["randomizers"]["daylight"]["targets"] = ["sky", "sun", "lamp"]
    scene["lights"]["lamp"] = {"type": "rect", "intensity": 10.0, "position_m": [0, 0, 3]}
    (tmp_path / "s.yaml").write_text(json.dumps({"version": 1, **scene}))
    bad = run_cli("validate", str(tmp_path / "s.yaml"))
    assert bad.returncode == 2 and "randomizers.daylight.targets" in bad.stderr and "'lamp'" in bad.stderr
