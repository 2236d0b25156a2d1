"""The renderer's compiled kernels against plain NumPy statements of the same formulas, and
thread-count independence of the image (each pixel's result depends on that pixel only)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scenesmith.runtime.allocator import retain_freed_memory
from scenesmith.runtime.embedded.brdf import evaluate
from scenesmith.runtime.embedded.camera_rays import camera_rays
from scenesmith.runtime.embedded.tonemap import tone_map
from scenesmith.sensors.camera import PinholeCamera

REPO = Path(__file__).resolve().parent.parent


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def _ggx_reference(n, v, light, albedo, roughness, metallic, f0):  # type: ignore[no-untyped-def]
    dot = lambda a, b: np.sum(a * b, axis=1)  # noqa: E731
    h = _unit(light + v)
    alpha = np.maximum(roughness**2, 2e-3)
    a2 = alpha**2
    d = a2 / (np.pi * (np.clip(dot(n, h), 0, 1) ** 2 * (a2 - 1) + 1) ** 2)
    nl, nv = np.maximum(dot(n, light), 1e-6), np.maximum(dot(n, v), 1e-6)
    vis = 0.5 / (nl * np.sqrt(nv**2 * (1 - a2) + a2) + nv * np.sqrt(nl**2 * (1 - a2) + a2))
    fresnel = f0 + (1 - f0) * ((1 - np.clip(dot(v, h), 0, 1)) ** 5)[:, None]
    out = albedo * ((1 - metallic) / np.pi)[:, None] + fresnel * (d * vis)[:, None]
    out[dot(n, light) <= 0] = 0.0
    return out


def test_brdf_kernel_matches_the_ggx_formula() -> None:
    rng = np.random.default_rng(3)
    m = 5000
    n = _unit(rng.normal(size=(m, 3)))
    v = _unit(n + 0.6 * rng.normal(size=(m, 3)))
    light = _unit(n + 0.8 * rng.normal(size=(m, 3)))  # some below the horizon
    args = (n, v, light, rng.random((m, 3)), rng.random(m), rng.random(m), rng.random((m, 3)))
    got, want = evaluate(*args), _ggx_reference(*args)
    assert (want == 0).any() and (want > 0).any()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("offset_mm", [(0.0, 0.0), (1.5, -0.7)])
@pytest.mark.parametrize("jitter", [False, True])
def test_camera_ray_kernel_matches_pixel_directions(offset_mm: tuple[float, float], jitter: bool) -> None:
    model = PinholeCamera(37, 23, 24.0, 20.955, 15.29, offset_mm, 0.05, 100.0)
    rng = np.random.default_rng(0)
    offsets = rng.random((23, 37, 2)) - 0.5 if jitter else None
    angle = 0.7
    cam_to_world = np.eye(4)
    cam_to_world[:3, :3] = 2.0 * np.array(  # a scaled camera prim: the scale must be ignored
        [[np.cos(angle), np.sin(angle), 0], [-np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    cam_to_world[3, :3] = (1.0, -2.0, 3.0)
    rays = camera_rays(model, cam_to_world, offsets)
    dirs_cam = _unit(model.pixel_directions(offsets).reshape(-1, 3))
    want = dirs_cam @ (cam_to_world[:3, :3] / 2.0)
    np.testing.assert_allclose(rays.directions, want, atol=1e-12)
    np.testing.assert_allclose(rays.cos, -dirs_cam[:, 2], atol=1e-12)
    np.testing.assert_allclose(rays.origins, cam_to_world[3, :3] + want * (0.05 / -dirs_cam[:, 2])[:, None], atol=1e-12)


@pytest.mark.parametrize(
    "curve,formula",
    [
        ("clamp", lambda x: x),
        ("reinhard", lambda x: x / (1 + x)),
        ("aces", lambda x: (x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)),
    ],
)
def test_tone_map_kernel_matches_the_curves_and_srgb(curve: str, formula) -> None:  # type: ignore[no-untyped-def]
    x = np.linspace(-0.5, 8.0, 3 * 4001).reshape(-1, 3)
    c = np.clip(formula(np.maximum(x, 0) * 2.0**-1.5), 0, 1)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    want = np.round(srgb * 255).astype(np.uint8)
    got = tone_map(x, curve, -1.5)
    assert got.shape == x.shape and got.dtype == np.uint8
    # pow may differ from NumPy's in the last ulp: allow a one-level step at exact ties only
    assert np.abs(got.astype(int) - want).max() <= 1
    assert (got == want).mean() > 0.999


def test_tone_map_rounds_exactly_at_every_srgb_step() -> None:
    """Each 8-bit code k starts where display-linear light reaches the inverse sRGB transfer of
    (k − ½)/255; values at, just below and just above every step, at every lookup cell edge,
    and NaN/±inf land on the right code (the kernel looks codes up by cell, not by pow)."""
    s = (np.arange(1, 256) - 0.5) / 255.0
    steps = np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)
    x = np.concatenate(
        [
            np.linspace(-0.1, 1.2, 200_003),
            steps,
            np.nextafter(steps, -1.0),
            np.nextafter(steps, 2.0),
            np.arange(4097) / 4096,
            [np.nan, np.inf, -np.inf, 0.0, 1.0, np.nextafter(1.0, 0.0)],
        ]
    )
    want = np.searchsorted(steps, np.nan_to_num(x, nan=-1.0), side="right")
    got = tone_map(np.repeat(x[:, None], 3, axis=1), "clamp", 0.0)
    assert np.array_equal(got, np.repeat(want[:, None], 3, axis=1).astype(np.uint8))


def test_glibc_keeps_freed_frame_buffers() -> None:
    assert retain_freed_memory() is True  # Linux CI runs glibc; elsewhere this returns False


SCENE = {
    "version": 1,
    "materials": {"m": {"diffuse_color": [0.6, 0.5, 0.4], "roughness": 0.3, "metallic": 0.5}},
    "assets": {
        "ground": {"plane": {"width_m": 10.0, "length_m": 10.0}, "material": "m"},
        "ball": {"sphere": {"radius_m": 0.4}, "position_m": [0.2, 0.1, 0.4], "material": "m"},
    },
    "lights": {
        "sun": {"type": "distant", "intensity": 2.0, "angle_deg": 3.0, "rotation_deg": [30.0, 10.0, 0.0]},
        "bulb": {"type": "sphere", "intensity": 30.0, "radius_m": 0.1, "position_m": [1.0, 0.5, 2.0]},
        "panel": {"type": "rect", "width_m": 0.5, "height_m": 0.3, "intensity": 50.0, "position_m": [-1, 0, 2.5]},
        "disk": {"type": "disk", "radius_m": 0.2, "intensity": 40.0, "position_m": [0, -1, 2.5]},
        "sky": {"type": "dome", "intensity": 0.3},
    },
    "cameras": {
        "cam": {"resolution": [64, 48], "position_m": [0.0, -3.0, 2.0], "look_at_m": [0, 0, 0.3], "annotators": ["rgb"]}
    },
    "render": {"samples_per_pixel": 4, "area_light_samples": 4, "dome_light_samples": 4},
}

_RENDER = textwrap.dedent(
    """
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
)


def test_image_is_identical_with_one_thread_and_with_many() -> None:
    import json

    digests = []
    for threads in ("1", "3"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", _RENDER, json.dumps(SCENE)],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        digests.append(done.stdout.strip())
    assert len(digests[0]) == 64 and digests[0] == digests[1]
    assert digests[0] != hashlib.sha256(b"").hexdigest()
