"""Kit tests for scenesmith in Isaac Sim 5.1 (``omni.kit.test``; need Kit, never run by pytest).

- startup/shutdown register and remove our writers and menu entry, leaving no task running;
- the panel opens, its widgets are found by identifier, a bad scenario shows file:line errors;
- a 3-frame generation of ``config/scenarios/tabletop.yaml`` on the Isaac backend writes a
  verified run (without the example's LiDAR realism models, which Isaac mode refuses);
- ``render`` of a path-traced scenario reaches RTX's path-tracing settings;
- PoseWriter parity on ``config/scenarios/pose_writer_parity.yaml`` against Isaac Sim's golden
  output (set ``SCENESMITH_FIXTURES`` to the ``shared/fixtures`` folder).

Written against Isaac Sim 5.1; they have not run yet (no Isaac Sim on our machines).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.replicator.core as rep

from ... import config_path
from ...runtime.isaac.backend import IsaacBackend
from ...runtime.isaac.rep_writers import WRITER_CLASS_NAMES
from ...runtime.isaac.session import generate_async
from ...runtime.run.manifest import verify_folder
from ...runtime.run.pipeline import GenerateOptions
from ...runtime.usd.resolve import resolve
from ...scenarios.loader import build, parse
from ..extension import make_extension_class
from ..kit_test_scenarios import tabletop_for_isaac
from ..panel import IDS, WINDOW_TITLE

__all__ = ["TestGeneration", "TestLifecycle", "TestPanel", "TestPoseWriterParity", "TestRenderSettings"]


def _ours_registered() -> set[str]:
    return set(WRITER_CLASS_NAMES.values()) & set(rep.WriterRegistry._writers)


class TestLifecycle(omni.kit.test.AsyncTestCase):
    async def test_startup_registers_and_shutdown_removes_everything(self) -> None:
        tasks_before = set(asyncio.all_tasks())
        ext = make_extension_class()()
        ext.on_startup("scenesmith-test")
        self.assertEqual(_ours_registered(), set(WRITER_CLASS_NAMES.values()))
        panel = ext.show_panel()
        await omni.kit.app.get_app().next_update_async()
        self.assertTrue(panel.window.visible)
        ext.on_shutdown()
        await omni.kit.app.get_app().next_update_async()
        self.assertEqual(_ours_registered(), set())
        self.assertIsNone(panel.window)
        leaked = {t for t in asyncio.all_tasks() - tasks_before if not t.done()}
        self.assertEqual(leaked, set())


class TestPanel(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        self.ext = make_extension_class()()
        self.ext.on_startup("scenesmith-test")
        self.panel = self.ext.show_panel()
        await omni.kit.app.get_app().next_update_async()

    async def tearDown(self) -> None:
        self.ext.on_shutdown()

    async def test_widgets_are_found_by_identifier_and_bad_input_is_shown(self) -> None:
        for identifier in IDS.values():
            widget = ui_test.find(f"{WINDOW_TITLE}//Frame/**/*[*].identifier=='{identifier}'")
            self.assertIsNotNone(widget, identifier)
        bad = Path(tempfile.mkdtemp()) / "bad.yaml"
        bad.write_text("version: 1\nassets:\n  box:\n    cube: {size_m: -1}\n")
        field = ui_test.find(f"{WINDOW_TITLE}//Frame/**/StringField[*].identifier=='{IDS['scenario']}'")
        await field.input(str(bad))
        await ui_test.find(f"{WINDOW_TITLE}//Frame/**/Button[*].identifier=='{IDS['open']}'").click()
        await ui_test.human_delay()
        self.assertIn(f"{bad}:4:", self.panel.state.status)
        self.assertIn("assets.box.cube.size_m", self.panel.state.status)


class TestGeneration(omni.kit.test.AsyncTestCase):
    async def test_three_frames_of_tabletop(self) -> None:
        out = Path(tempfile.mkdtemp()) / "tabletop"
        doc = tabletop_for_isaac()  # its LiDAR realism models are refused in Isaac mode
        opts = GenerateOptions(out=out, start=0, stop=3, seed=0, shard_size=3, backend="isaac", progress=False)
        seen: list[int] = []
        result = await generate_async(doc, opts, IsaacBackend(work_dir=out.parent / "kit"), lambda d, t: seen.append(d))
        self.assertEqual(result.frames, 3)
        self.assertEqual(seen, [1, 2, 3])
        self.assertTrue(verify_folder(out).ok)
        manifest = json.loads((out / "manifest.json").read_text())
        self.assertEqual(sorted(manifest["frame_hashes"]), ["0", "1", "2"])


class TestRenderSettings(omni.kit.test.AsyncTestCase):
    async def test_the_path_engines_samples_bounces_and_denoiser_reach_rtx(self) -> None:
        import carb

        render = {"engine": "path", "samples_per_pixel": 3, "max_bounces": 2, "denoise": False}
        doc = build({"version": 1, "assets": {"box": {"cube": {}}}, "render": render})
        await IsaacBackend(work_dir=Path(tempfile.mkdtemp())).build_async(resolve(doc))
        settings = carb.settings.get_settings()
        self.assertEqual(settings.get("/rtx/rendermode"), "PathTracing")
        for key in ("spp", "totalSpp", "clampSpp"):
            self.assertEqual(settings.get(f"/rtx/pathtracing/{key}"), 3)
        self.assertEqual(settings.get("/rtx/pathtracing/maxBounces"), 2)
        self.assertFalse(settings.get("/rtx/pathtracing/optixDenoiser/enabled"))


class TestPoseWriterParity(omni.kit.test.AsyncTestCase):
    async def test_pose_json_matches_isaac_sims_golden(self) -> None:
        fixtures = os.environ.get("SCENESMITH_FIXTURES")
        self.assertTrue(fixtures, "set SCENESMITH_FIXTURES to the shared/fixtures folder")
        golden_dir = Path(fixtures) / "isaacsim-6.0.1" / "pose_writer_pinhole"
        out = Path(tempfile.mkdtemp()) / "parity"
        doc = parse(config_path("scenarios", "pose_writer_parity.yaml"))
        opts = GenerateOptions(out=out, start=0, stop=1, seed=0, backend="isaac", progress=False)
        await generate_async(doc, opts, IsaacBackend(work_dir=out.parent / "kit"))
        for rp, camera in (("rp1", "PinholeCamera1"), ("rp2", "PinholeCamera2")):
            golden = json.loads((golden_dir / rp / "000000.json").read_text())
            ours = json.loads((out / "pose" / camera / "000000.json").read_text())
            by_path = {o["prim_path"]: o for o in ours["objects"]}
            for obj in golden["objects"]:
                mine = by_path[obj["prim_path"]]
                for key in ("location_world_frame", "cuboid_keypoints_world_frame", "size", "local_to_world_transform"):
                    np.testing.assert_allclose(mine[key], obj[key], rtol=1e-5, atol=1e-5, err_msg=f"{rp} {key}")
                self.assertAlmostEqual(mine["visibility"], obj["visibility"], delta=0.02)
