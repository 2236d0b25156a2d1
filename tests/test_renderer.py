"""The embedded ray tracer: one test per feature, absolute where physics gives a number."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pxr import UsdLux
from scenesmith.runtime.embedded.backend import EmbeddedBackend
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build
from scenesmith.scenarios.sampler import sample

LAMBERT = {"diffuse_color": [0.5, 0.5, 0.5], "specular_color": [0.0, 0.0, 0.0], "roughness": 1.0}
WHITE = {"diffuse_color": [1.0, 1.0, 1.0], "specular_color": [0.0, 0.0, 0.0], "roughness": 1.0}
DOWN = [1.0, 0.0, 0.0, 0.0]  # identity: a USD camera looks down its −Z, i.e. straight down


def render(scenario: dict[str, Any], seed: int = 0, camera: str = "cam") -> np.ndarray:
    backend = EmbeddedBackend()
    resolved = resolve(build({"version": 1, **scenario}))
    backend.build(resolved)
    params = sample(resolved, seed, 0)
    backend.apply(params)
    return backend.render_linear(params, camera)


def plane_scene(
    lights: dict,
    material: dict | None = None,
    height: float = 3.0,
    res: int = 64,
    extra: dict | None = None,
    render_opts: dict | None = None,
) -> dict:
    return {
        "materials": {"m": material or LAMBERT},
        "assets": {"ground": {"plane": {"width_m": 20.0, "length_m": 20.0}, "material": "m"}, **(extra or {})},
        "lights": lights,
        "cameras": {
            "cam": {
                "resolution": [res, res],
                "position_m": [0.0, 0.0, height],
                "quat_wxyz": DOWN,
                "annotators": ["rgb"],
            }
        },
        "render": {"samples_per_pixel": 1, "area_light_samples": 1, "dome_light_samples": 1, **(render_opts or {})},
    }


def centre(img: np.ndarray, k: int = 2) -> np.ndarray:
    h, w = img.shape[:2]
    return img[h // 2 - k : h // 2 + k, w // 2 - k : w // 2 + k].reshape(-1, 3).mean(axis=0)


# --------------------------------------------------------------------------- radiometry


@pytest.mark.parametrize("theta_deg", [0.0, 40.0, 70.0])
def test_lambertian_plane_under_distant_light(theta_deg: float) -> None:
    rho, irradiance = 0.5, 2.0
    img = render(
        plane_scene(
            {
                "sun": {
                    "type": "distant",
                    "intensity": irradiance,
                    "angle_deg": 0.0,
                    "rotation_deg": [theta_deg, 0.0, 0.0],
                }
            }
        )
    )
    want = rho * irradiance * math.cos(math.radians(theta_deg)) / math.pi
    assert np.allclose(centre(img), want, rtol=0.01)


def test_sphere_light_irradiance_falls_with_inverse_square() -> None:
    radiance, r = 100.0, 0.05
    values = []
    for d in (1.0, 2.0):
        img = render(
            plane_scene(
                {"lamp": {"type": "sphere", "radius_m": r, "intensity": radiance, "position_m": [0.0, 0.0, d]}},
                height=0.5,
                render_opts={"area_light_samples": 64},
            )
        )
        values.append(centre(img, 1)[0])
        # absolute: E = L·π·(r/d)² for a surface facing the sphere, radiance = ρE/π
        assert values[-1] == pytest.approx(0.5 * radiance * math.pi * (r / d) ** 2 / math.pi, rel=0.01)
    assert values[0] / values[1] == pytest.approx(4.0, rel=0.01)


def test_disk_light_on_axis_matches_closed_form() -> None:
    radiance, r, d = 10.0, 0.5, 1.0
    img = render(
        plane_scene(
            {"disk": {"type": "disk", "radius_m": r, "intensity": radiance, "position_m": [0.0, 0.0, d]}},
            height=0.3,
            res=33,
            render_opts={"area_light_samples": 256},
        )
    )
    irradiance = radiance * math.pi * r * r / (r * r + d * d)
    # 16 pixels within 2 cm of the axis (irradiance there is within 1e-3 of the axis value):
    # 16 × 256 independent samples keep the Monte Carlo error near 0.5%.
    got = centre(img)[0]
    assert got == pytest.approx(0.5 * irradiance / math.pi, rel=0.01)


def test_colour_temperature_matches_usd_blackbody() -> None:
    rgb = {}
    for kelvin in (3000.0, 6500.0, 10000.0):
        img = render(
            plane_scene(
                {"sun": {"type": "distant", "intensity": 1.0, "angle_deg": 0.0, "color_temperature_k": kelvin}},
                material=WHITE,
            )
        )
        rgb[kelvin] = centre(img) * math.pi  # white Lambertian: radiance·π = irradiance
    for kelvin, got in rgb.items():
        assert np.allclose(got, UsdLux.BlackbodyTemperatureAsRgb(kelvin), rtol=0.01)
    assert np.allclose(rgb[3000.0], (1.771, 0.844, 0.272), rtol=0.01)
    ratio = {k: v[0] / v[2] for k, v in rgb.items()}
    assert ratio[3000.0] > 2.0 > ratio[6500.0] and ratio[10000.0] < 1.0 < ratio[6500.0]


def test_doubling_intensity_or_adding_one_stop_doubles_radiance() -> None:
    def scene(intensity: float, exposure: float) -> dict:
        return plane_scene(
            {
                "lamp": {
                    "type": "rect",
                    "width_m": 1.0,
                    "height_m": 0.5,
                    "intensity": intensity,
                    "exposure": exposure,
                    "position_m": [0.3, 0.0, 1.5],
                }
            },
            extra={"ball": {"sphere": {"radius_m": 0.3}, "position_m": [0.0, 0.0, 0.3]}},
            render_opts={"area_light_samples": 4},
        )

    base = render(scene(5.0, 0.0))
    assert np.allclose(render(scene(10.0, 0.0)), 2 * base, rtol=1e-9, atol=0)
    assert np.allclose(render(scene(5.0, 1.0)), 2 * base, rtol=1e-9, atol=0)
    assert base.max() > 0


# --------------------------------------------------------------------------- every light type

PROBE = {"probe": {"sphere": {"radius_m": 0.5}, "position_m": [0.0, 0.0, 0.8], "material": "m"}}
LIGHTS = {
    "distant": {"type": "distant", "intensity": 3.0, "angle_deg": 0.5, "rotation_deg": [0.0, 0.0, 0.0]},
    "sphere": {"type": "sphere", "radius_m": 0.2, "intensity": 300.0, "position_m": [0.0, 0.0, 3.5]},
    "disk": {"type": "disk", "radius_m": 0.3, "intensity": 200.0, "position_m": [0.0, 0.0, 3.5]},
    "rect": {"type": "rect", "width_m": 0.6, "height_m": 0.4, "intensity": 200.0, "position_m": [0.0, 0.0, 3.5]},
    "dome": {"type": "dome", "intensity": 1.0},
}


@pytest.mark.parametrize("kind", sorted(LIGHTS))
def test_each_light_type_lights_a_probe_and_casts_a_shadow(kind: str) -> None:
    scene = plane_scene(
        {"light": LIGHTS[kind]},
        height=6.0,
        res=96,
        extra=PROBE,
        # enough samples that the penumbra pixels' Monte Carlo noise cannot decide the assertion
        render_opts={"area_light_samples": 64, "dome_light_samples": 64},
    )
    scene["cameras"]["cam"]["position_m"] = [0.0, -4.0, 4.0]
    scene["cameras"]["cam"]["look_at_m"] = [0.0, 0.0, 0.3]
    del scene["cameras"]["cam"]["quat_wxyz"]
    img = render(scene).sum(axis=2)
    top_view = render(
        {
            **scene,
            "cameras": {
                "cam": {"resolution": [96, 96], "position_m": [0.0, 0.0, 6.0], "quat_wxyz": DOWN, "annotators": ["rgb"]}
            },
        }
    ).sum(axis=2)
    assert img.max() > 0.05, "the light lights the scene"
    # From above, the probe's lit top and the ground far from it are bright; the ground right
    # beside the probe's base, in its shadow (or its contact shadow under a dome), is darker.
    ring = top_view[48, 48 + 10 : 48 + 12]  # just outside the probe's silhouette (its edge is at 9 px)
    far_ground = top_view[48, 85:95]
    assert ring.mean() < 0.8 * far_ground.mean(), (ring.mean(), far_ground.mean())
    assert top_view[48, 48] > ring.mean()


# --------------------------------------------------------------------------- materials


def _highlight_scene(material: dict, res: int = 128) -> dict:
    return {
        "materials": {"m": material},
        "assets": {"ball": {"sphere": {"radius_m": 1.0}, "material": "m"}},
        "lights": {"lamp": {"type": "sphere", "radius_m": 0.05, "intensity": 20000.0, "position_m": [0.0, -3.0, 3.0]}},
        "cameras": {
            "cam": {
                "resolution": [res, res],
                "position_m": [0.0, -4.0, 0.0],
                "look_at_m": [0.0, 0.0, 0.0],
                "annotators": ["rgb"],
            }
        },
        "render": {"samples_per_pixel": 1, "area_light_samples": 16},
    }


def test_higher_roughness_widens_the_highlight() -> None:
    widths = []
    for roughness in (0.15, 0.4):
        img = render(_highlight_scene({"diffuse_color": [0.0, 0.0, 0.0], "roughness": roughness}))
        lum = img.sum(axis=2)
        widths.append(int((lum > 0.25 * lum.max()).sum()))
    assert widths[1] > 2 * widths[0], widths


def test_metallic_tints_the_specular_with_the_base_colour() -> None:
    red = [0.8, 0.05, 0.05]
    metal = render(_highlight_scene({"diffuse_color": red, "metallic": 1.0, "roughness": 0.25}))
    plastic = render(_highlight_scene({"diffuse_color": red, "metallic": 0.0, "roughness": 0.25}))
    m_peak = metal.reshape(-1, 3)[metal.sum(axis=2).argmax()]
    p_peak = plastic.reshape(-1, 3)[plastic.sum(axis=2).argmax()]
    assert m_peak[1] / m_peak[0] < 0.2  # metal highlight is red
    assert p_peak[1] / p_peak[0] > 0.5  # dielectric highlight stays white-ish on top of red


def test_emissive_object_is_visible_with_every_light_off() -> None:
    img = render(
        {
            "materials": {"glow": {"diffuse_color": [0.0, 0.0, 0.0], "emissive_color": [2.0, 1.0, 0.5]}},
            "assets": {"sign": {"cube": {"size_m": 1.0}, "material": "glow"}},
            "cameras": {
                "cam": {"resolution": [32, 32], "position_m": [0.0, 0.0, 3.0], "quat_wxyz": DOWN, "annotators": ["rgb"]}
            },
        }
    )
    assert np.allclose(img[16, 16], [2.0, 1.0, 0.5])
    assert np.allclose(img[0, 0], 0.0)


def test_a_checker_texture_appears_in_the_image() -> None:
    scene = plane_scene(
        {"sun": {"type": "distant", "intensity": 3.0, "angle_deg": 0.0}},
        material={"diffuse_texture": "chk", "specular_color": [0, 0, 0], "roughness": 1.0},
        height=2.0,
        res=128,
    )
    scene["textures"] = {"chk": {"checker": {"squares": 4, "color_a": [1, 1, 1], "color_b": [0, 0, 0]}}}
    scene["assets"]["ground"]["plane"] = {"width_m": 2.0, "length_m": 2.0}
    img = render(scene).sum(axis=2)
    # The plane (2 m) spans the centre of the view: 4×4 squares, each 0.5 m. Sample square centres.
    px_per_m = 128 / (2 * 2.0 * 20.955 / 2 / 24.0)
    values = []
    for i in range(-2, 2):
        row = []
        for j in range(-2, 2):
            x, y = (j + 0.5) * 0.5, (i + 0.5) * 0.5
            row.append(img[int(64 - y * px_per_m), int(64 + x * px_per_m)])
        values.append(row)
    values = np.array(values)
    bright = values > values.mean()
    assert bright.sum() == 8
    assert np.all(bright[:, :-1] != bright[:, 1:]) and np.all(bright[:-1, :] != bright[1:, :])


# --------------------------------------------------------------------------- determinism


def test_same_seed_bit_identical_and_seed_moves_only_antialiasing_jitter() -> None:
    def scene(spp: int) -> dict:
        s = plane_scene(
            {"sun": {"type": "distant", "intensity": 3.0, "angle_deg": 0.0, "rotation_deg": [30.0, 0.0, 0.0]}},
            extra={
                "box": {
                    "cube": {"size_m": 0.7},
                    "position_m": [0.1, 0.2, 0.35],
                    "rotation_deg": [0, 0, 25],
                    "material": "m",
                }
            },
            res=48,
            render_opts={"samples_per_pixel": spp},
        )
        return s

    a, b = render(scene(1), seed=1), render(scene(1), seed=1)
    assert a.tobytes() == b.tobytes()
    assert render(scene(1), seed=2).tobytes() == a.tobytes()  # no AA: nothing random in this scene
    c, d = render(scene(4), seed=1), render(scene(4), seed=1)
    assert c.tobytes() == d.tobytes()
    e = render(scene(4), seed=2)
    assert np.abs(e - c).max() > 1e-3  # anti-aliased: another seed moves the sub-pixel samples


@pytest.mark.parametrize("key", ["metallic", "roughness"])
def test_a_scalar_texture_map_sets_the_input_texel_by_texel(key: str) -> None:
    """A roughness or metallic map (raw red channel) makes every pixel shade exactly as the
    uniform material with that texel's value does; both values of a checker appear."""
    low, high = (0.0, 1.0) if key == "metallic" else (0.15, 0.9)
    base = {"diffuse_color": [0.6, 0.3, 0.2], "roughness": 0.4, "metallic": 0.0}
    # a hard sun only: no random samples, whose streams depend on the scenario's digest
    lights = {"sun": {"type": "distant", "intensity": 3.0, "angle_deg": 0.0, "rotation_deg": [25.0, 10.0, 0.0]}}
    mapped = plane_scene(lights, material={**base, f"{key}_texture": "map"}, res=32)
    mapped["textures"] = {"map": {"checker": {"squares": 4, "color_a": [low] * 3, "color_b": [high] * 3},
                                  "tiling": [0.5, 0.5]}}  # fmt: skip
    img = render(mapped)
    a = render(plane_scene(lights, material={**base, key: low}, res=32))
    b = render(plane_scene(lights, material={**base, key: high}, res=32))
    # the uniform input is a float32 USD attribute, the texel a float64: equal to 1e-6
    is_a = np.all(np.isclose(img, a, rtol=1e-6, atol=1e-9), axis=2)
    is_b = np.all(np.isclose(img, b, rtol=1e-6, atol=1e-9), axis=2)
    assert np.all(is_a | is_b)
    assert 0.15 < is_a.mean() < 0.85 and 0.15 < is_b.mean() < 0.85
    assert not np.allclose(a, b)


@pytest.mark.parametrize(
    ("tangent_normal", "rotation_deg", "toward_light"),
    [
        # the ground plane's u runs along +X and v along +Y, so its tangent frame is (X, Y, Z);
        # a distant light turned by θ about X shines toward −Z turned by θ: from (0, −sin θ, cos θ)
        ((0.0, 1.0), [20.0, 0.0, 0.0], lambda t: (0.0, -math.sin(t), math.cos(t))),
        ((1.0, 0.0), [0.0, 20.0, 0.0], lambda t: (math.sin(t), 0.0, math.cos(t))),
        ((-1.0, 0.0), [0.0, 20.0, 0.0], lambda t: (math.sin(t), 0.0, math.cos(t))),
    ],
)
def test_a_normal_map_shades_a_flat_plane_as_if_it_were_tilted(
    tangent_normal: tuple[float, float], rotation_deg: list[float], toward_light: Any
) -> None:
    """Lambert's law on the bent normal: a constant normal map tilting the normal by φ toward
    +u or +v makes the plane's radiance ρ·E·cos(angle between the bent normal and the light)/π,
    each direction of tilt on its own side; the texture decodes as rgb·2 − 1."""
    phi = math.radians(30.0)
    n_ts = np.array([tangent_normal[0] * math.sin(phi), tangent_normal[1] * math.sin(phi), math.cos(phi)])
    texel = ((n_ts + 1.0) / 2.0).tolist()
    rho, irradiance = 0.5, 2.0
    lights = {"sun": {"type": "distant", "intensity": irradiance, "angle_deg": 0.0, "rotation_deg": rotation_deg}}
    scene = plane_scene(lights, material={**LAMBERT, "normal_texture": "bumps"}, res=16)
    scene["textures"] = {"bumps": {"checker": {"squares": 2, "color_a": texel, "color_b": texel}}}
    img = render(scene)
    theta = math.radians(rotation_deg[0] + rotation_deg[1])
    cosine = float(np.dot(n_ts, toward_light(theta)))  # T, B, N are world X, Y, Z here
    # to float32 precision: the mesh's points and interpolated normals are float32
    assert np.allclose(img, rho * irradiance * cosine / math.pi, rtol=1e-5)
    flat = render(plane_scene(lights, res=16))
    assert not np.allclose(img, flat, rtol=0.01)  # the map did something (cos 10° or 50° against cos 20°)
