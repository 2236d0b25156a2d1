"""USD stage authoring: valid stages, Isaac-style labels, and world matrices equal to ones the
test builds itself from the frame's parameters (no stage code involved in the expectation)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli
from pxr import Usd, UsdGeom, UsdSemantics, UsdValidation
from scenesmith.runtime.usd.apply import apply
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.runtime.usd.stage import author_stage
from scenesmith.scenarios.loader import parse
from scenesmith.scenarios.sampler import sample


def _quat_matrix(q: list[float]) -> np.ndarray:
    """Row-vector rotation matrix of (w, x, y, z), written out independently here."""
    w, x, y, z = np.asarray(q) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)],
            [2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)],
            [2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _euler_xyz_matrix(deg: list[float]) -> np.ndarray:
    """Row-vector matrix of rotating about X, then Y, then Z (fixed axes)."""
    a, b, c = (math.radians(v) for v in deg)
    rx = np.array([[1, 0, 0], [0, math.cos(a), math.sin(a)], [0, -math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, -math.sin(b)], [0, 1, 0], [math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), math.sin(c), 0], [-math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def _matrix(translate: list[float], rot: np.ndarray, scale: list[float]) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = np.diag(scale) @ rot
    m[3, :3] = translate
    return m


def _validate(stage: Usd.Stage) -> list[str]:
    registry = UsdValidation.ValidationRegistry()
    context = UsdValidation.ValidationContext(registry.GetOrLoadAllValidators())
    return [f"{e.GetName()}: {e.GetMessage()}" for e in context.Validate(stage)]


@pytest.fixture(scope="module")
def tabletop() -> tuple:
    resolved = resolve(parse(EXAMPLES / "tabletop.yaml"))
    return resolved, author_stage(resolved)


def test_stage_validates_and_has_metadata(tabletop: tuple, tmp_path: Path) -> None:
    resolved, stage = tabletop
    apply(stage, sample(resolved, 0, 4))
    assert _validate(stage) == []
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert stage.GetDefaultPrim().GetPath() == "/World"
    out = tmp_path / "f.usda"
    stage.GetRootLayer().Export(str(out))
    reopened = Usd.Stage.Open(str(out))
    assert _validate(reopened) == []


def test_every_labelled_asset_carries_labels_api(tabletop: tuple) -> None:
    resolved, stage = tabletop
    expected = {}
    for name, asset in resolved.scenario.assets.items():
        if asset.semantics:
            paths = [f"/World/{name}"] if asset.count == 1 else [f"/World/{name}_{k:03d}" for k in range(asset.count)]
            for path in paths:
                expected[path] = list(asset.semantics["class"])
    assert len(expected) == 10
    for path, labels in expected.items():
        prim = stage.GetPrimAtPath(path)
        assert prim.HasAPI(UsdSemantics.LabelsAPI, "class"), path
        assert list(UsdSemantics.LabelsAPI(prim, "class").GetLabelsAttr().Get()) == labels
    assert not stage.GetPrimAtPath("/World/floor").HasAPI(UsdSemantics.LabelsAPI)


@pytest.mark.parametrize("frame", [0, 7])
def test_world_matrices_equal_independent_matrices_from_frame_params(tabletop: tuple, frame: int) -> None:
    resolved, stage = tabletop
    params = sample(resolved, 2, frame)
    apply(stage, params)
    cache = UsdGeom.XformCache()
    checked = 0
    for path, state in params.prims.items():
        if "translate" not in state:
            continue
        prim = stage.GetPrimAtPath(path)
        got = np.asarray(cache.GetLocalToWorldTransform(prim))
        if "scale" in state:
            scale = state["scale"]
        elif path.startswith("/World/Distractors"):
            scale = [1.0, 1.0, 1.0]
        elif (
            path.startswith("/World/")
            and path.count("/") == 2
            and path.rsplit("/", 1)[1] not in (resolved.scenario.cameras)
        ):
            name = path.rsplit("/", 1)[1]
            asset = resolved.scenario.assets.get(name) or resolved.scenario.assets[name.rsplit("_", 1)[0]]
            scale = list(asset.scale)
        else:
            scale = [1.0, 1.0, 1.0]
        want = _matrix(state["translate"], _quat_matrix(state["orient"]), scale)
        assert np.allclose(got, want, atol=1e-9), path
        checked += 1
    assert checked >= 12


def test_euler_authored_assets_match_xyz_rotation_built_here() -> None:
    resolved = resolve(parse(EXAMPLES / "pose_writer_parity.yaml"))
    stage = author_stage(resolved)
    cache = UsdGeom.XformCache()
    for name, asset in resolved.scenario.assets.items():
        got = np.asarray(cache.GetLocalToWorldTransform(stage.GetPrimAtPath(f"/World/{name}")))
        want = _matrix(list(asset.position_m), _euler_xyz_matrix(list(asset.rotation_deg)), list(asset.scale))
        assert np.allclose(got, want, atol=1e-9), name
    # Replicator's look-at for a camera straight above the origin: +X of the camera is world +Y.
    cam = np.asarray(cache.GetLocalToWorldTransform(stage.GetPrimAtPath("/World/PinholeCamera1")))
    assert np.allclose(cam[:3, :3], [[0, 1, 0], [-1, 0, 0], [0, 0, 1]], atol=1e-6)


def test_counts_hide_extra_copies_and_materials_rebind(tabletop: tuple) -> None:
    resolved, stage = tabletop
    params = sample(resolved, 0, 3)
    apply(stage, params)
    for path, state in params.prims.items():
        prim = stage.GetPrimAtPath(path)
        if "visible" in state:
            assert (prim.GetAttribute("visibility").Get() == "inherited") == state["visible"], path
        if "material" in state:
            targets = prim.GetRelationship("material:binding").GetTargets()
            assert [str(t) for t in targets] == [f"/World/Looks/{state['material']}"]
    shown = [p for p, s in params.prims.items() if p.startswith("/World/Distractors") and s.get("visible")]
    assert 2 <= len(shown) <= 5


def test_stage_command_writes_a_frame(tmp_path: Path) -> None:
    out = tmp_path / "frame.usda"
    result = run_cli("stage", str(EXAMPLES / "tabletop.yaml"), "--seed", "1", "--frame", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    stage = Usd.Stage.Open(str(out))
    assert _validate(stage) == []
    assert (tmp_path / "frame_textures" / "floor_tiles.png").is_file()
    bad = run_cli("stage", str(EXAMPLES / "tabletop.yaml"), "-o", str(tmp_path / "frame.txt"))
    assert bad.returncode == 2 and "--output" in bad.stderr


def test_roughness_and_metallic_maps_are_authored_as_raw_texture_networks() -> None:
    """What Isaac Sim reads: the shader's roughness/metallic inputs take a UsdUVTexture's ``r``
    output, with ``sourceColorSpace: raw`` (data, not colour); the diffuse network is unchanged."""
    from pxr import UsdShade
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.runtime.usd.stage import author_stage
    from scenesmith.scenarios.loader import build

    scenario = {
        "version": 1,
        "textures": {"map": {"checker": {"squares": 2, "color_a": [0.2] * 3, "color_b": [0.8] * 3}}},
        "materials": {"m": {"roughness_texture": "map", "metallic_texture": "map"}},
        "assets": {"box": {"cube": {}, "material": "m"}},
    }
    stage = author_stage(resolve(build(scenario)))
    shader = UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/m/Shader"))
    for name, role in (("roughness", "Roughness"), ("metallic", "Metallic")):
        source, output, _ = shader.GetInput(name).GetConnectedSource()
        tex = UsdShade.Shader(source.GetPrim())
        assert str(tex.GetPath()) == f"/World/Looks/m/{role}Texture" and output == "r"
        assert tex.GetIdAttr().Get() == "UsdUVTexture" and tex.GetInput("sourceColorSpace").Get() == "raw"


def test_a_normal_map_is_authored_as_a_raw_scaled_and_biased_texture_on_the_normal_input() -> None:
    """UsdPreviewSurface's ``normal`` wants tangent-space values in [-1, 1]: the network reads
    the texture raw and maps it with scale (2, 2, 2, 1) and bias (−1, −1, −1, 0), as its spec says."""
    from pxr import Gf, UsdShade
    from scenesmith.runtime.usd.resolve import resolve
    from scenesmith.runtime.usd.stage import author_stage
    from scenesmith.scenarios.loader import build

    scenario = {
        "version": 1,
        "textures": {"bumps": {"noise": {}}},
        "materials": {"m": {"normal_texture": "bumps"}},
        "assets": {"box": {"cube": {}, "material": "m"}},
    }
    stage = author_stage(resolve(build(scenario)))
    shader = UsdShade.Shader(stage.GetPrimAtPath("/World/Looks/m/Shader"))
    source, output, _ = shader.GetInput("normal").GetConnectedSource()
    tex = UsdShade.Shader(source.GetPrim())
    assert str(tex.GetPath()) == "/World/Looks/m/NormalTexture" and output == "rgb"
    assert tex.GetInput("sourceColorSpace").Get() == "raw"
    assert tex.GetInput("scale").Get() == Gf.Vec4f(2, 2, 2, 1) and tex.GetInput("bias").Get() == Gf.Vec4f(-1, -1, -1, 0)
    assert not shader.GetInput("diffuseColor").HasConnectedSource()
