"""The camera sensor and ISP model (issue 17, item 3), checked the way sensors are characterised.

The photon transfer method of EMVA 1288 (flat fields at increasing exposure, temporal variance
from the difference of two frames, dark-subtracted) must give back the configured system gain
and read noise; PRNU must show as gain variance across pixels; the ISP's tone curve is the sRGB
standard's; and the model never touches a label.
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

RES = [96, 72]
GAIN = 0.5  # DN per electron
READ_E = 4.0
FULL_WELL = 8000.0
EMISSION = 0.5  # the flat field's linear radiance
LABELS = (
    "distance_to_camera", "distance_to_image_plane", "normals", "instance_segmentation", "semantic_segmentation",
    "bounding_box_2d_tight", "bounding_box_3d", "camera_params",
)  # fmt: skip


def _flat_field(sensor: dict[str, Any], annotators: list[str]) -> dict[str, Any]:
    """A camera filled by an emissive plane of uniform radiance (nothing else in view, no lights)."""
    return {
        "version": 1,
        "materials": {"glow": {"diffuse_color": [0.0, 0.0, 0.0], "emissive_color": [EMISSION] * 3}},
        "assets": {"panel": {"plane": {"width_m": 40.0, "length_m": 40.0}, "material": "glow"}},
        "cameras": {
            "cam": {"resolution": RES, "position_m": [0.0, 0.0, 1.0], "sensor": sensor, "annotators": annotators}
        },
    }


def _frames(scenario: dict[str, Any], frames: range, seed: int = 0) -> list[dict[str, Any]]:
    backend = EmbeddedBackend()
    resolved = resolve(build(scenario))
    backend.build(resolved)
    out = []
    for i in frames:
        params = sample(resolved, seed, i)
        backend.apply(params)
        out.append(backend.capture(params)["annotators"])
    return out


def _ptc_sensor(levels: list[float], **extra: Any) -> dict[str, Any]:
    return {
        "full_well_e": FULL_WELL, "gain_dn_per_e": GAIN, "read_noise_e": READ_E, "dark_current_e_per_s": 0.0,
        "prnu": 0.0, "dsnu_e": 0.0, "black_level_dn": 100.0, "bit_depth": 14, "vignetting": 0.0,
        "exposure_ev": {"sequence": {"items": [v for v in levels for _ in range(2)]}}, **extra,
    }  # fmt: skip


def test_photon_transfer_recovers_the_configured_gain_and_read_noise() -> None:
    """EMVA 1288: σ²_y − σ²_y.dark = K·(μ_y − μ_y.dark) over flat fields; the dark frames give
    σ²_y.dark = K²σ²_read + 1/12 (quantisation). Temporal variance from pairs: var(A − B)/2."""
    evs = [-30.0, -6.0, -5.0, -4.0, -3.0, -2.5, -2.0, -1.6]  # dark, then up to ~66% of the well
    frames = _frames(_flat_field(_ptc_sensor(evs), ["raw"]), range(2 * len(evs)))
    mean, var = [], []
    for k in range(len(evs)):
        a = frames[2 * k]["raw"]["cam"]["data"].astype(np.float64)
        b = frames[2 * k + 1]["raw"]["cam"]["data"].astype(np.float64)
        assert not np.array_equal(a, b)  # a new noise realisation per frame
        mean.append((a + b).mean() / 2)
        var.append((a - b).var() / 2)
    mean, var = np.array(mean), np.array(var)
    signal, excess = mean[1:] - mean[0], var[1:] - var[0]
    assert signal.max() < 0.7 * GAIN * FULL_WELL  # the linear range, below saturation
    slope, _ = np.polyfit(signal, excess, 1)
    assert slope == pytest.approx(GAIN, rel=0.05)
    read_e = math.sqrt(max(var[0] - 1 / 12, 0.0)) / slope
    assert read_e == pytest.approx(READ_E, rel=0.05)
    assert mean[0] == pytest.approx(100.0, abs=0.5)  # the black level, in DN
    # and the signal itself: μ = K · L · 2^ev · full well (+ black level)
    expected = GAIN * EMISSION * 2.0 ** np.array(evs[1:]) * FULL_WELL
    assert np.allclose(signal, expected, rtol=0.01)


def test_prnu_shows_as_gain_variance_across_pixels() -> None:
    """Averaging frames leaves the fixed pattern: its spatial spread, less the remaining temporal
    part, is PRNU × signal; without PRNU it is nothing. The pattern is the same in every frame."""

    def spatial(prnu: float) -> tuple[float, float]:
        sensor = _ptc_sensor([-1.0], prnu=prnu)
        frames = [f["raw"]["cam"]["data"].astype(np.float64) for f in _frames(_flat_field(sensor, ["raw"]), range(8))]
        stack = np.stack(frames)
        mean_image = stack.mean(axis=0) - 100.0
        temporal = stack.var(axis=0, ddof=1).mean() / len(frames)
        return math.sqrt(max(mean_image.var() - temporal, 0.0)) / mean_image.mean(), mean_image.mean()

    spread, signal = spatial(0.03)
    assert spread == pytest.approx(0.03, rel=0.1)
    assert spatial(0.0)[0] < 0.003
    assert signal == pytest.approx(GAIN * EMISSION * 0.5 * FULL_WELL, rel=0.02)


def test_isp_applies_the_srgb_curve_white_balance_and_vignetting() -> None:
    """With negligible noise, a flat field develops to the sRGB code of its normalised signal
    (IEC 61966-2-1), times each channel's white-balance gain; vignetting leaves 1 − v in the corners."""
    quiet = {
        "full_well_e": 1e9, "gain_dn_per_e": 6e-5, "read_noise_e": 0.0, "dark_current_e_per_s": 0.0, "prnu": 0.0,
        "dsnu_e": 0.0, "black_level_dn": 0.0, "bit_depth": 16, "exposure_ev": -1.0, "vignetting": 0.0,
        "white_balance": [1.2, 1.0, 0.7],
    }  # fmt: skip
    (frame,) = _frames(_flat_field(quiet, ["rgb", "raw"]), range(1))
    rgb = frame["rgb"]["cam"]["data"]
    assert rgb.shape == (RES[1], RES[0], 4) and rgb.dtype == np.uint8 and (rgb[..., 3] == 255).all()
    x = EMISSION * 0.5 * np.array([1.2, 1.0, 0.7])
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    assert np.abs(rgb[..., :3].reshape(-1, 3).astype(float) - srgb * 255).max() <= 1.0
    vignetted = {**quiet, "white_balance": [1.0, 1.0, 1.0], "vignetting": 0.3, "exposure_ev": 0.0}
    (frame,) = _frames(_flat_field(vignetted, ["raw"]), range(1))
    raw = frame["raw"]["cam"]["data"].astype(np.float64)[..., 1]
    h, w = raw.shape
    centre = raw[h // 2 - 1 : h // 2 + 1, w // 2 - 1 : w // 2 + 1].mean()
    assert raw[0, 0] / centre == pytest.approx(0.7, abs=0.02)
    assert raw[-1, -1] / centre == pytest.approx(0.7, abs=0.02)


def _scene(sensor: dict[str, Any] | None) -> dict[str, Any]:
    camera: dict[str, Any] = {
        "resolution": RES, "position_m": [0.0, -1.6, 1.2], "look_at_m": [0.0, 0.0, 0.15],
        "annotators": ["rgb", *LABELS],
    }  # fmt: skip
    if sensor is not None:
        camera["sensor"] = sensor
    return {
        "version": 1,
        "assets": {
            "ground": {"plane": {"width_m": 10.0, "length_m": 10.0}},
            "box": {"cube": {"size_m": 0.3}, "position_m": [0.0, 0.0, 0.15], "semantics": {"class": "box"}},
            "ball": {"sphere": {"radius_m": 0.1}, "position_m": [0.35, 0.1, 0.1], "semantics": {"class": "ball"}},
        },
        "lights": {"sun": {"type": "distant", "intensity": 3.0, "rotation_deg": [30.0, 10.0, 0.0]}},
        "cameras": {"cam": camera},
        "render": {"tone_map": {"kind": "clamp", "exposure_ev": -1.0}},  # the ISP's curve, sRGB
    }


def test_noise_changes_rgb_only_and_is_repeatable() -> None:
    """Same seed: identical noisy images; other noise parameters, another seed's noise, or no
    sensor at all: different RGB, every label byte-identical."""
    base = _frames(_scene({"jpeg_quality": 85, "vignetting": 0.0}), range(1))[0]
    again = _frames(_scene({"jpeg_quality": 85, "vignetting": 0.0}), range(1))[0]
    other = _frames(_scene({"jpeg_quality": 85, "vignetting": 0.0, "read_noise_e": 20.0}), range(1))[0]
    ideal = _frames(_scene(None), range(1))[0]
    assert np.array_equal(base["rgb"]["cam"]["data"], again["rgb"]["cam"]["data"])
    for variant in (other, ideal):
        assert not np.array_equal(base["rgb"]["cam"]["data"], variant["rgb"]["cam"]["data"])
        for name in LABELS:
            a, b = base[name]["cam"], variant[name]["cam"]
            for key in a:
                if isinstance(a[key], np.ndarray):
                    assert a[key].tobytes() == b[key].tobytes(), (name, key)
                else:
                    assert a[key] == b[key], (name, key)
    assert "HdrColor" not in base  # the model's input is dropped when not asked for
    # the noisy image is the ideal one plus noise, not another picture
    diff = base["rgb"]["cam"]["data"][..., :3].astype(float) - ideal["rgb"]["cam"]["data"][..., :3]
    assert 0.5 < np.abs(diff).mean() < 6.0 and abs(diff.mean()) < 2.0


def test_lower_jpeg_quality_departs_further_from_the_uncompressed_image() -> None:
    plain = _frames(_scene({}), range(1))[0]["rgb"]["cam"]["data"][..., :3].astype(float)
    errors = []
    for quality in (95, 60, 20):
        rgb = _frames(_scene({"jpeg_quality": quality}), range(1))[0]["rgb"]["cam"]["data"][..., :3]
        errors.append(np.sqrt(((rgb - plain) ** 2).mean()))
    assert 0.0 < errors[0] < errors[1] < errors[2]


def test_sensor_parameters_are_drawn_per_frame_into_lineage() -> None:
    """Every parameter a distribution: drawn per frame, recorded, and what the image shows."""
    sensor = {
        "read_noise_e": {"uniform": {"lower": 1.0, "upper": 30.0}},
        "jpeg_quality": {"choice": {"items": [50, 90]}},
    }
    resolved = resolve(build(_scene(sensor)))
    drawn = [sample(resolved, 3, i).sensors["cam"]["sensor"] for i in range(12)]
    reads = {d["read_noise_e"] for d in drawn}
    assert len(reads) == 12 and all(1.0 <= r <= 30.0 for r in reads)
    assert {d["jpeg_quality"] for d in drawn} == {50, 90}
    assert sample(resolved, 3, 5).sensors == sample(resolved, 3, 5).sensors  # a pure function of the frame
    assert "sensors" not in sample(resolve(build(_scene(None))), 3, 5).to_dict()  # no model: lineage as before


def test_sensor_spec_and_draw_name_the_same_parameters_in_the_same_order() -> None:
    from scenesmith.scenarios.model.sensor_models import CameraSensorSpec, DepthSensorSpec
    from scenesmith.sensors.models.camera_sensor import SensorDraw
    from scenesmith.sensors.models.depth_sensor import DepthSensorDraw

    assert tuple(CameraSensorSpec.model_fields) == SensorDraw.names()
    assert tuple(DepthSensorSpec.model_fields) == DepthSensorDraw.names()


@pytest.mark.slow
def test_sensor_models_through_generate_into_every_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``generate`` with a camera sensor (JPEG quality drawn per frame), ``raw`` and a depth
    sensor: HDF5 stores raw DN and REP 118 depth with units and names the models, lineage holds
    each frame's draws, COCO images are the processed RGB, and ``verify`` accepts the folder."""
    import json

    import h5py
    from conftest import EXAMPLES, REPO, run_cli
    from PIL import Image
    from scenesmith.writers.hdf5_reader import read_frames

    text = (REPO / "tests/scenarios/small_tabletop.yaml").read_text()
    extra = (
        "    annotators: [rgb, raw, distance_to_image_plane, instance_segmentation, semantic_segmentation,"
        " bounding_box_2d_tight, bounding_box_3d, camera_params]\n"
        "    sensor: {jpeg_quality: {uniform: {lower: 60, upper: 95}}, read_noise_e: {uniform: {lower: 2, upper: 6}}}\n"
        "    depth_sensor: {baseline_m: 0.06}\n"
    )
    scenario = tmp_path / "sensors.yaml"
    scenario.write_text(text.replace("    focal_length_mm: 18.0\n", "    focal_length_mm: 18.0\n" + extra))
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "--asset-root", str(EXAMPLES), "-o", str(out), "--frames", "3",
                     "--no-progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    shard = sorted((out / "hdf5").glob("*.h5"))[0]
    with h5py.File(shard, "r") as f:
        group = f["cameras/front"]
        assert json.loads(group.attrs["sensor_models"])["models"] == ["depth_sensor", "sensor"]
        assert group["raw/data"].dtype == np.uint16 and group["raw/data"].shape == (3, 72, 96, 3)
        assert "REP 118" in group["depth_sensor/data"].attrs["units"]
        assert "HdrColor" not in group and "normals" not in group  # model inputs nobody asked for
    frames = list(read_frames(shard))
    qualities = [fr["frame_params"]["sensors"]["front"]["sensor"]["jpeg_quality"] for fr in frames]
    assert all(60 <= q <= 95 for q in qualities) and len(set(qualities)) > 1
    depth = frames[0]["annotators"]["depth_sensor"]["front"]["data"]
    assert np.isnan(depth).any() and np.isfinite(depth).mean() > 0.5
    rgb = frames[0]["annotators"]["rgb"]["front"]["data"]
    first = sorted((out / "coco/images/train/front").glob("*.png"))[0]
    coco_image = np.asarray(Image.open(first).convert("RGB"))
    assert np.array_equal(coco_image, rgb[..., :3])
    assert run_cli("verify", str(out)).returncode == 0
