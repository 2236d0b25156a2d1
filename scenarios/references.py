"""Checks that need the whole scenario: names, cross-references, files and size limits.

These run after the model validated, on the same data, and report with the same
``FILE:LINE:COL: key`` positions. They stay pure: files are only located and measured in
size, never opened by a mesh or USD reader (that happens in ``runtime.usd.resolve``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..sensors.errors import Issue, format_got
from .asset_paths import AssetPathError, confine
from .model import MAX_INSTANCES, Scenario
from .prim_paths import STEREO_ROLES
from .randomizers import TARGET_KINDS, RandomizerKind
from .targets import match_targets
from .yaml_source import Loc, SourceMap

__all__ = [
    "MESH_SUFFIXES",
    "PROFILE_SUFFIXES",
    "RESERVED_NAMES",
    "HDR_TEXTURE_SUFFIXES",
    "TEXTURE_SUFFIXES",
    "USD_SUFFIXES",
    "CheckContext",
    "check_scenario",
    "expand_targets",
]

MESH_SUFFIXES = (".obj", ".ply", ".stl", ".gltf", ".glb")
USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")
TEXTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".hdr", ".exr")
HDR_TEXTURE_SUFFIXES = (".hdr", ".exr")
"""Linear HDR images: they light dome lights; a material's texture is an sRGB PNG or JPEG."""
PROFILE_SUFFIXES = (".json",)
RESERVED_NAMES = frozenset({"Lights", "Distractors", "Looks", "Base", "Physics", "Render"})
"""Children of ``/World`` that scenesmith authors itself."""


@dataclass
class CheckContext:
    base_dir: Path
    asset_roots: tuple[Path, ...] = ()
    shipped_profiles: frozenset[str] | None = None
    """Names of shipped LiDAR profiles; ``None`` when none are shipped (names not checked)."""
    files: dict[str, Path] = field(default_factory=dict)
    """Resolved asset files, filled by :func:`check_scenario` (raw path → real path)."""


def expand_targets(scenario: Scenario, kind: str, patterns: tuple[str, ...]) -> list[str]:
    """Names matched by ``patterns`` in the sections a randomizer ``kind`` may target, sorted."""
    return match_targets(scenario, TARGET_KINDS[kind], patterns)


class _Checker:
    def __init__(self, scenario: Scenario, smap: SourceMap, ctx: CheckContext) -> None:
        self.s = scenario
        self.smap = smap
        self.ctx = ctx
        self.issues: list[Issue] = []

    def add(self, loc: Loc, message: str, expected: str | None = None, got: object = ..., at_key: bool = False) -> None:
        self.issues.append(self.smap.issue(loc, message, at_key=at_key, expected=expected, got=got))

    # ---- names -------------------------------------------------------------------
    def names(self) -> None:
        owners: dict[str, Loc] = {}
        for section in ("assets", "cameras", "lidars"):
            for name, item in getattr(self.s, section).items():
                loc: Loc = (section, name)
                if name in RESERVED_NAMES:
                    self.add(
                        loc,
                        f"'{name}' is reserved for scenesmith's own prims",
                        "a name other than " + ", ".join(sorted(RESERVED_NAMES)),
                        name,
                        at_key=True,
                    )
                count = getattr(item, "count", 1)
                prims = [name] if count == 1 else [f"{name}_{k:03d}" for k in range(count)]
                for prim in prims:
                    if prim in owners:
                        self.add(
                            loc,
                            f"prim name /World/{prim} is already used by {'.'.join(map(str, owners[prim]))}",
                            "names unique across assets, cameras and lidars",
                            name,
                            at_key=True,
                        )
                        break
                    owners[prim] = loc
        products: dict[str, str] = {}
        for name, cam in self.s.cameras.items():  # render products: /Render/<name>, a rig's two
            for product in [name] if cam.stereo is None else [f"{name}_{role}" for role in STEREO_ROLES]:
                if product in products:
                    self.add(
                        ("cameras", name),
                        f"render product {product} is already made by camera {products[product]}",
                        "camera names unique with stereo rigs' <name>_left and <name>_right",
                        name,
                        at_key=True,
                    )
                products[product] = name

    # ---- references ----------------------------------------------------------------
    def material(self, loc: Loc, name: str | None) -> None:
        if name is not None and name not in self.s.materials:
            self.add(loc, f"unknown material '{name}'", self.one_of(self.s.materials), name)

    def texture(self, loc: Loc, name: str | None) -> None:
        if name is not None and name not in self.s.textures:
            self.add(loc, f"unknown texture '{name}'", self.one_of(self.s.textures), name)

    def asset(self, loc: Loc, name: str | None) -> None:
        if name is not None and name not in self.s.assets:
            self.add(loc, f"unknown asset '{name}'", self.one_of(self.s.assets), name)

    @staticmethod
    def one_of(names: dict | set) -> str:
        listed = sorted(names)
        return "one of: " + ", ".join(listed) if listed else "a name defined in the scenario (none defined)"

    def references(self) -> None:
        for name, mat in self.s.materials.items():
            for key in ("diffuse_texture", "roughness_texture", "metallic_texture", "normal_texture"):
                texture = getattr(mat, key)
                self.texture(("materials", name, key), texture)
                tex = self.s.textures.get(texture or "")
                hdr_file = tex is not None and tex.file is not None and tex.file.lower().endswith(HDR_TEXTURE_SUFFIXES)
                if tex is not None and (hdr_file or tex.sky is not None):
                    self.add(
                        ("materials", name, key),
                        f"texture '{texture}' is an HDR {'image' if hdr_file else 'sky'}; only domes take it",
                        "a PNG, JPEG, checker or noise texture (values in [0, 1])",
                        tex.file or "sky",
                    )
        for name, pool in self.s.material_pools.items():
            for i, member in enumerate(pool):
                self.material(("material_pools", name, i), member)
        for name, asset in self.s.assets.items():
            self.material(("assets", name, "material"), asset.material)
        for name, light in self.s.lights.items():
            self.texture(("lights", name, "texture"), light.texture)
        for name, dist in self.s.distractors.items():
            for i, mat in enumerate(dist.materials or ()):
                self.material(("distractors", name, "materials", i), mat)
            self.asset(("distractors", name, "placement", "surface"), dist.placement.surface)
            if dist.placement.kind == "dropped" and not self.s.physics.enabled:
                self.add(
                    ("distractors", name, "placement", "kind"),
                    "dropped distractors need physics to settle",
                    "physics: {enabled: true}",
                    "dropped",
                )
        for name, rnd in self.s.randomizers.items():
            self.randomizer(name, rnd)
        self.physics()
        self.writers()

    def writers(self) -> None:
        """What an enabled writer cannot write (``Writer.scenario_problems``)."""
        from ..writers.registry import default_registry

        registry = default_registry()
        spec = self.s.output.writers
        for name in type(spec).model_fields:
            if getattr(spec, name) is not None:
                for loc, message, expected, got in registry.get(name).scenario_problems(self.s):
                    self.add(loc, f"the {name} writer: {message}", expected, got)

    def physics(self) -> None:
        p = self.s.physics
        if not p.enabled:
            return
        steps = p.episode.capture_interval_s / p.timestep_s
        if round(steps) < 1 or abs(round(steps) - steps) > 1e-6:
            self.add(
                ("physics", "episode", "capture_interval_s"),
                "the capture interval must be a whole number of physics steps",
                f"a multiple of physics.timestep_s ({p.timestep_s})",
                p.episode.capture_interval_s,
            )

    def randomizer(self, name: str, rnd: RandomizerKind) -> None:
        base: Loc = ("randomizers", name)
        kind = rnd.kind  # type: ignore[attr-defined]
        matched: list[str] = []
        for i, pattern in enumerate(rnd.targets):
            hits = match_targets(self.s, rnd.target_sections, (pattern,))
            if not hits:
                sections = " or ".join(rnd.target_sections)
                self.add(
                    (*base, "targets", i),
                    f"target '{pattern}' matches nothing a {kind} randomizer can change",
                    f"the name of one of the {sections}",
                    pattern,
                )
            matched += hits
        rnd.check_references(self, base, matched)

    # ---- files -------------------------------------------------------------------
    def _file(self, loc: Loc, raw: str | None, suffixes: tuple[str, ...]) -> None:
        if raw is None:
            return
        try:
            self.ctx.files[raw] = confine(raw, self.ctx.base_dir, self.ctx.asset_roots, suffixes)
        except AssetPathError as exc:
            self.add(loc, exc.message, exc.expected, exc.got)

    def files(self) -> None:
        self._file(("stage", "base_usd"), self.s.stage.base_usd, USD_SUFFIXES)
        for name, tex in self.s.textures.items():
            self._file(("textures", name, "file"), tex.file, TEXTURE_SUFFIXES)
        for loc, shape in self._shapes():
            if shape.mesh is not None:
                self._file((*loc, "mesh", "path"), shape.mesh.path, MESH_SUFFIXES)
            if shape.usd is not None:
                self._file((*loc, "usd", "path"), shape.usd.path, USD_SUFFIXES)
        for name, lidar in self.s.lidars.items():
            profile = lidar.profile
            if profile is None:
                continue
            loc = ("lidars", name, "profile")
            if profile.lower().endswith(PROFILE_SUFFIXES) or "/" in profile:
                self._file(loc, profile, PROFILE_SUFFIXES)
            elif self.ctx.shipped_profiles is not None and profile not in self.ctx.shipped_profiles:
                self.add(
                    loc,
                    f"unknown LiDAR profile '{profile}'",
                    "a shipped profile (scenesmith lidar-profiles) or a path to a .json profile",
                    profile,
                )

    def _shapes(self) -> Iterator[tuple[Loc, object]]:
        for name, asset in self.s.assets.items():
            yield ("assets", name), asset
        for name, dist in self.s.distractors.items():
            for i, shape in enumerate(dist.pool):
                yield ("distractors", name, "pool", i), shape

    # ---- limits -------------------------------------------------------------------
    def limits(self) -> None:
        total = sum(a.count for a in self.s.assets.values())
        total += sum(d.count.max for d in self.s.distractors.values())
        if total > MAX_INSTANCES:
            self.add((), "too many instances per frame", f"at most {MAX_INSTANCES} assets and distractors", f"{total}")
        for name, dist in self.s.distractors.items():
            slots = dist.count.max * len(dist.pool)
            if slots > 100_000:
                self.add(
                    ("distractors", name, "count"),
                    "too many distractor prims to author",
                    "count.max × pool size <= 100000",
                    slots,
                )


def check_scenario(scenario: Scenario, smap: SourceMap, ctx: CheckContext) -> list[Issue]:
    """Every cross-reference, file and limit problem of ``scenario``."""
    checker = _Checker(scenario, smap, ctx)
    checker.names()
    checker.references()
    checker.files()
    checker.limits()
    return checker.issues


__all__ += ["format_got"]
