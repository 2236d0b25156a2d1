"""The scenesmith panel (``omni.ui``): open a scenario, choose seed, frames, output folder and
backend options, preview a frame in the viewport, generate with progress and cancel.

Validation errors appear in the panel exactly as the CLI prints them (file:line:col: key:
message). Every widget a test drives carries an ``identifier`` (see :data:`IDS`) for
``omni.kit.ui_test`` queries such as ``"scenesmith//Frame/**/Button[*].identifier=='…'"``.
Generation runs as an asyncio task on Kit's loop; cancel stops after the current frame and
keeps the published shards (generate again with "resume" to finish).

Kit only (omni.ui is imported when the window is built); never run on our machines.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

from ..runtime.isaac.backend import RENDERERS
from ..sensors.errors import BadInputError

__all__ = ["IDS", "MODES", "SETTINGS", "WINDOW_TITLE", "PanelState", "ScenesmithPanel"]

log = logging.getLogger(__name__)

WINDOW_TITLE = "scenesmith"
SETTINGS = "/exts/scenesmith"
"""carb settings root of the ``[settings]`` in extension.toml."""
MODES = ("deterministic", "replicator")
IDS = {
    "scenario": "scenesmith_scenario_path",
    "open": "scenesmith_open",
    "seed": "scenesmith_seed",
    "frames": "scenesmith_frames",
    "output": "scenesmith_output_dir",
    "rt_subframes": "scenesmith_rt_subframes",
    "renderer": "scenesmith_renderer",
    "mode": "scenesmith_randomization_mode",
    "resume": "scenesmith_resume",
    "preview": "scenesmith_preview",
    "generate": "scenesmith_generate",
    "cancel": "scenesmith_cancel",
    "open_output": "scenesmith_open_output",
    "status": "scenesmith_status",
    "progress": "scenesmith_progress",
}


@dataclasses.dataclass
class PanelState:
    """What the panel holds between clicks (kept apart from the widgets so logic is plain)."""

    document: Any = None
    status: str = "open a scenario (.yaml)"
    running: bool = False
    cancel_requested: bool = False
    done: int = 0
    total: int = 0


def _with_isaac_options(document: Any, mode: str, rt_subframes: int, renderer: str) -> Any:
    """The document with the panel's backend options in its ``isaac`` section (they are part
    of the scenario, so its digest and the run's folder record them)."""
    scenario = document.scenario
    isaac = scenario.isaac.model_copy(
        update={"randomization_mode": mode, "rt_subframes": rt_subframes, "renderer": renderer}
    )
    return dataclasses.replace(document, scenario=scenario.model_copy(update={"isaac": isaac}))


class ScenesmithPanel:
    """The window and its behaviour."""

    def __init__(self) -> None:
        self.state = PanelState()
        self.window: Any = None
        self.widgets: dict[str, Any] = {}
        self.task: asyncio.Future[Any] | None = None
        self.backend: Any = None

    # ------------------------------------------------------------------ layout

    def build(self) -> Any:
        import omni.ui as ui

        self.window = ui.Window(WINDOW_TITLE, width=460, height=520)
        w = self.widgets
        with self.window.frame:
            with ui.VStack(spacing=5, height=0):
                with ui.HStack(height=0):
                    ui.Label("scenario", width=110)
                    w["scenario"] = ui.StringField(identifier=IDS["scenario"])
                    ui.Button("open", width=60, clicked_fn=self.on_open, identifier=IDS["open"])
                # one labelled field per row: (label, key, widget factory)
                rows = (
                    ("seed", "seed", lambda i: ui.IntField(identifier=i)),
                    ("frames", "frames", lambda i: ui.IntField(identifier=i)),
                    ("output folder", "output", lambda i: ui.StringField(identifier=i)),
                    ("rt_subframes", "rt_subframes", lambda i: ui.IntField(identifier=i)),
                    ("renderer", "renderer", lambda i: ui.ComboBox(0, *RENDERERS, identifier=i).model),
                    ("randomization", "mode", lambda i: ui.ComboBox(0, *MODES, identifier=i).model),
                    ("resume a run", "resume", lambda i: ui.CheckBox(identifier=i).model),
                )
                for label, key, factory in rows:
                    with ui.HStack(height=0):
                        ui.Label(label, width=110)
                        w[key] = factory(IDS[key])
                with ui.HStack(height=0):
                    ui.Button("preview frame", clicked_fn=self.on_preview, identifier=IDS["preview"])
                    ui.Button("generate", clicked_fn=self.on_generate, identifier=IDS["generate"])
                    ui.Button("cancel", clicked_fn=self.on_cancel, identifier=IDS["cancel"])
                    ui.Button("open output", clicked_fn=self.on_open_output, identifier=IDS["open_output"])
                w["progress"] = ui.ProgressBar(identifier=IDS["progress"]).model
                w["status"] = ui.Label(self.state.status, word_wrap=True, identifier=IDS["status"])
        import carb

        settings = carb.settings.get_settings()
        w["seed"].model.set_value(0)
        w["frames"].model.set_value(int(settings.get(f"{SETTINGS}/default_frames") or 10))
        w["output"].model.set_value(str(settings.get(f"{SETTINGS}/default_output_dir") or "scenesmith_out"))
        w["rt_subframes"].model.set_value(8)
        return self.window

    def _set_status(self, text: str) -> None:
        self.state.status = text
        if "status" in self.widgets:
            self.widgets["status"].text = text

    def _value(self, key: str) -> Any:
        widget = self.widgets[key]
        if key in ("seed", "frames", "rt_subframes"):
            return widget.model.get_value_as_int()
        if key in ("renderer", "mode"):
            return widget.get_item_value_model().as_int
        if key == "resume":
            return widget.get_value_as_bool()
        return widget.model.get_value_as_string()

    # ------------------------------------------------------------------ actions

    def on_open(self) -> None:
        from ..scenarios.loader import parse

        path = self._value("scenario").strip()
        try:
            self.state.document = parse(path)
        except BadInputError as err:
            self.state.document = None
            self._set_status(str(err))
            return
        except OSError as err:
            self.state.document = None
            self._set_status(f"{path}: {err.strerror}")
            return
        s = self.state.document.scenario
        if s.output.frames:
            self.widgets["frames"].model.set_value(int(s.output.frames))
        self.widgets["rt_subframes"].model.set_value(int(s.isaac.rt_subframes))
        self._set_status(f"ok: {path} ({len(s.cameras)} cameras, {len(s.lidars)} LiDARs)")

    def _document(self) -> Any:
        return _with_isaac_options(
            self.state.document,
            MODES[self._value("mode")],
            max(1, self._value("rt_subframes")),
            RENDERERS[self._value("renderer")],
        )

    def _backend(self) -> Any:
        from ..runtime.isaac.backend import IsaacBackend

        out = Path(self._value("output") or "scenesmith_out")
        return IsaacBackend(work_dir=out.parent / f".{out.name}.kit")

    def on_preview(self) -> None:
        if self.state.document is None or self.state.running:
            self._set_status("open a scenario first" if self.state.document is None else "busy")
            return
        self.task = asyncio.ensure_future(self._preview())

    async def _preview(self) -> None:
        from ..runtime.isaac.session import preview_async

        self.state.running = True
        try:
            if self.backend is None:
                self.backend = self._backend()
            payload = await preview_async(self._document(), self._value("seed"), 0, self.backend)
            labelled = sum(
                len(v.get("primPaths", [])) for v in payload["annotators"].get("bounding_box_2d_tight", {}).values()
            )
            self._set_status(f"frame 0 in the viewport; {labelled} labelled boxes")
        except BadInputError as err:
            self._set_status(str(err))
        except Exception as err:
            log.exception("preview failed")
            self._set_status(f"preview failed: {err}")
        finally:
            self.state.running = False

    def on_generate(self) -> None:
        if self.state.document is None or self.state.running:
            self._set_status("open a scenario first" if self.state.document is None else "busy")
            return
        self.task = asyncio.ensure_future(self._generate())

    async def _generate(self) -> None:
        from ..runtime.isaac.session import GenerationCancelledError, generate_async
        from ..runtime.run.pipeline import GenerateOptions

        self.state.running, self.state.cancel_requested = True, False
        opts = GenerateOptions(
            out=Path(self._value("output") or "scenesmith_out"),
            start=0,
            stop=max(1, self._value("frames")),
            seed=self._value("seed"),
            resume=bool(self._value("resume")),
            backend="isaac",
            progress=False,
        )
        if self.backend is not None:
            self.backend.close()
            self.backend = None
        try:
            result = await generate_async(
                self._document(), opts, self._backend(), self._progress, lambda: self.state.cancel_requested
            )
            self._set_status(f"wrote {result.frames} frames to {opts.out}")
        except GenerationCancelledError as err:
            self._set_status(f"{err}; published shards kept, tick 'resume a run' and generate to finish")
        except BadInputError as err:
            self._set_status(str(err))
        except Exception as err:
            log.exception("generation failed")
            self._set_status(f"generation failed: {err}; published shards kept")
        finally:
            self.state.running = False

    def _progress(self, done: int, total: int) -> None:
        self.state.done, self.state.total = done, total
        self.widgets["progress"].set_value(done / max(1, total))
        self._set_status(f"generating: {done}/{total} frames")

    def on_cancel(self) -> None:
        if self.state.running:
            self.state.cancel_requested = True
            self._set_status("cancelling after this frame")

    def on_open_output(self) -> None:
        import webbrowser

        out = Path(self._value("output") or "scenesmith_out").resolve()
        if out.is_dir():
            webbrowser.open(out.as_uri())
        else:
            self._set_status(f"{out} does not exist yet")

    def destroy(self) -> None:
        if self.task is not None and not self.task.done():
            self.state.cancel_requested = True
            self.task.cancel()
        if self.backend is not None:
            self.backend.close()
            self.backend = None
        if self.window is not None:
            self.window.destroy()
            self.window = None
        self.widgets.clear()
