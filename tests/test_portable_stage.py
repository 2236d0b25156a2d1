"""stage.usda names every file it uses by a path inside the output folder, so the folder can move.

The scenario uses two different image files both named ``wood.png``, a procedural texture, a mesh
file, a dome light's image, a LiDAR profile file, a base USD with a sublayer, and a USD
reference whose file references another USD file outside its own folder (``../common``), a
texture beside it and one by absolute path.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, run_cli
from scenesmith.runtime.run.run_folder import is_owned
from scenesmith.runtime.usd.stage_assets import ASSETS_DIR, localize_layer
from scenesmith.runtime.usd.textures import write_png

SCENE = """version: 1
stage: {base_usd: base/room.usda}
textures:
  wood_a: {file: tex_a/wood.png}
  wood_b: {file: tex_b/wood.png}
  tiles: {checker: {squares: 4}}
materials:
  a: {diffuse_texture: wood_a}
  b: {diffuse_texture: wood_b}
  c: {diffuse_texture: tiles}
assets:
  floor: {plane: {width_m: 4.0, length_m: 4.0}, material: a}
  table: {cube: {size_m: 0.5}, position_m: [0.0, 0.0, 0.25], material: b, semantics: {class: table}}
  part: {usd: {path: parts/part.usda}, position_m: [0.0, 0.0, 0.6], semantics: {class: part}}
  mug: {mesh: {path: mug.obj}, position_m: [0.2, 0.0, 0.5], material: c, semantics: {class: mug}}
lights:
  sky: {type: dome, texture: wood_b}
  sun: {type: distant}
cameras:
  cam: {resolution: [32, 24], position_m: [2.0, -2.0, 1.5], look_at_m: [0.0, 0.0, 0.3]}
lidars:
  spin: {profile: lidar/rotary.json, position_m: [1.0, 1.0, 1.0]}
render: {samples_per_pixel: 1}
output: {frames: 1}
"""


def _texture(stage: object, shader_path: str, file: str) -> None:
    from pxr import Sdf, UsdShade

    shader = UsdShade.Shader.Define(stage, shader_path)
    shader.CreateIdAttr("UsdUVTexture")
    shader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(file))


def _inputs(src: Path) -> Path:
    from pxr import Sdf, Usd, UsdGeom

    shutil.copytree(EXAMPLES / "assets", src)  # wood.png, mug.obj
    (src / "tex_a").mkdir()
    (src / "wood.png").rename(src / "tex_a" / "wood.png")
    write_png(np.full((8, 8, 3), 0.25), src / "tex_b" / "wood.png")  # same name, other image
    write_png(np.full((4, 4, 3), 0.5), src / "parts" / "tex" / "grain.png")
    (src / "lidar").mkdir()
    shutil.copyfile(REPO / "config" / "lidar_profiles" / "Debug_Rotary.json", src / "lidar" / "rotary.json")
    leg = Usd.Stage.CreateNew(str(src / "common" / "leg.usda"))
    leg.SetDefaultPrim(UsdGeom.Cube.Define(leg, "/Leg").GetPrim())
    leg.Save()
    part = Usd.Stage.CreateNew(str(src / "parts" / "part.usda"))
    part.SetDefaultPrim(UsdGeom.Xform.Define(part, "/Part").GetPrim())
    UsdGeom.Cube.Define(part, "/Part/body").CreateSizeAttr(0.1)
    part.DefinePrim("/Part/leg").GetReferences().AddReference("../common/leg.usda")
    _texture(part, "/Part/Looks/Grain", "./tex/grain.png")
    _texture(part, "/Part/Looks/Wood", str(src / "tex_b" / "wood.png"))  # absolute
    part.Save()
    geometry = Usd.Stage.CreateNew(str(src / "base" / "room_geo.usda"))
    UsdGeom.Xform.Define(geometry, "/Room")
    UsdGeom.Cube.Define(geometry, "/Room/wall").AddTranslateOp().Set((0.0, 3.0, 0.5))
    geometry.Save()
    room = Sdf.Layer.CreateNew(str(src / "base" / "room.usda"))
    room.subLayerPaths.append("./room_geo.usda")
    room.defaultPrim = "Room"
    room.Save()
    (src / "scene.yaml").write_text(SCENE)
    return src / "scene.yaml"


def _files(folder: Path, *tops: str) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for top in tops
        for p in sorted((folder / top).rglob("*") if (folder / top).is_dir() else [folder / top])
        if p.is_file()
    }


def _generate(scene: Path, out: Path, *extra: str) -> None:
    result = run_cli("generate", str(scene), "-o", str(out), "--no-progress", *extra)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of one scenario (the second also resumed once finished); then the first is moved
    elsewhere and the inputs renamed, so no absolute path of this machine can resolve."""
    base = tmp_path_factory.mktemp("portable")
    scene = _inputs(base / "src")
    _generate(scene, base / "out")
    _generate(scene, base / "again")
    _generate(scene, base / "again", "--resume")
    moved = tmp_path_factory.mktemp("elsewhere") / "moved"
    shutil.move(base / "out", moved)
    (base / "src").rename(base / "src_gone")
    return {"base": base, "moved": moved, "again": base / "again", "inputs": base / "src_gone"}


def _inside(path: str, folder: Path) -> bool:
    return Path(path).is_file() and Path(os.path.normpath(path)).is_relative_to(folder)


def test_every_file_the_moved_stage_uses_resolves_inside_the_moved_folder(runs: dict[str, Path]) -> None:
    from pxr import Sdf, UsdUtils

    moved = runs["moved"]
    layers, assets, unresolved = UsdUtils.ComputeAllDependencies(Sdf.AssetPath(str(moved / "stage.usda")))
    assert unresolved == []
    used = [layer.realPath for layer in layers] + list(assets)
    outside = [p for p in used if not _inside(p, moved)]
    assert outside == []
    names = sorted(PurePosixPath(Path(p).relative_to(moved).as_posix()).name for p in used)
    assert names == sorted(
        [
            "stage.usda",
            "room.usda",
            "room_geo.usda",
            "part.usda",
            "leg.usda",
            "grain.png",
            "wood.png",  # tex_a, named by the stage
            "wood.png",  # tex_b, named by the stage (material and dome)
            "wood.png",  # tex_b, beside part.usda's closure
            "tiles.png",
            "rotary.json",
        ]
    )


def test_the_moved_stage_composes_without_errors_and_its_asset_attributes_resolve(runs: dict[str, Path]) -> None:
    from pxr import Sdf, Usd

    moved = runs["moved"]
    stage = Usd.Stage.Open(str(moved / "stage.usda"))
    assert stage.GetCompositionErrors() == []
    # geometry that only the referenced files hold: the base USD's sublayer, part.usda's reference
    assert stage.GetPrimAtPath("/World/Base/wall").IsValid()
    assert stage.GetPrimAtPath("/World/part/model/leg").GetTypeName() == "Cube"
    resolved = []
    for prim in stage.Traverse():
        for attr in prim.GetAttributes():
            if attr.GetTypeName() == Sdf.ValueTypeNames.Asset and attr.Get() is not None and attr.Get().path:
                resolved.append((str(attr.GetPath()), attr.Get().resolvedPath))
    assert len(resolved) >= 7
    assert [(where, path) for where, path in resolved if not _inside(path, moved)] == []


def test_no_absolute_path_is_written_in_the_stage_or_its_copies(runs: dict[str, Path]) -> None:
    moved = runs["moved"]
    for path in [moved / "stage.usda", *sorted((moved / ASSETS_DIR).rglob("*.usda"))]:
        text = path.read_text()
        assert "@/" not in text, path
        assert str(runs["base"]) not in text and str(moved) not in text, path


def test_two_different_files_of_one_name_are_both_kept(runs: dict[str, Path]) -> None:
    copies = sorted((runs["moved"] / ASSETS_DIR).rglob("wood.png"))
    wanted = {(runs["inputs"] / d / "wood.png").read_bytes() for d in ("tex_a", "tex_b")}
    assert len(wanted) == 2 and {p.read_bytes() for p in copies} == wanted
    # only part.usda's rewritten absolute path changed; its relative ones are copied as written
    (part,) = (runs["moved"] / ASSETS_DIR).rglob("part.usda")
    assert "@../tex_b/wood.png@" in part.read_text()
    assert "@./tex/grain.png@" in part.read_text() and "@../common/leg.usda@" in part.read_text()


def test_verify_passes_on_the_moved_folder(runs: dict[str, Path]) -> None:
    result = run_cli("verify", str(runs["moved"]))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_copies_are_run_files_and_identical_across_runs_and_resume(runs: dict[str, Path]) -> None:
    tops = ("stage.usda", "stage_textures", ASSETS_DIR, "manifest.json")
    first, again = _files(runs["moved"], *tops), _files(runs["again"], *tops)
    assert first == again
    copies = [rel for rel in first if rel.startswith(f"{ASSETS_DIR}/")]
    assert len(copies) == 9
    assert all(is_owned(PurePosixPath(rel)) for rel in copies)
    listed = json.loads(first["manifest.json"])["files"]
    assert set(copies) <= set(listed)


def test_usd_files_that_reference_each_other_are_copied_once_with_absolute_paths_made_relative(
    tmp_path: Path,
) -> None:
    """a.usda and b.usda reference each other (a file cycle, not a composition one), the stage
    references both, and b names its texture by absolute path."""
    from pxr import Sdf, Usd, UsdUtils

    src, out = tmp_path / "src", tmp_path / "out"
    write_png(np.full((2, 2, 3), 0.5), src / "img" / "t.png")
    a = Sdf.Layer.CreateNew(str(src / "a.usda"))
    b = Sdf.Layer.CreateNew(str(src / "deep" / "b.usda"))
    Sdf.CreatePrimInLayer(a, "/A").specifier = Sdf.SpecifierDef
    Sdf.CreatePrimInLayer(a, "/FromB").referenceList.Prepend(Sdf.Reference("./deep/b.usda", "/B"))
    Sdf.CreatePrimInLayer(b, "/B").specifier = Sdf.SpecifierDef
    Sdf.CreatePrimInLayer(b, "/FromA").referenceList.Prepend(Sdf.Reference("../a.usda", "/A"))
    tex = Sdf.AttributeSpec(Sdf.CreatePrimInLayer(b, "/B"), "tex", Sdf.ValueTypeNames.Asset)
    tex.default = Sdf.AssetPath(str(src / "img" / "t.png"))
    a.Save()
    b.Save()
    stage = Usd.Stage.CreateInMemory()
    stage.DefinePrim("/World/x").GetReferences().AddReference(str(src / "a.usda"), "/FromB")
    stage.DefinePrim("/World/y").GetReferences().AddReference(str(src / "deep" / "b.usda"), "/B")
    out.mkdir()
    layer, copies = localize_layer(stage.GetRootLayer(), out, (src,))
    # the stage's own layer is untouched: the in-memory stage still composes from the inputs
    assert str(src / "a.usda") in stage.GetRootLayer().ExportToString()
    (out / "stage.usda").write_text(layer.ExportToString())
    # one closure, whichever file it is reached from
    assert len({p.parts[:2] for p in copies}) == 1
    assert [PurePosixPath(*p.parts[2:]).as_posix() for p in copies] == ["a.usda", "deep/b.usda", "img/t.png"]
    shutil.rmtree(src)
    _, _, unresolved = UsdUtils.ComputeAllDependencies(Sdf.AssetPath(str(out / "stage.usda")))
    assert unresolved == []
    moved = Usd.Stage.Open(str(out / "stage.usda"))
    assert moved.GetCompositionErrors() == []
    assert moved.GetPrimAtPath("/World/y").GetAttribute("tex").Get().resolvedPath.startswith(str(out))


def test_udim_tiles_are_copied_and_urls_and_search_paths_stay_as_authored(tmp_path: Path) -> None:
    """A UDIM set travels as its tiles; a URL, or a path the resolver finds along its search
    path (MDL's core library), is the opening application's to supply."""
    from pxr import Sdf, Usd

    src, out = tmp_path / "src", tmp_path / "out"
    for tile in (1001, 1002):
        write_png(np.full((2, 2, 3), 0.5), src / "tex" / f"t.{tile}.png")
    layer = Sdf.Layer.CreateNew(str(src / "m.usda"))
    prim = Sdf.CreatePrimInLayer(layer, "/M")
    prim.specifier = Sdf.SpecifierDef
    kept = ["OmniPBR.mdl", "https://example.com/sky.hdr", "./tex/t.<UDIM>.png"]
    for k, path in enumerate([*kept, str(src / "tex" / "t.<UDIM>.png")]):
        Sdf.AttributeSpec(prim, f"a{k}", Sdf.ValueTypeNames.Asset).default = Sdf.AssetPath(path)
    layer.defaultPrim = "M"
    layer.Save()
    stage = Usd.Stage.CreateInMemory()
    stage.DefinePrim("/World/m").GetReferences().AddReference(str(src / "m.usda"))
    out.mkdir()
    _, copies = localize_layer(stage.GetRootLayer(), out, (src,))
    assert [PurePosixPath(*p.parts[2:]).as_posix() for p in copies] == ["m.usda", "tex/t.1001.png", "tex/t.1002.png"]
    text = (out / copies[0]).read_text()
    assert all(f"@{path}@" in text for path in kept) and "@/" not in text


def test_files_outside_the_scenarios_folders_are_never_copied(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A USD asset naming ``/…/secret.txt`` or ``../secret.txt`` (outside the folders the
    scenario may read) does not get it copied into the dataset; it is named in a warning."""
    from pxr import Sdf, Usd

    src, out = tmp_path / "src", tmp_path / "out"
    (tmp_path / "secret.txt").write_text("not for the dataset")
    src.mkdir()
    layer = Sdf.Layer.CreateNew(str(src / "m.usda"))
    prim = Sdf.CreatePrimInLayer(layer, "/M")
    prim.specifier = Sdf.SpecifierDef
    for k, path in enumerate([str(tmp_path / "secret.txt"), "../secret.txt"]):
        Sdf.AttributeSpec(prim, f"a{k}", Sdf.ValueTypeNames.Asset).default = Sdf.AssetPath(path)
    layer.defaultPrim = "M"
    layer.Save()
    stage = Usd.Stage.CreateInMemory()
    stage.DefinePrim("/World/m").GetReferences().AddReference(str(src / "m.usda"))
    out.mkdir()
    with caplog.at_level(logging.WARNING):
        _, copies = localize_layer(stage.GetRootLayer(), out, (src,))
    assert [PurePosixPath(*p.parts[2:]).as_posix() for p in copies] == ["m.usda"]
    assert not [p for p in out.rglob("*") if p.name == "secret.txt"]
    assert caplog.text.count("outside the scenario's folder and asset roots") == 2
