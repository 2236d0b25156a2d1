"""The active stereo depth sensor model (issue 17, item 4), against stereo geometry.

Depth noise must grow as z²·σ_d/(f·b); holes must appear exactly where the model puts them —
the stereo shadow beside a foreground object (its width f·b·(1/z_near − 1/z_far)), dark and
metallic surfaces, grazing incidence, out of range — and nowhere else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample

RES = [120, 90]
FOCAL_MM, APERTURE_MM = 18.0, 20.955
F_PX = FOCAL_MM / APERTURE_MM * RES[0]


def _capture(assets: dict[str, Any], depth_sensor: dict[str, Any], materials: dict[str, Any] | None = None,
             seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """A camera at the origin looking along −Z world... here: down −Z from z = 0 is awkward, so
    the camera sits at height 0 looking straight down at walls placed below it (world −Z)."""
    scenario = {
        "version": 1,
        "materials": {"white": {"diffuse_color": [0.8, 0.8, 0.8]}, **(materials or {})},
        "assets": assets,
        "lights": {"sun": {"type": "distant", "intensity": 2.0}},
        "cameras": {
            "cam": {
                "resolution": RES, "focal_length_mm": FOCAL_MM, "position_m": [0.0, 0.0, 0.0],
                "depth_sensor": depth_sensor,
                "annotators": ["distance_to_image_plane", "instance_segmentation"],
            }
        },
    }  # fmt: skip
    backend = EmbeddedBackend()
    resolved = resolve(build(scenario))
    backend.build(resolved)
    params = sample(resolved, seed, 0)
    backend.apply(params)
    return backend.capture(params)["annotators"]


def _wall(z: float, material: str = "white", size: float = 20.0, **extra: Any) -> dict[str, Any]:
    return {"plane": {"width_m": size, "length_m": size}, "position_m": [0.0, 0.0, -z], "material": material, **extra}


def test_depth_noise_grows_as_z_squared_over_f_b() -> None:
    """A wall facing the camera at z: the measured depth's spread is z²·σ_d/(f·b), within 10%."""
    sigma_d, baseline = 0.15, 0.08
    for z in (0.8, 1.6, 3.2):
        out = _capture({"wall": _wall(z)}, {"baseline_m": baseline, "disparity_noise_px": sigma_d, "edge_px": 0})
        depth = out["depth_sensor"]["cam"]["data"]
        assert depth.dtype == np.float32 and depth.shape == (RES[1], RES[0])
        assert np.isfinite(depth).all()  # a plain wall in range: no hole anywhere
        assert "normals" not in out and "DiffuseAlbedo" not in out  # inputs not asked for are dropped
        expected = z * z * sigma_d / (F_PX * baseline)
        assert depth.std() == pytest.approx(expected, rel=0.1), z
        # z = f·b/d is convex in d: noisy disparities bias the mean by (σ_z/z)² (second order)
        biased = z * (1 + (expected / z) ** 2)
        assert depth.mean() == pytest.approx(biased, abs=4 * expected / math.sqrt(depth.size) + z * 1e-3)
        exact = out["distance_to_image_plane"]["cam"]["data"]
        assert np.allclose(exact, z, atol=1e-5)  # the exact label beside it is untouched


def test_stereo_shadow_sits_left_of_a_foreground_plate_with_its_predicted_width() -> None:
    """The second view is b to the right: background just left of a nearer plate is hidden
    from it over f·b·(1/z_near − 1/z_far) pixels; nothing else is lost."""
    z_near, z_far, baseline = 1.0, 2.5, 0.1
    assets = {"wall": _wall(z_far), "plate": _wall(z_near, size=0.4, semantics={"class": "plate"})}
    out = _capture(assets, {"baseline_m": baseline, "disparity_noise_px": 0.0, "edge_px": 0})
    depth = out["depth_sensor"]["cam"]["data"]
    seg = out["instance_segmentation"]["cam"]["data"]
    plate = seg >= 2
    rows = np.flatnonzero(plate.any(axis=1))
    width = F_PX * baseline * (1 / z_near - 1 / z_far)
    for r in rows[2:-2]:  # away from the plate's top and bottom edges
        left = int(np.flatnonzero(plate[r])[0])
        holes = np.flatnonzero(np.isnan(depth[r]))
        assert len(holes) > 0 and holes.max() == left - 1  # the band ends at the plate
        assert abs(len(holes) - width) <= 1.0  # and is as wide as the parallax
        assert np.all(np.diff(holes) == 1)  # one band, nowhere else in the row
    others = np.ones(depth.shape, dtype=bool)
    others[rows] = False
    assert not np.isnan(depth[others]).any()
    # the measured depths are the exact ones where there is no noise
    assert np.allclose(depth[plate], z_near, rtol=1e-5) and np.nanmax(depth) == pytest.approx(z_far, rel=1e-5)


def test_dark_metal_grazing_and_range_holes_follow_the_model() -> None:
    materials = {
        "soot": {"diffuse_color": [0.02, 0.02, 0.02]},
        "chrome": {"diffuse_color": [0.9, 0.9, 0.9], "metallic": 1.0, "roughness": 0.1},
    }
    # patches lying on a wall at 2 m: soot (ρ·(r₀/r)² = 0.02 < 0.05), chrome (no diffuse albedo), white
    assets = {
        "wall": _wall(2.0),
        "soot_patch": {**_wall(1.99, "soot", size=0.3), "position_m": [-0.4, 0, -1.99], "semantics": {"class": "a"}},
        "chrome_patch": {**_wall(1.99, "chrome", size=0.3), "position_m": [0.4, 0, -1.99], "semantics": {"class": "b"}},
    }  # fmt: skip
    sensor = {"baseline_m": 0.05, "disparity_noise_px": 0.0, "edge_px": 0, "min_reflectance": 0.05,
              "min_reflectance_range_m": 2.0}  # fmt: skip
    out = _capture(assets, sensor, materials)
    depth = out["depth_sensor"]["cam"]["data"]
    seg = out["instance_segmentation"]["cam"]
    ids = {v: int(k) for k, v in seg["idToLabels"].items()}
    soot = seg["data"] == ids["/World/soot_patch"]
    chrome = seg["data"] == ids["/World/chrome_patch"]
    wall = seg["data"] == 1  # unlabelled
    assert soot.sum() > 20 and chrome.sum() > 20
    assert np.isnan(depth[soot]).all() and np.isnan(depth[chrome]).all()
    # the white wall keeps its depth except in the patches' thin stereo shadows (≤ 1 px at 1 cm)
    assert np.isnan(depth[wall]).mean() < 0.02
    # range: REP 118's −inf (too near) and +inf (too far)
    near = _capture({"wall": _wall(0.5)}, {**sensor, "min_range_m": 0.8})["depth_sensor"]["cam"]["data"]
    far = _capture({"wall": _wall(6.0)}, {**sensor, "max_range_m": 4.0, "min_reflectance": 0.0})["depth_sensor"]["cam"][
        "data"
    ]
    assert np.isneginf(near).all() and np.isposinf(far).all()


@pytest.mark.parametrize(("tilt_deg", "lost"), [(60.0, False), (82.0, True)])
def test_grazing_surfaces_lose_their_depth(tilt_deg: float, lost: bool) -> None:
    """A wall tilted by θ about the camera's x axis: beyond ``max_incidence_deg`` (75°) it is lost
    wherever the viewing ray meets it more obliquely than that."""
    wall = {**_wall(2.0), "rotation_deg": [tilt_deg, 0.0, 0.0]}
    out = _capture({"wall": wall}, {"disparity_noise_px": 0.0, "edge_px": 0, "min_reflectance": 0.0})
    depth = out["depth_sensor"]["cam"]["data"]
    centre = depth[RES[1] // 2 - 3 : RES[1] // 2 + 3, RES[0] // 2 - 3 : RES[0] // 2 + 3]
    assert np.isnan(centre).all() == lost
    if not lost:
        assert np.isfinite(centre).all()


def test_same_seed_same_depth_other_seed_other_noise() -> None:
    sensor = {"disparity_noise_px": 0.2, "edge_px": 0}
    a = _capture({"wall": _wall(2.0)}, sensor)["depth_sensor"]["cam"]["data"]
    b = _capture({"wall": _wall(2.0)}, sensor)["depth_sensor"]["cam"]["data"]
    c = _capture({"wall": _wall(2.0)}, sensor, seed=1)["depth_sensor"]["cam"]["data"]
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()


def test_edge_px_pixels_are_lost_on_each_side_of_a_depth_step() -> None:
    """On the plate's right edge (no shadow there): edge_px pixels of the plate and of the wall."""
    assets = {"wall": _wall(2.5), "plate": _wall(1.0, size=0.4, semantics={"class": "plate"})}
    out = _capture(assets, {"baseline_m": 0.1, "disparity_noise_px": 0.0, "edge_px": 2})
    depth = out["depth_sensor"]["cam"]["data"]
    plate = out["instance_segmentation"]["cam"]["data"] >= 2
    r = int(np.flatnonzero(plate.any(axis=1)).mean())
    right = int(np.flatnonzero(plate[r])[-1])
    assert np.isnan(depth[r, right - 1 : right + 3]).all()  # 2 plate pixels, 2 wall pixels
    assert np.isfinite(depth[r, right - 2]) and np.isfinite(depth[r, right + 3])


def test_a_lensed_depth_camera_keeps_the_exact_depth_where_noise_is_off() -> None:
    """Through a Brown–Conrady lens the depth sensor measures each pixel's own ray: with no
    noise it returns the exact ``distance_to_image_plane`` wherever it returns anything."""
    backend = EmbeddedBackend()
    scenario = {
        "version": 1,
        "materials": {"white": {"diffuse_color": [0.8, 0.8, 0.8]}},
        "assets": {"wall": {**_wall(2.0, size=6.0), "rotation_deg": [20.0, 0.0, 0.0]}},
        "lights": {"sun": {"type": "distant", "intensity": 2.0}},
        "cameras": {
            "cam": {
                "resolution": RES, "focal_length_mm": FOCAL_MM, "lens": {"model": "pinholeOpenCV", "k1": -0.2},
                "depth_sensor": {"disparity_noise_px": 0.0, "edge_px": 0},
                "annotators": ["distance_to_image_plane"],
            }
        },
    }  # fmt: skip
    resolved = resolve(build(scenario))
    backend.build(resolved)
    params = sample(resolved, 0, 0)
    backend.apply(params)
    a = backend.capture(params)["annotators"]
    depth, exact = a["depth_sensor"]["cam"]["data"], a["distance_to_image_plane"]["cam"]["data"]
    seen = np.isfinite(depth)
    assert seen.mean() > 0.9
    assert np.allclose(depth[seen], exact[seen], rtol=1e-5)
