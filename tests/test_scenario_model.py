"""The scenario format: round trips, the Python API, JSON Schema and defaults."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import CORPUS, EXAMPLES, run_cli
from pydantic import ValidationError
from scenesmith.scenarios import (
    Asset,
    BadInputError,
    CameraSpec,
    Choice,
    ChoiceParams,
    CubeSpec,
    CylinderSpec,
    DistractorSpec,
    LidarDropoutSpec,
    LidarReturnsSpec,
    LidarSpec,
    LightRandomizer,
    LightSpec,
    LogUniform,
    LogUniformParams,
    LookAtRandomizer,
    MaterialRandomizer,
    MaterialSpec,
    MeshSpec,
    OutputSpec,
    Placement,
    PlaneSpec,
    PoseRandomizer,
    RenderSpec,
    RotationDist,
    ScatterRandomizer,
    Scenario,
    SphereSpec,
    StageSpec,
    TextureSpec,
    Uniform,
    UniformParams,
    build,
    dump_yaml,
    parse,
)
from scenesmith.scenarios.model import (
    BodyPhysics,
    CameraSensorSpec,
    CapsuleSpec,
    CheckerTexture,
    ConeSpec,
    CountRange,
    DepthSensorSpec,
    FrictionSpec,
    LensSpec,
    PhysicsSpec,
    SettleSpec,
    Shape,
)
from scenesmith.scenarios.schema import scenario_json_schema
from scenesmith.scenarios.yaml_source import load_yaml_bytes

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def _u(lo: object, hi: object) -> Uniform:
    return Uniform(uniform=UniformParams(lower=lo, upper=hi))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_yaml_model_yaml_model_round_trip(path: Path, tmp_path: Path) -> None:
    first = parse(path).scenario
    text = dump_yaml(first)
    copy = path.parent / f".roundtrip_{path.name}"
    try:
        copy.write_text(text, encoding="utf-8")  # beside the original: asset paths stay valid
        second = parse(copy).scenario
    finally:
        copy.unlink(missing_ok=True)
    assert second == first
    assert dump_yaml(second) == text


def test_python_api_builds_the_tabletop_model() -> None:
    """The tabletop example written with the Python API equals the parsed YAML file."""
    clutter_materials = ["red_plastic", "blue_plastic", "green_rubber", "yellow_paint", "grey_foam"]
    scenario = Scenario(
        version=1,
        name="tabletop",
        description="Labelled objects on a table, clutter dropped onto it, randomised lights and camera.",
        stage=StageSpec(meters_per_unit=1.0, up_axis="Z"),
        textures={
            "floor_tiles": TextureSpec(
                checker=CheckerTexture(squares=40, color_a=(0.62, 0.62, 0.6), color_b=(0.38, 0.38, 0.36))
            ),
            "wood": TextureSpec(file="assets/wood.png", tiling=(3.0, 2.0)),
        },
        materials={
            "floor": MaterialSpec(diffuse_texture="floor_tiles", roughness=0.9),
            "table_wood": MaterialSpec(diffuse_texture="wood", roughness=0.55),
            "ceramic": MaterialSpec(diffuse_color=(0.85, 0.84, 0.8), roughness=0.2),
            "red_plastic": MaterialSpec(diffuse_color=(0.72, 0.08, 0.06), roughness=0.35),
            "blue_plastic": MaterialSpec(diffuse_color=(0.08, 0.2, 0.7), roughness=0.4),
            "green_rubber": MaterialSpec(diffuse_color=(0.12, 0.5, 0.15), roughness=0.85),
            "yellow_paint": MaterialSpec(diffuse_color=(0.85, 0.7, 0.08), roughness=0.5),
            "brushed_steel": MaterialSpec(diffuse_color=(0.62, 0.62, 0.64), metallic=1.0, roughness=0.3),
            "grey_foam": MaterialSpec(diffuse_color=(0.4, 0.4, 0.42), roughness=1.0, lidar_reflectance=0.1),
        },
        material_pools={
            "objects": ("red_plastic", "blue_plastic", "green_rubber", "yellow_paint", "brushed_steel", "ceramic")
        },
        assets={
            "floor": Asset(plane=PlaneSpec(width_m=12.0, length_m=12.0), material="floor"),
            "table": Asset(
                cube=CubeSpec(size_m=1.0),
                scale=(1.2, 0.8, 0.75),
                position_m=(0.0, 0.0, 0.375),
                material="table_wood",
                semantics={"class": ("table",)},
            ),
            "mug": Asset(
                mesh=MeshSpec(path="assets/mug.obj"), count=2, material="ceramic", semantics={"class": ("mug",)}
            ),
            "can": Asset(
                cylinder=CylinderSpec(radius_m=0.033, height_m=0.122),
                count=2,
                material="red_plastic",
                semantics={"class": ("can",)},
            ),
            "box": Asset(
                cube=CubeSpec(size_m=0.1),
                scale=(1.4, 0.9, 0.6),
                count=2,
                material="blue_plastic",
                semantics={"class": ("box",)},
            ),
            "ball": Asset(
                sphere=SphereSpec(radius_m=0.035), count=2, material="yellow_paint", semantics={"class": ("ball",)}
            ),
            "cone": Asset(
                cone=ConeSpec(radius_m=0.04, height_m=0.1), material="green_rubber", semantics={"class": ("cone",)}
            ),
        },
        lights={
            "sun": LightSpec(type="distant", intensity=2.5, angle_deg=1.0, rotation_deg=(30.0, 20.0, 0.0)),
            "lamp": LightSpec(type="sphere", radius_m=0.08, intensity=250.0, position_m=(0.9, -0.8, 1.9)),
            "sky": LightSpec(type="dome", intensity=0.25, color=(0.65, 0.75, 1.0)),
        },
        cameras={
            "front": CameraSpec(
                resolution=(640, 480),
                focal_length_mm=18.0,
                position_m=(1.6, -1.2, 1.5),
                look_at_m=(0.0, 0.0, 0.78),
                lens=LensSpec(model="pinholeOpenCV", k1=-0.08, k2=0.02, p1=0.0005, p2=-0.0003),
                sensor=CameraSensorSpec(
                    exposure_ev=Uniform(uniform=UniformParams(lower=-0.5, upper=0.5)),
                    white_balance=Uniform(uniform=UniformParams(lower=(0.95, 1.0, 0.95), upper=(1.05, 1.0, 1.05))),
                    jpeg_quality=Uniform(uniform=UniformParams(lower=80.0, upper=95.0)),
                ),
                depth_sensor=DepthSensorSpec(baseline_m=0.05),
            )
        },
        lidars={
            "roof_lidar": LidarSpec(
                profile="OS1_REV6_32ch10hz1024res",
                position_m=(-1.6, -1.3, 1.3),
                rotation_deg=(0.0, 0.0, 39.0),
                intensity="calibrated",
                dropout=LidarDropoutSpec(),
                returns=LidarReturnsSpec(divergence_mrad=2.3, beam_diameter_m=0.01, sub_rays=16),
            )
        },
        distractors={
            "clutter": DistractorSpec(
                pool=[
                    Shape(cube=CubeSpec(size_m=0.05)),
                    Shape(sphere=SphereSpec(radius_m=0.03)),
                    Shape(cylinder=CylinderSpec(radius_m=0.02, height_m=0.08)),
                    Shape(capsule=CapsuleSpec(radius_m=0.015, height_m=0.05)),
                ],
                count=CountRange(min=2, max=5),
                scale=_u(0.7, 1.5),
                materials=clutter_materials,
                placement=Placement(kind="dropped", surface="table", drop_height_m=(0.05, 0.25)),
                physics=BodyPhysics(
                    body="dynamic",
                    density_kg_m3=600.0,
                    friction=FrictionSpec(static=0.6, dynamic=0.5, torsional=0.01, rolling=0.002),
                    restitution=0.2,
                ),
            )
        },
        physics=PhysicsSpec(
            enabled=True,
            timestep_s=0.002,
            settle=SettleSpec(linear_speed_m_s=0.01, angular_speed_deg_s=5.0, hold_s=0.1, max_s=4.0),
            log_every_n_steps=10,
            drop_fallen_from_labels=False,
        ),
        randomizers={
            "objects_on_table": ScatterRandomizer(
                kind="scatter", targets=("mug", "can", "box", "ball", "cone"), surface="table", margin_m=0.01
            ),
            "object_materials": MaterialRandomizer(
                kind="material", targets=("can", "box", "ball", "cone"), pool="objects"
            ),
            "sun_light": LightRandomizer(
                kind="light", targets=("sun",), intensity=_u(1.5, 4.0), color_temperature_k=_u(4000.0, 7000.0)
            ),
            "sun_direction": PoseRandomizer(
                kind="pose",
                targets=("sun",),
                rotation=RotationDist(euler_deg=_u((-45.0, -45.0, 0.0), (45.0, 45.0, 360.0))),
            ),
            "lamp_light": LightRandomizer(
                kind="light",
                targets=("lamp",),
                intensity=LogUniform(log_uniform=LogUniformParams(lower=80.0, upper=600.0)),
                color=Choice(
                    choice=ChoiceParams(items=[(1.0, 0.95, 0.85), (0.85, 0.9, 1.0), (1.0, 1.0, 1.0)], weights=[2, 1, 1])
                ),
            ),
            "camera_orbit": LookAtRandomizer(
                kind="look_at",
                targets=("front",),
                target_m=_u((-0.1, -0.1, 0.76), (0.1, 0.1, 0.8)),
                distance_m=_u(1.3, 2.0),
                azimuth_deg=_u(0.0, 360.0),
                elevation_deg=_u(30.0, 65.0),
            ),
        },
        render=RenderSpec(
            engine="path", max_bounces=4, denoise=True, samples_per_pixel=2, area_light_samples=4, dome_light_samples=16
        ),
        output=OutputSpec(frames=16, shard_size=4),
    )
    from_file = parse(EXAMPLES / "tabletop.yaml").scenario
    assert scenario == from_file
    # build() applies the same file and reference checks as parse().
    assert build(scenario, base_dir=EXAMPLES).scenario == from_file


def test_python_api_gets_the_same_checks_as_files() -> None:
    bad = Scenario(version=1, assets={"ball": Asset(sphere=SphereSpec(), material="nope")})
    with pytest.raises(BadInputError) as info:
        build(bad)
    assert "assets.ball.material: unknown material 'nope'" in str(info.value)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_schema_accepts_every_example(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    data, _ = load_yaml_bytes(path.read_bytes(), str(path))
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []


# Corpus files whose problem is structural, so the JSON Schema alone rejects them; the others
# (YAML-level, cross-reference, file and numeric-relation errors) need the loader.
SCHEMA_ERRORS = {
    "unknown_key",
    "depth_sensor_unknown_key",
    "wrong_unit_suffix",
    "wrong_type_string_number",
    "wrong_type_bool_number",
    "wrong_vector_length",
    "wrong_type_mapping",
    "empty_choice",
    "negative_size",
    "negative_mass",
    "negative_intensity",
    "unknown_annotator",
    "unknown_light_type",
    "missing_version",
    "unsupported_version",
    "unknown_distribution",
    "unknown_randomizer_kind",
    "bad_name",
    "oversized_frames",
    "position_too_far",
    # issue 18: writer options
    "writer_yolo_unknown_task",
    "writer_voc_jpeg_quality",
}
LOADER_ONLY = {
    "physics_dynamic_without_collider",
    "physics_interval_not_steps",
    "syntax_error",
    "duplicate_key",
    "nan_value",
    "inf_value",
    "nan_in_distribution",
    "inverted_uniform",
    "inverted_clipping_range",
    "empty_clipping_range",
    "inverted_count_range",
    "missing_asset_file",
    "asset_escapes_folder",
    "asset_absolute_outside",
    "asset_symlink_escape",
    "asset_wrong_file_type",
    "oversized_resolution",
    "oversized_instances",
    "yaml_tag_python",
    "yaml_tag_custom",
    "yaml_anchor_alias",
    "yaml_alias_bomb",
    "empty",
    "comments_only",
    "unknown_target",
    "unknown_material",
    "light_field_of_other_type",
    "unknown_lidar_profile",
    "two_documents",
    "count_above_authored",
    "scalar_document",
    # issue 14: supports against domains, decoded assets, USD composition, budgets
    "texture_not_an_image",
    "mesh_empty_file",
    "mesh_garbage",
    "randomized_intensity_can_be_negative",
    "randomized_scale_can_be_negative",
    "randomized_color_normal_unbounded",
    "look_at_distance_zero",
    "look_at_at_position",
    "uniform_bounds_overflow",
    "base_usd_self_reference",
    "base_usd_reference_cycle",
    "base_usd_sublayer_of_itself",
    "budget_lidar_report_rate",
    "budget_simple_lidar_scan",
    "budget_checker_squares",
    "budget_physics_timestep",
    "budget_forty_4k_cameras",
    "control_char_nul",
    "control_char_esc",
    # issue 17: sensor models (a model's output without the model; a distribution past its domain)
    "camera_raw_without_sensor",
    "camera_sensor_bad_bit_depth",
    # issue 18: a writer refusing what it cannot write (KITTI and a lens)
    "writer_kitti_lensed_camera",
}


def test_corpus_is_partitioned_between_schema_and_loader() -> None:
    names = {p.stem for p in CORPUS.glob("*.yaml")}
    assert names == SCHEMA_ERRORS | LOADER_ONLY
    assert not SCHEMA_ERRORS & LOADER_ONLY


@pytest.mark.parametrize("name", sorted(SCHEMA_ERRORS))
def test_schema_rejects_structural_corpus_files(name: str, validator: jsonschema.Draft202012Validator) -> None:
    path = CORPUS / f"{name}.yaml"
    data, _ = load_yaml_bytes(path.read_bytes(), str(path))
    assert list(validator.iter_errors(data)), f"{name} passed the JSON Schema"


def test_schema_command_prints_the_schema(tmp_path: Path) -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads(json.dumps(scenario_json_schema()))
    out = tmp_path / "schema.json"
    assert run_cli("schema", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["$schema"].endswith("2020-12/schema")


def _properties(node: object, path: str = "") -> list[tuple[str, dict]]:
    """Every (path, property schema) of a JSON Schema, however deeply nested."""
    found: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        for key, value in (node.get("properties") or {}).items():
            found.append((f"{path}.{key}", value))
        for key, value in node.items():
            found += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _properties(value, f"{path}[{i}]")
    return found


def test_every_schema_property_has_a_description() -> None:
    """Field docstrings reach the schema (use_attribute_docstrings), so an editor shows each
    key's meaning and default on hover; defaults come with it."""
    schema = json.loads(run_cli("schema").stdout)
    properties = _properties(schema)
    assert len(properties) > 250
    assert [path for path, prop in properties if not prop.get("description")] == []
    cube = schema["$defs"]["CubeSpec"]["properties"]["size_m"]
    assert cube["default"] == 1.0 and "Edge length in metres" in cube["description"]


def test_defaults_follow_replicator_and_usd() -> None:
    doc = build({"version": 1, "assets": {"c": {"cube": {}}, "s": {"sphere": {}}}, "cameras": {"cam": {}}})
    s = doc.scenario
    assert s.assets["c"].cube.size_m == 1.0  # Replicator's rep.create.cube, not USD's 2 m
    assert s.assets["s"].sphere.radius_m == 0.5
    cam = s.cameras["cam"]
    assert (cam.focal_length_mm, cam.horizontal_aperture_mm, cam.vertical_aperture_mm) == (24.0, 20.955, 15.2908)
    assert s.stage.up_axis == "Z" and s.stage.meters_per_unit == 1.0


def test_scalar_scale_means_uniform_scale() -> None:
    s = build({"version": 1, "assets": {"c": {"cube": {}, "scale": 2}}}).scenario
    assert s.assets["c"].scale == (2.0, 2.0, 2.0)


def test_models_are_immutable() -> None:
    s = build({"version": 1, "assets": {"c": {"cube": {}}}}).scenario
    with pytest.raises(ValidationError):
        s.assets["c"].count = 3  # type: ignore[misc]


def test_every_issue_is_reported_not_only_the_first(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "version: 1\nassets:\n  a: {cube: {size_m: -1}}\n  b: {sphere: {radius_m: .nan}}\n"
        "lights:\n  l: {type: sphere, intensity: -2}\n"
    )
    with pytest.raises(BadInputError) as info:
        parse(path)
    keys = [i.key for i in info.value.issues]
    assert keys == ["assets.a.cube.size_m", "assets.b.sphere.radius_m", "lights.l.intensity"]
