"""runtime.usd.resolve: assets measured into bounds and support surfaces; digests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from conftest import EXAMPLES, run_cli
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build, parse
from scenesmith.sensors.errors import BadInputError


def _scene(tmp_path: Path, assets: dict) -> Path:
    import json

    path = tmp_path / "scene.yaml"
    # JSON is YAML: one line per asset keeps line numbers predictable.
    lines = ["version: 1", "assets:"] + [f"  {name}: {json.dumps(spec)}" for name, spec in assets.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mesh_formats_units_and_up_axis(tmp_path: Path) -> None:
    box = trimesh.creation.box(extents=[0.2, 0.4, 0.6])  # x, y, z extents in file units
    box.export(tmp_path / "box.obj")
    box.export(tmp_path / "box.stl")
    box.export(tmp_path / "box.ply")
    box.export(tmp_path / "box.glb")
    doc = parse(
        _scene(
            tmp_path,
            {
                "obj": {"mesh": {"path": "box.obj"}},
                "stl_mm": {"mesh": {"path": "box.stl", "units_m": 0.001}},
                "ply": {"mesh": {"path": "box.ply"}},
                "glb": {"mesh": {"path": "box.glb"}},
            },
        )
    )
    r = resolve(doc)
    assert np.allclose(r.assets["obj"].bounds.max, [0.1, 0.2, 0.3])
    assert np.allclose(r.assets["stl_mm"].bounds.max, [0.0001, 0.0002, 0.0003])
    assert np.allclose(r.assets["ply"].bounds.max, [0.1, 0.2, 0.3])
    # glTF is Y-up: its 0.4 (y) extent becomes z, its 0.6 (z) extent becomes y.
    assert np.allclose(r.assets["glb"].bounds.max, [0.1, 0.3, 0.2])
    top = r.assets["obj"].support
    assert top is not None and top.height == pytest.approx(0.3)
    assert np.allclose(
        sorted(map(tuple, np.round(top.polygon, 9))), [(-0.1, -0.2), (-0.1, 0.2), (0.1, -0.2), (0.1, 0.2)]
    )


def test_usd_reference_is_measured_in_stage_units(tmp_path: Path) -> None:
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.CreateNew(str(tmp_path / "part.usda"))
    UsdGeom.SetStageMetersPerUnit(stage, 0.01)  # centimetres
    root = UsdGeom.Xform.Define(stage, "/Part")
    stage.SetDefaultPrim(root.GetPrim())
    cube = UsdGeom.Cube.Define(stage, "/Part/body")
    cube.CreateSizeAttr(20.0)
    UsdGeom.Xformable(cube).AddTranslateOp().Set((0, 0, 10))
    stage.Save()
    r = resolve(parse(_scene(tmp_path, {"part": {"usd": {"path": "part.usda"}}})))
    g = r.assets["part"]
    assert g.unit_scale == pytest.approx(0.01)
    assert np.allclose(g.bounds.min, [-0.1, -0.1, 0.0]) and np.allclose(g.bounds.max, [0.1, 0.1, 0.2])
    assert g.support is not None and g.support.height == pytest.approx(0.2)


def test_unreadable_mesh_is_bad_input_with_position(tmp_path: Path) -> None:
    (tmp_path / "broken.obj").write_text("v 0 0 0\nthis is not an obj\n")
    path = _scene(tmp_path, {"junk": {"mesh": {"path": "broken.obj"}}})
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:3:")
    assert "assets.junk.mesh.path" in result.stderr


def test_scenario_digest_covers_asset_bytes_and_randomization_digest_ignores_render(tmp_path: Path) -> None:
    trimesh.creation.box().export(tmp_path / "a.obj")
    base = {"version": 1, "assets": {"a": {"mesh": {"path": "a.obj"}}}}
    first = resolve(build(base, base_dir=tmp_path))
    trimesh.creation.box(extents=[1, 2, 3]).export(tmp_path / "a.obj")
    second = resolve(build(base, base_dir=tmp_path))
    assert first.scenario_digest != second.scenario_digest
    assert first.randomization_digest == second.randomization_digest
    spp = resolve(build({**base, "render": {"samples_per_pixel": 8}}, base_dir=tmp_path))
    assert spp.randomization_digest == second.randomization_digest
    assert spp.scenario_digest != second.scenario_digest


def test_tilted_scatter_surface_is_refused_with_its_key() -> None:
    data = {
        "version": 1,
        "assets": {"t": {"cube": {}, "rotation_deg": [20, 0, 0]}, "b": {"sphere": {"radius_m": 0.1}}},
        "randomizers": {"s": {"kind": "scatter", "targets": ["b"], "surface": "t"}},
    }
    from scenesmith.scenarios.sampler import sample

    with pytest.raises(BadInputError) as info:
        sample(resolve(build(data)), 0, 0)
    assert "randomizers.s.surface" in str(info.value) and "tilted" in str(info.value)


def test_examples_resolve() -> None:
    for path in EXAMPLES.glob("*.yaml"):
        assert resolve(parse(path)).scenario_digest
