"""MuJoCo physics built from UsdPhysics: analytic checks, contact model, kinematic bodies, the
drop scene fixture and bad input (issue 8). Sequences, logs and the drop test are in
``test_physics_episodes.py``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from physics_stages import axis_angle_quat, material, new_stage, shape
from scenesmith.runtime.embedded.physics import PhysicsLog, PhysicsWorld, Support
from scenesmith.runtime.embedded.physics_model import build_model, restitution_damping
from scenesmith.scenarios.placement import convex_hull_2d
from scenesmith.sensors.errors import BadInputError
from scenesmith.sensors.physics_state import step_rows

G = 9.81
DT = 0.002


def _pos(world: PhysicsWorld, path: str) -> np.ndarray:
    return world.snapshot().position_m[world.bodies.index(path)]


def _quat(world: PhysicsWorld, path: str) -> np.ndarray:
    return world.snapshot().quat_wxyz[world.bodies.index(path)]


def test_free_fall_follows_the_integrator_exactly_without_damping() -> None:
    stage = new_stage()
    shape(stage, "/World/ball", "Sphere", (0.0, 0.0, 10.0), body="dynamic", radius=0.1)
    world = PhysicsWorld(stage, DT)
    steps = 500
    world.step(steps)
    t = steps * DT
    # semi-implicit Euler: v_n = -g n dt exactly, z_n = z0 - g dt^2 n(n+1)/2
    assert world.data.qvel[2] == pytest.approx(-G * t, rel=1e-12)
    assert _pos(world, "/World/ball")[2] == pytest.approx(10.0 - G * DT**2 * steps * (steps + 1) / 2, abs=1e-9)
    # and within the integrator's O(dt) tolerance of the analytic parabola
    assert abs(_pos(world, "/World/ball")[2] - (10.0 - G * t * t / 2)) <= G * DT * t / 2 + 1e-9


def test_resting_box_presses_with_its_weight() -> None:
    stage = new_stage()
    shape(stage, "/World/box", "Cube", (0.0, 0.0, 0.06), body="dynamic", mass_kg=1.0, size=0.1)
    world = PhysicsWorld(stage, DT, ground_plane=True)
    world.step(1000)
    contacts = world.contacts()
    assert len(contacts["force"]) >= 3
    assert contacts["force"].sum() == pytest.approx(1.0 * G, rel=0.02)
    assert np.all(contacts["penetration"] < 0.001)


def _bounce_apex_m(e: float, drop_m: float, radius: float = 0.05) -> float:
    stage = new_stage()
    ball = material(stage, "ball", restitution=e)
    shape(stage, "/World/ball", "Sphere", (0.0, 0.0, drop_m + radius), body="dynamic", physics_material=ball,
          radius=radius)  # fmt: skip
    world = PhysicsWorld(stage, DT, ground_plane=True)
    apex, touched = 0.0, False
    for _ in range(int(1.5 / DT)):
        world.step(1)
        touched = touched or world.data.ncon > 0
        if touched and world.data.ncon == 0:
            apex = max(apex, _pos(world, "/World/ball")[2] - radius)
            if world.snapshot().linear_velocity_m_s[0][2] < 0:
                break
    return apex


@pytest.mark.parametrize("e", [0.3, 0.5, 0.8])
def test_restitution_bounces_to_e_squared_h(e: float) -> None:
    """physics_model's mapping: the mean rebound speed is e·v; a single impact varies with
    where in a step the contact begins (±0.08·v at e = 0.3, less above). Over drop heights
    that spread the onset across a step, √(apex/h) averages to e within 0.015 and each drop
    bounces to (e ± 0.08)²·h."""
    drops = np.linspace(0.3, 0.7, 21)
    rebound = np.sqrt([_bounce_apex_m(e, h) / h for h in drops])
    assert rebound.mean() == pytest.approx(e, abs=0.015)
    assert np.all(np.abs(rebound - e) <= 0.08), rebound


def test_zero_restitution_barely_bounces() -> None:
    """e = 0 maps to the most damping MuJoCo accepts; rebounds stay under 0.1·v (1% of h)."""
    assert restitution_damping(0.0) == pytest.approx(1.2)
    drops = np.linspace(0.35, 0.65, 5)
    assert all(_bounce_apex_m(0.0, h) < 0.01 * h for h in drops)


def _incline_slide_m(mu: float, angle_deg: float) -> float:
    stage = new_stage()
    mat = material(stage, "m", friction=mu)
    q = axis_angle_quat((0.0, 1.0, 0.0), angle_deg)
    shape(stage, "/World/ramp", "Cube", (0.0, 0.0, 0.0), q, (2.0, 1.0, 0.1), physics_material=mat, size=1.0)
    normal = np.array([math.sin(math.radians(angle_deg)), 0.0, math.cos(math.radians(angle_deg))])
    shape(
        stage, "/World/box", "Cube", tuple(normal * 0.1), q, (0.1, 0.1, 0.1),
        body="dynamic", mass_kg=1.0, physics_material=mat, size=1.0,
    )  # fmt: skip
    world = PhysicsWorld(stage, DT)
    world.step(100)
    start = _pos(world, "/World/box")
    world.step(500)
    return float(np.linalg.norm(_pos(world, "/World/box") - start))


def test_box_on_incline_sticks_below_and_slides_above_tan_theta_equal_mu() -> None:
    mu = 0.5
    below, above = math.degrees(math.atan(0.9 * mu)), math.degrees(math.atan(1.1 * mu))
    assert _incline_slide_m(mu, below) < 0.002  # soft contacts creep well under a millimetre per second
    assert _incline_slide_m(mu, above) > 0.05


def test_kinematic_body_follows_its_path_and_pushes_a_dynamic_one() -> None:
    import json

    from pxr import Sdf

    stage = new_stage()
    path = [
        {"time_s": 0.0, "position_m": [-0.3, 0.0, 0.05], "quat_wxyz": [1, 0, 0, 0]},
        {"time_s": 1.0, "position_m": [0.2, 0.0, 0.05], "quat_wxyz": list(axis_angle_quat((0, 0, 1), 90))},
    ]
    pusher = shape(stage, "/World/pusher", "Cube", (-0.3, 0.0, 0.05), body="kinematic", size=0.1)
    pusher.CreateAttribute("scenesmith:physics:path", Sdf.ValueTypeNames.String).Set(json.dumps(path))
    shape(stage, "/World/box", "Cube", (0.0, 0.0, 0.05), body="dynamic", mass_kg=0.5, size=0.1)
    world = PhysicsWorld(stage, DT, ground_plane=True)
    world.step(int(0.5 / DT))
    np.testing.assert_allclose(_pos(world, "/World/pusher"), [-0.05, 0.0, 0.05], atol=1e-9)
    expected_q = axis_angle_quat((0, 0, 1), 45)
    assert abs(np.dot(_quat(world, "/World/pusher"), expected_q)) == pytest.approx(1.0, abs=1e-9)
    state = world.snapshot()
    k = world.bodies.index("/World/pusher")
    np.testing.assert_allclose(state.linear_velocity_m_s[k], [0.5, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(state.angular_velocity_rad_s[k], [0.0, 0.0, math.pi / 2], atol=1e-6)
    world.step(int(0.5 / DT))
    assert _pos(world, "/World/box")[0] > 0.1  # shoved along +x from 0.0


def test_mass_wins_over_density_and_density_sets_mass() -> None:
    stage = new_stage()
    shape(stage, "/World/a", "Cube", (0, 0, 1), body="dynamic", mass_kg=2.0, density=10.0, size=0.1)
    shape(stage, "/World/b", "Cube", (1, 0, 1), body="dynamic", density=500.0, size=0.1)
    shape(stage, "/World/c", "Sphere", (2, 0, 1), body="dynamic", radius=0.1)
    model = build_model(stage, DT).model
    assert model.body("/World/a").mass[0] == pytest.approx(2.0)
    assert model.body("/World/b").mass[0] == pytest.approx(500.0 * 0.1**3)
    assert model.body("/World/c").mass[0] == pytest.approx(1000.0 * 4 / 3 * math.pi * 0.1**3, rel=1e-6)


def test_colliders_map_to_mujoco_shapes() -> None:
    import mujoco

    stage = new_stage()
    shape(stage, "/World/cube", "Cube", (0, 0, 1), scale=(1, 2, 3), body="dynamic", size=0.2)
    shape(stage, "/World/ell", "Sphere", (1, 0, 1), scale=(1, 1, 2), body="dynamic", radius=0.1)
    shape(stage, "/World/cyl", "Cylinder", (2, 0, 1), body="dynamic", radius=0.1, height=0.4, axis="X")
    shape(stage, "/World/cap", "Capsule", (3, 0, 1), body="dynamic", radius=0.05, height=0.2)
    shape(stage, "/World/cone", "Cone", (4, 0, 1), body="dynamic", radius=0.1, height=0.2)
    model = build_model(stage, DT).model
    g = mujoco.mjtGeom
    types = [model.geom_type[model.body_geomadr[model.body(p).id]] for p in
             ("/World/cube", "/World/ell", "/World/cyl", "/World/cap", "/World/cone")]  # fmt: skip
    assert types == [g.mjGEOM_BOX, g.mjGEOM_ELLIPSOID, g.mjGEOM_CYLINDER, g.mjGEOM_CAPSULE, g.mjGEOM_MESH]
    np.testing.assert_allclose(model.geom_size[model.body_geomadr[model.body("/World/cube").id]], [0.1, 0.2, 0.3])
    # a cylinder along USD's X is MuJoCo's z-axis turned onto x: its world z-axis is ±x
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    axis = data.geom_xmat[model.body_geomadr[model.body("/World/cyl").id]].reshape(3, 3)[:, 2]
    assert abs(axis[0]) == pytest.approx(1.0)


def test_drop_scene_builds_with_its_flat_ground_and_settles(fixtures_dir: Path) -> None:
    """The fixture has no physics materials: MuJoCo's default rolling friction (0.1 mm) lets
    spheres and cylinders roll for a long time, as the bake-off saw in every engine; its
    settle criterion (2 cm/s) is used here."""
    import mujoco
    from pxr import Usd

    stage = Usd.Stage.Open(str(fixtures_dir / "reference-scene" / "drop_scene.usda"))
    world = PhysicsWorld(stage, DT)
    assert len(world.bodies) == 30
    ground = world.colliders.index("/World/ground")
    assert world.model.geom_type[ground] == mujoco.mjtGeom.mjGEOM_BOX  # the flat mesh became a thin box
    np.testing.assert_allclose(world.data.geom_xpos[ground][2] + world.model.geom_size[ground][2], 0.0, atol=1e-12)
    table = Support(
        "/World/table", convex_hull_2d(np.array([[-0.6, -0.4], [0.6, -0.4], [0.6, 0.4], [-0.6, 0.4]])), 0.75
    )
    world.set_supports(dict.fromkeys(world.bodies, table))
    log = PhysicsLog(every=10)
    status, settle_s = world.settle(0.02, math.radians(30.0), 0.1, 15.0, log)
    assert status == "settled", settle_s
    state = world.snapshot()
    fell, left = world.off_support(state.position_m)
    on_ground = state.position_m[fell][:, 2] < 0.2
    assert not left.any() and on_ground.all()
    assert np.all(state.position_m[~fell][:, 2] > 0.75)
    assert world.contacts()["penetration"].max() < 0.005
    arrays = log.take(world.body_frame_mask)
    assert step_rows({"body_paths": world.bodies, **arrays}, "step_position_m").shape == (
        len(arrays["step_index"]),
        30,
        3,
    )


def _box_across_the_table_edge() -> PhysicsWorld:
    """A 4.9 cm box lying across the long edge of ``tabletop.yaml``'s table, yawed 64°, as the
    example's frame 10 dropped it: MuJoCo's box-box contact between the two alternates between
    four points and one every 17 steps, so the box rocks in place for ever (±0.07 mm) with
    angular-velocity spikes of 20 deg/s."""
    stage = new_stage()
    shape(stage, "/World/table", "Cube", (0.0, 0.0, 0.375), scale=(1.2, 0.8, 0.75), size=1.0)
    shape(stage, "/World/box", "Cube", (0.59213, -0.23612, 0.77449), (1e-05, 0.84656, 0.53229, -1e-04),
          scale=(0.98, 0.98, 0.98), body="dynamic", density=600.0, size=0.05)  # fmt: skip
    return PhysicsWorld(stage, DT)


def test_a_box_chattering_in_place_across_the_table_edge_is_settled() -> None:
    """Settling judges net motion over the hold time as well as velocity: contact chatter that
    goes nowhere must not run the settle into its cap (issue 14, item 16)."""
    world = _box_across_the_table_edge()
    start = _pos(world, "/World/box")
    status, settle_s = world.settle(0.01, math.radians(5.0), 0.1, 4.0)
    assert status == "settled" and settle_s < 1.0, settle_s
    assert np.linalg.norm(_pos(world, "/World/box") - start) < 0.001
    # it is the chatter case: the instantaneous angular speed keeps crossing the threshold
    spikes = []
    for _ in range(40):
        world.step(1)
        spikes.append(np.degrees(np.linalg.norm(world.dynamic_velocities()[1][0])))
    assert max(spikes) > 10.0


def test_a_body_gliding_just_over_the_speed_threshold_is_not_settled() -> None:
    """The net-motion test does not excuse real motion: 1.5 cm/s on frictionless ice, steadily."""
    stage = new_stage()
    ice = material(stage, "ice", friction=0.0)
    shape(stage, "/World/ground", "Cube", (0.0, 0.0, -0.5), scale=(20.0, 20.0, 1.0), physics_material=ice, size=1.0)
    shape(stage, "/World/puck", "Cube", (0.0, 0.0, 0.05), body="dynamic", physics_material=ice, size=0.1,
          velocity=(0.015, 0.0, 0.0))  # fmt: skip
    world = PhysicsWorld(stage, DT)
    assert world.settle(0.01, math.radians(5.0), 0.1, 1.0) == ("cap_reached", 1.0)
    assert world.dynamic_velocities()[0][0, 0] == pytest.approx(0.015, rel=0.05)


def test_pose_window_net_speeds() -> None:
    from scenesmith.runtime.physics_world import _PoseWindow

    window = _PoseWindow(steps=4, duration_s=0.2)
    for k in range(7):  # 1 cm and 1° per step about z, wrapping the ring
        q = np.array(axis_angle_quat((0, 0, 1), float(k)))
        window.push(np.array([[0.01 * k, 0.0, 0.0]]), q[None])
        net = window.net_velocities()
        assert (net is None) == (k < 4)
    lin, ang = net
    np.testing.assert_allclose(lin, [[0.04 / 0.2, 0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(ang, [math.radians(4.0) / 0.2], rtol=1e-9)
    window.push(np.array([[0.06, 0.0, 0.0]]), -np.array(axis_angle_quat((0, 0, 1), 6.0))[None])  # −q: same rotation
    np.testing.assert_allclose(window.net_velocities()[1], [math.radians(3.0) / 0.2], rtol=1e-9)


def test_write_back_puts_settled_poses_on_the_stage() -> None:
    from pxr import UsdGeom

    stage = new_stage()
    shape(stage, "/World/box", "Cube", (0.0, 0.0, 0.3), axis_angle_quat((1, 1, 0), 30), body="dynamic", size=0.1)
    world = PhysicsWorld(stage, DT, ground_plane=True)
    world.settle(0.01, math.radians(5.0), 0.1, 3.0)
    world.write_back()
    matrix = np.asarray(UsdGeom.XformCache().GetLocalToWorldTransform(stage.GetPrimAtPath("/World/box")))
    np.testing.assert_allclose(matrix[3, :3], _pos(world, "/World/box"), atol=1e-9)
    # resting on a face: the lowest corner touches the ground
    corners = np.array([[x, y, z, 1.0] for x in (-0.05, 0.05) for y in (-0.05, 0.05) for z in (-0.05, 0.05)])
    assert (corners @ matrix)[:, 2].min() == pytest.approx(0.0, abs=0.001)


# ---------------------------------------------------------------------------- bad input

BAD_USDA = """#usda 1.0
(
    metersPerUnit = 1
    upAxis = "Z"
)

def Xform "World"
{{
{body}
}}
"""


_RIGID = 'prepend apiSchemas = ["PhysicsRigidBodyAPI", "PhysicsCollisionAPI"'


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("negative_mass", f'def Cube "box" ({_RIGID}, "PhysicsMassAPI"])\n{{\n    float physics:mass = -1\n}}',
         "negative mass"),
        ("zero_size", f'def Cube "box" ({_RIGID}])\n{{\n    double size = 0\n}}', "zero"),
        ("no_collider", 'def Cube "box" (prepend apiSchemas = ["PhysicsRigidBodyAPI"])\n{\n}', "without a collider"),
        (
            "flat_dynamic_mesh",
            f'def Mesh "box" ({_RIGID}])\n{{\n    int[] faceVertexCounts = [4]\n'
            "    int[] faceVertexIndices = [0, 1, 2, 3]\n"
            "    point3f[] points = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)]\n}",
            "flat mesh",
        ),
    ],
)  # fmt: skip
def test_bad_physics_input_names_file_line_and_prim(tmp_path: Path, name: str, body: str, message: str) -> None:
    from pxr import Usd

    path = tmp_path / f"{name}.usda"
    path.write_text(BAD_USDA.format(body="    " + body.replace("\n", "\n    ")))
    stage = Usd.Stage.Open(str(path))
    with pytest.raises(BadInputError) as err:
        build_model(stage, DT)
    text = str(err.value)
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if '"box"' in row)
    assert text.startswith(f"{path}:{line}:1: /World/box (physics): "), text
    assert message in text


def test_invalid_physics_material_is_rejected_naming_the_prim() -> None:
    stage = new_stage()
    bouncy = material(stage, "bouncy", restitution=1.5)
    shape(stage, "/World/ball", "Sphere", (0, 0, 1), body="dynamic", physics_material=bouncy)
    with pytest.raises(BadInputError, match=r"/World/ball \(physics\): invalid physics material /World/Looks/bouncy"):
        build_model(stage, DT)


def test_velocities_are_reported_in_the_world_frame() -> None:
    """A spinning, drifting sphere in free space keeps its world angular velocity (isotropic
    inertia), whatever its orientation; the log agrees with the snapshot."""
    from pxr import Gf, UsdPhysics

    stage = new_stage()
    prim = shape(stage, "/World/ball", "Sphere", (0, 0, 1), axis_angle_quat((1, 2, 3), 70), body="dynamic",
                 velocity=(0.1, 0.2, 0.0), radius=0.1)  # fmt: skip
    UsdPhysics.RigidBodyAPI(prim).CreateAngularVelocityAttr(Gf.Vec3f(0.0, 30.0, 90.0))  # deg/s, world
    world = PhysicsWorld(stage, DT, gravity_m_s2=(0.0, 0.0, 0.0))
    log = PhysicsLog(every=7)
    world.step(200, log)
    state = world.snapshot()
    expected = np.radians([0.0, 30.0, 90.0])
    np.testing.assert_allclose(state.angular_velocity_rad_s[0], expected, atol=1e-9)
    np.testing.assert_allclose(state.linear_velocity_m_s[0], [0.1, 0.2, 0.0], atol=1e-12)
    logged = log.take(world.body_frame_mask)
    assert len(logged["step_index"]) == 200 // 7
    np.testing.assert_allclose(logged["step_angular_velocity_rad_s"], np.tile(expected, (200 // 7, 1)), atol=1e-9)
