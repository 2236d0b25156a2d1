"""The Isaac Sim side, tested without Kit (issue 9): the extension manifest and the assembled
Kit folder, importing the extension outside Kit, the headless entry's input checks, our writers
as ``rep.Writer`` classes and the ``replicator`` mode's graph compiler against a recording
double of ``rep`` (every recorded name must be cited). Nothing here pretends to render."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomllib
from conftest import EXAMPLES, REPO, run_cli
from rep_double import REP, RecordingRep
from scenesmith import __version__
from scenesmith.runtime.backend import check_supported, create_backend
from scenesmith.runtime.isaac.backend import IsaacBackend
from scenesmith.runtime.isaac.rep_writers import WRITER_CLASS_NAMES, register_writers, unregister_writers
from scenesmith.runtime.isaac.replicator_graph import compile_randomizers, replicator_mode_problems
from scenesmith.runtime.usd.resolve import resolve
from scenesmith.scenarios.loader import build, parse
from scenesmith.scenarios.yaml_dump import to_data
from scenesmith.sensors.errors import BadInputError

MANIFEST = REPO / "extension.toml"
CITED = {e["name"] for e in tomllib.loads((REPO / "extension" / "api_citations.toml").read_text())["api"]}


# ------------------------------------------------------------------ manifest and Kit folder


def test_extension_toml_has_every_section_kit_needs() -> None:
    toml = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    package = toml["package"]
    assert package["version"] == __version__
    for key in ("title", "description", "category", "keywords", "authors", "readme"):
        assert package[key], key
    assert package["writeTarget"] == {"kit": True}
    deps = toml["dependencies"]
    for ext in ("omni.replicator.core", "omni.usd", "omni.physx", "isaacsim.sensors.rtx", "omni.kit.uiapp"):
        assert ext in deps, ext
    modules = [m["name"] for m in toml["python"]["module"]]
    assert modules == ["scenesmith.extension"]
    assert (REPO / "extension" / "__init__.py").is_file()
    # pip requirements: the package's base dependencies minus what Kit ships, never a second pxr
    requirements = toml["python"]["pipapi"]["requirements"]
    names = {r.split(">")[0].split("=")[0] for r in requirements}
    assert not any(n.startswith("usd") for n in names)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    base = {d.split(">")[0].split("=")[0] for d in project}
    assert names == (base - {"numpy", "pillow"}) | {"trimesh"}
    # the settings the panel reads exist
    settings = toml["settings"]["exts"]["scenesmith"]
    assert set(settings) == {"default_output_dir", "default_frames"}
    tests = toml["test"]
    assert any("omni.kit.ui_test" in t.get("dependencies", []) for t in tests)
    assert (REPO / "extension" / "tests" / "test_extension.py").is_file()


@pytest.mark.parametrize("mode", ["link", "copy"])
def test_assembled_folder_has_kits_layout_and_imports(mode: str, tmp_path: Path) -> None:
    out = tmp_path / "kit"
    args = ["-m", "scenesmith.scripts.kit_extension", "-o", str(out)] + (["--copy"] if mode == "copy" else [])
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    ext = out / "scenesmith"
    assert (ext / "config" / "extension.toml").read_bytes() == MANIFEST.read_bytes()
    assert (ext / "docs" / "README.md").is_file()
    package = ext / "scenesmith"
    for item in ("__init__.py", "plugins.py", "extension/__init__.py", "extension/tests/test_extension.py",
                 "runtime/isaac/backend.py", "scripts/isaac_generate.py", "config/lidar_profiles"):  # fmt: skip
        assert (package / item).exists(), item
    assert not (package / "tests").exists() and not (package / "bench").exists()
    # Kit puts the extension folder on sys.path and imports the [[python.module]]
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import scenesmith, scenesmith.extension as e; "
        "print(json.dumps([scenesmith.__file__, scenesmith.config_path('lidar_profiles').is_dir(), "
        "hasattr(e, 'ScenesmithExtension'), [m for m in sys.modules if m.split('.')[0] in ('omni', 'carb')]]))"
    )
    check = subprocess.run([sys.executable, "-c", code, str(ext)], capture_output=True, text=True, cwd=tmp_path,
                           check=False)  # fmt: skip
    assert check.returncode == 0, check.stderr
    file, has_profiles, has_ext, kit = json.loads(check.stdout)
    assert Path(file).parent == package
    assert has_profiles and not has_ext and kit == []
    if mode == "copy":
        assert not any(p.is_symlink() for p in package.rglob("*"))
        assert not list(package.rglob("__pycache__")) or all("__pycache__" in p.parts for p in package.rglob("*.pyc"))
    # a second run refuses to touch the folder (exit 2) unless told to overwrite
    again = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_importing_the_extension_outside_kit_defines_and_registers_nothing() -> None:
    code = (
        "import json, sys; import scenesmith.extension as e, scenesmith.extension.extension, "
        "scenesmith.extension.panel as p; "
        "print(json.dumps([e.__all__, hasattr(e, 'ScenesmithExtension'), "
        "sorted({m.split('.')[0] for m in sys.modules} & {'omni', 'carb', 'isaacsim'})]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[], False, []]


# ------------------------------------------------------------------ headless entry


def test_headless_entry_rejects_bad_input_before_starting_kit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nassets:\n  box:\n    cube: {size_m: -1}\n")
    out = tmp_path / "out"
    script = REPO / "scripts" / "isaac_generate.py"
    result = subprocess.run([sys.executable, str(script), str(bad), "-o", str(out)], capture_output=True, text=True,
                            cwd=tmp_path, check=False)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"{bad}:4:" in result.stderr and "assets.box.cube.size_m" in result.stderr
    assert "isaacsim" not in result.stderr  # failed before any Kit import
    assert not out.exists()
    wrong = subprocess.run([sys.executable, str(script), str(bad), "-o", str(out), "--renderer", "Cycles"],
                           capture_output=True, text=True, cwd=tmp_path, check=False)  # fmt: skip
    assert wrong.returncode == 2 and "--renderer" in wrong.stderr


def test_isaac_backend_is_known_outside_kit_and_refuses_to_block() -> None:
    backend = create_backend("isaac", rt_subframes=4)
    assert isinstance(backend, IsaacBackend)
    caps = backend.capabilities()
    assert caps.lidar and caps.physics and "replicator" in caps.randomization_modes
    doc = parse(EXAMPLES / "tabletop.yaml")
    # the main scenario is fully supported but for its LiDAR realism models, which RTX LiDAR
    # replaces with its own (closed) intensity, detection and echoes: refused by name
    with pytest.raises(BadInputError) as refused:
        check_supported(resolve(doc), caps, "isaac")
    assert sorted(i.key for i in refused.value.issues) == [
        "lidars.roof_lidar.dropout",
        "lidars.roof_lidar.intensity",
        "lidars.roof_lidar.returns",
    ]
    data = to_data(doc.scenario)
    for key in ("intensity", "dropout", "returns"):
        del data["lidars"]["roof_lidar"][key]
    resolved = resolve(build(data, base_dir=EXAMPLES))
    check_supported(resolved, caps, "isaac")
    with pytest.raises(RuntimeError, match="_async"):
        backend.build(resolved)  # no runner: Kit's loop must not be blocked
    with pytest.raises(ValueError, match="renderer"):
        IsaacBackend(renderer="Cycles")


def test_generate_refuses_replicator_mode_on_the_embedded_backend(tmp_path: Path) -> None:
    text = (EXAMPLES / "pose_writer_parity.yaml").read_text() + "\nisaac: {randomization_mode: replicator}\n"
    path = EXAMPLES / ".replicator_mode.yaml"
    try:
        path.write_text(text)
        result = run_cli("generate", str(path), "-o", str(tmp_path / "o"), "--frames", "1")
    finally:
        path.unlink(missing_ok=True)
    assert result.returncode == 2
    assert "isaac.randomization_mode" in result.stderr and "deterministic" in result.stderr


# ------------------------------------------------------------------ rep.Writer adapters


def test_our_writers_register_as_rep_writers_and_write_replicator_payloads(tmp_path: Path) -> None:
    from scenesmith.runtime.single_frame import capture_frame
    from scenesmith.sensors.outputs import ANNOTATORS, SCENESMITH_KEY
    from test_replicator_adapter import delivered

    rep = RecordingRep()
    names = register_writers(rep)
    assert names == list(WRITER_CLASS_NAMES.values())
    assert rep.names() <= CITED
    hdf5_cls = rep.WriterRegistry.writers["ScenesmithHdf5Writer"]
    assert issubclass(hdf5_cls, rep.Writer) and hdf5_cls.data_structure == "annotator"
    coco = rep.WriterRegistry.writers["ScenesmithCocoWriter"](output_dir=str(tmp_path / "coco"), categories=["mug"])
    assert set(coco.annotators) >= {"rgb", "instance_segmentation"}
    writer = hdf5_cls(output_dir=str(tmp_path / "h5"))
    schemas = json.loads((REPO.parent / "shared" / "fixtures" / "replicator-1.12.27" / "annotator_schemas.json")
                         .read_text())["annotators"]  # fmt: skip
    doc = parse(REPO / "tests" / "scenarios" / "small_tabletop.yaml", asset_roots=(EXAMPLES,))
    payload = capture_frame(doc, 0, 0, annotators={"front": tuple(ANNOTATORS)})
    payload.pop(SCENESMITH_KEY)
    writer.write(delivered(payload, "annotator", schemas))
    writer.on_final_frame()
    from scenesmith.writers.hdf5_reader import read_frames

    frames = list(read_frames(tmp_path / "h5" / "hdf5" / "shard_000000.h5"))
    assert len(frames) == 1
    np.testing.assert_array_equal(frames[0]["annotators"]["rgb"]["front"]["data"],
                                  payload["annotators"]["rgb"]["front"]["data"])  # fmt: skip
    unregister_writers(rep, names)
    assert rep.WriterRegistry.writers == {}


# ------------------------------------------------------------------ replicator mode


def _scenario(extra: dict[str, Any]) -> Any:
    base = to_data(parse(EXAMPLES / "pose_writer_parity.yaml").scenario)
    base.update(extra)
    return resolve(build(base, base_dir=EXAMPLES))


def test_randomizers_compile_to_a_replicator_graph_with_cited_calls_only() -> None:
    resolved = _scenario(
        {
            "randomizers": {
                "cube_pose": {
                    "kind": "pose",
                    "targets": ["Cube1"],
                    "position_m": {"uniform": {"lower": [-1.0, -1.0, 0.0], "upper": [1.0, 1.0, 0.5]}},
                    "rotation": {"euler_deg": {"normal": {"mean": [0.0, 0.0, 0.0], "std": [5.0, 5.0, 90.0]}}},
                    "trigger": {"kind": "on_frame", "interval": 3},
                },
                "spin": {"kind": "pose", "targets": ["Cube2"], "rotation": {"uniform_so3": True}},
                "dome": {"kind": "light", "targets": ["DomeLight"],
                         "intensity": {"log_uniform": {"lower": 100.0, "upper": 1000.0}},
                         "color_temperature_k": {"choice": {"items": [4000.0, 6500.0], "weights": [1, 3]}}},
                "hide": {"kind": "visibility", "targets": ["Cube3"], "probability": 0.25},
                "orbit": {"kind": "look_at", "targets": ["PinholeCamera2"], "target_m": [0.0, 0.0, 0.0],
                          "distance_m": {"uniform": {"lower": 6.0, "upper": 9.0}},
                          "azimuth_deg": {"sequence": {"items": [0.0, 90.0, 180.0]}}},
            }
        }
    )  # fmt: skip
    rep = RecordingRep()
    lines = compile_randomizers(rep, resolved, {})
    assert len(lines) == 5 and "every 3 frames" in lines[0]
    assert rep.names() <= CITED, rep.names() - CITED
    calls = {name: (args, kwargs) for name, args, kwargs, _ in rep.calls}
    uniform = next(c for c in rep.calls if c[0] == f"{REP}.distribution.uniform" and c[1][0] == (-1.0, -1.0, 0.0))
    assert uniform[1] == ((-1.0, -1.0, 0.0), (1.0, 1.0, 0.5))
    assert calls[f"{REP}.distribution.normal"][0] == ((0.0, 0.0, 0.0), (5.0, 5.0, 90.0))
    assert calls[f"{REP}.distribution.log_uniform"][0] == (100.0, 1000.0)
    choices = [c for c in rep.calls if c[0] == f"{REP}.distribution.choice"]
    assert choices[0][1] == ([4000.0, 6500.0],) and choices[0][2] == {"weights": [1.0, 3.0]}
    assert choices[1][1] == ([True, False],) and choices[1][2] == {"weights": [0.25, 0.75]}
    assert calls[f"{REP}.distribution.sequence"][0] == ([0.0, 90.0, 180.0],)
    triggers = [c for c in rep.calls if c[0] == f"{REP}.trigger.on_frame"]
    assert [t[2] for t in triggers] == [{"interval": 3}, {"interval": 1}, {"interval": 1}, {"interval": 1},
                                        {"interval": 1}]  # fmt: skip
    targets = [c[1][0] for c in rep.calls if c[0] == f"{REP}.get.prim_at_path"]
    assert targets == [["/World/Cube1"], ["/World/Lights/DomeLight"], ["/World/Cube3"], ["/World/PinholeCamera2"],
                       ["/World/Cube2"]]  # fmt: skip
    # modifiers are issued inside their trigger and prim context
    pose = next(c for c in rep.calls if c[0] == f"{REP}.modify.pose")
    assert len(pose[3]) == 2 and set(pose[2]) == {"position", "rotation"}
    attrs = [c[1][0] for c in rep.calls if c[0] == f"{REP}.modify.attribute"]
    assert attrs == ["inputs:intensity", "inputs:enableColorTemperature", "inputs:colorTemperature"]
    orbit = calls[f"{REP}.modify.pose_orbit"][1]
    assert orbit["barycentre"] == (0.0, 0.0, 0.0) and orbit["elevation"] == 30.0
    assert f"{REP}.randomizer.rotation" in calls


def test_what_replicator_mode_cannot_express_is_refused_naming_the_keys() -> None:
    doc = parse(EXAMPLES / "tabletop.yaml")
    problems = replicator_mode_problems(resolve(doc))
    assert problems is not None
    text = str(problems)
    for key in ("physics.enabled", "distractors.clutter", "randomizers.objects_on_table.kind",
                "randomizers.camera_orbit.target_m"):  # fmt: skip
        assert key in text, key
    assert "randomization_mode: deterministic" in text
    with pytest.raises(BadInputError):
        compile_randomizers(RecordingRep(), resolve(doc), {})


def test_the_cli_refuses_the_isaac_backend_outside_isaac_sim(tmp_path: Path) -> None:
    out = tmp_path / "o"
    for command in (["generate", "-o", str(out)], ["capture", "-o", str(out)]):
        result = run_cli(command[0], str(EXAMPLES / "pose_writer_parity.yaml"), *command[1:], "--backend", "isaac")
        assert result.returncode == 2, result.stderr
        assert "--backend" in result.stderr and "isaac_generate.py" in result.stderr
        assert not out.exists()


def test_path_tracing_settings_follow_the_render_section_and_fast_denoising_is_refused() -> None:
    """Under ``PathTracing``, samples, bounces and the denoiser become the RTX settings Isaac
    Sim's SimulationApp sets from the same three options (``path_tracing_settings``); other
    renderers get none. OIDN's ``fast`` filter has no Isaac counterpart: refused at its key by
    the Isaac backend, accepted by the embedded one."""
    from scenesmith.runtime.embedded.backend import CAPABILITIES as EMBEDDED
    from scenesmith.runtime.isaac.backend import CAPABILITIES, path_tracing_settings

    render = {"engine": "path", "samples_per_pixel": 3, "max_bounces": 2, "denoise": True}
    doc = build({"version": 1, "assets": {"box": {"cube": {}}}, "render": render})
    assert path_tracing_settings(doc, "PathTracing") == {
        "/rtx/pathtracing/spp": 3,
        "/rtx/pathtracing/totalSpp": 3,
        "/rtx/pathtracing/clampSpp": 3,
        "/rtx/pathtracing/maxBounces": 2,
        "/rtx/pathtracing/optixDenoiser/enabled": True,
    }
    assert path_tracing_settings(doc, "RealTimePathTracing") == {}
    assert path_tracing_settings(doc, "RaytracedLighting") == {}
    direct = build({"version": 1, "assets": {"box": {"cube": {}}}, "render": {**render, "engine": "direct"},
                    "isaac": {"renderer": "PathTracing"}})  # fmt: skip
    assert path_tracing_settings(direct, "PathTracing") == {}  # Isaac Sim's own settings stay
    check_supported(resolve(doc), CAPABILITIES, "isaac")  # quality high: OptiX on
    fast = build({"version": 1, "assets": {"box": {"cube": {}}}, "render": {**render, "denoise_quality": "fast"}})
    check_supported(resolve(fast), EMBEDDED, "embedded")
    with pytest.raises(BadInputError, match=r"render\.denoise_quality: the isaac backend does not support") as err:
        check_supported(resolve(fast), CAPABILITIES, "isaac")
    assert "optixDenoiser" in str(err.value)
    off = {**render, "denoise": False, "denoise_quality": "fast"}  # no denoiser: nothing to refuse
    check_supported(
        resolve(build({"version": 1, "assets": {"box": {"cube": {}}}, "render": off})), CAPABILITIES, "isaac"
    )


def test_the_kit_tests_tabletop_without_its_lidar_models_is_one_isaac_runs() -> None:
    """``extension/tests``' generation test drops the example's LiDAR realism models, which
    Isaac Sim's RTX LiDAR computes itself (refused by name); the rest must pass Isaac's checks."""
    from scenesmith.extension.kit_test_scenarios import tabletop_for_isaac
    from scenesmith.runtime.isaac.backend import CAPABILITIES

    with pytest.raises(BadInputError, match="LiDAR intensity model"):
        check_supported(resolve(parse(EXAMPLES / "tabletop.yaml")), CAPABILITIES, "isaac")
    check_supported(resolve(tabletop_for_isaac()), CAPABILITIES, "isaac")


def test_render_engine_path_maps_to_isaac_sims_path_tracer() -> None:
    """``render.engine: path`` runs on RTX ``PathTracing`` inside Isaac Sim (``/rtx/rendermode``,
    cited in extension/api_citations.toml), unless isaac.renderer names the other path tracer;
    asking for path tracing with ``RaytracedLighting`` is refused at that key."""
    from scenesmith.runtime.isaac.backend import scenario_renderer
    from scenesmith.scenarios.loader import build

    def scene(render: dict, isaac: dict | None = None) -> dict:
        body = {"version": 1, "assets": {"box": {"cube": {}}}, "render": render}
        return {**body, "isaac": isaac} if isaac else body

    assert scenario_renderer(build(scene({}))) == "RaytracedLighting"
    assert scenario_renderer(build(scene({"engine": "path"}))) == "PathTracing"
    assert scenario_renderer(build(scene({"engine": "path"}, {"renderer": "RealTimePathTracing"}))) == (
        "RealTimePathTracing"
    )
    assert scenario_renderer(build(scene({}, {"renderer": "PathTracing"}))) == "PathTracing"
    with pytest.raises(BadInputError, match=r"isaac\.renderer: render\.engine: path needs"):
        scenario_renderer(build(scene({"engine": "path"}, {"renderer": "RaytracedLighting"})))
