"""The documented instance limit runs (issue 14, item 4).

``count: 10000`` segfaulted in Open3D at ~1,100 instances: every instance owned a
``RaycastingScene`` (an Embree device) for the occlusion pass. Scenes of identical local
geometry are now shared and at most ``ALONE_SCENES_LIVE`` are alive at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from scenesmith.runtime.embedded.scene import AloneScenes, build_raycasting_scene
from scenesmith.scenarios.model import MAX_INSTANCES

LIMIT_SCENE = f"""\
version: 1
assets:
  floor: {{plane: {{width_m: 10.0, length_m: 10.0}}}}
  box:
    cube: {{size_m: 0.02}}
    count: {MAX_INSTANCES - 1}
    semantics: {{class: box}}
lights:
  sun: {{type: distant, intensity: 3.0, rotation_deg: [30.0, 10.0, 0.0]}}
cameras:
  cam:
    resolution: [32, 24]
    position_m: [0.0, -4.0, 3.0]
    look_at_m: [0.0, 0.0, 0.0]
randomizers:
  spread:
    kind: pose
    targets: [box]
    position_m: {{uniform: {{lower: [-2.0, -2.0, 0.01], upper: [2.0, 2.0, 0.01]}}}}
"""


def _ray_hits(scene: object, origins: np.ndarray) -> np.ndarray:
    import open3d as o3d

    rays = np.hstack([origins, np.tile([0.0, 0.0, -1.0], (len(origins), 1))]).astype(np.float32)
    return scene.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()  # type: ignore[attr-defined]


def test_identical_geometry_shares_one_scene_and_live_scenes_are_bounded() -> None:
    store = AloneScenes(live=8)
    tri = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    faces = np.array([[0, 1, 2]])
    same = {store.add(tri, faces) for _ in range(100)}
    assert len(same) == 1
    # 2,000 distinct triangles, each at its own height: over the ~1,100 live Embree devices that
    # crashed a process, but never more than 8 alive
    keys = [store.add(tri + [0.0, 0.0, 0.001 * k], faces) for k in range(2000)]
    origin = np.array([[0.2, 0.2, 10.0]])
    for k, key in enumerate(keys):
        t_hit = _ray_hits(store.get(key), origin)
        assert t_hit[0] == pytest.approx(10.0 - 0.001 * k, abs=1e-5)
        assert store.alive <= 8
    assert store.built == 2000
    # an evicted scene is rebuilt from its triangles and casts the same as a fresh one
    fresh = build_raycasting_scene(tri + [0.0, 0.0, 0.0], faces)
    np.testing.assert_array_equal(_ray_hits(store.get(keys[0]), origin), _ray_hits(fresh, origin))
    assert store.built == 2001


@pytest.mark.slow
def test_a_frame_at_the_instance_limit_generates(tmp_path: Path) -> None:
    scenario = tmp_path / "limit.yaml"
    scenario.write_text(LIMIT_SCENE, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("generate", str(scenario), "-o", str(out), "--frames", "1", "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    coco = json.loads((out / "coco" / "annotations" / "instances_train.json").read_text())
    # hundreds of the 9,999 small boxes are in view of the 32 × 24 camera, each labelled
    assert len(coco["annotations"]) > 100
    assert run_cli("verify", str(out)).returncode == 0
