"""Copies of the files a written stage names, inside the output folder, so the folder can move.

``author_stage`` names the scenario's files (image textures, USD references, the base USD, a
dome light's image, a LiDAR profile) by their absolute paths on this machine; meshes are
authored inline, so they name no file. A stage written with those paths loses them once its
folder is copied elsewhere. ``localize_layer`` gives a copy of the stage's root layer in which
every such path names a copy under ``stage_assets/`` instead, relative to the stage file
(``./stage_assets/<key>/wood.png``). Paths already inside the folder (``./stage_textures/…``,
the procedural textures) are kept.

Each file the stage names is copied with everything it depends on — what a USD file's
sublayers, references, payloads and asset-valued attributes name, recursively, UDIM tiles
included — into one folder ``stage_assets/<key>/``, keeping the files' layout below the deepest
folder that holds them all. The relative paths inside the USD files therefore still resolve and
those files are copied byte for byte; a USD file that names a dependency by absolute path is
rewritten through pxr (``Sdf.Layer.OpenAsAnonymous``, ``UsdUtils.ModifyAssetPaths``) with that
path made relative. URLs and paths the resolver finds along its search path (MDL's core
library, say) are left as authored: the application that opens the stage supplies them.
(``UsdUtils.LocalizeAsset`` does not fit: it numbers folders by discovery order, names files in
them by their base name, so two ``wood.png`` collide, and warns on stderr for every path it
cannot resolve.)

``<key>`` is 16 hex digits of a SHA-256 over the closure's layout and file contents, so two
different files both named ``wood.png`` land in different folders, a file named twice is copied
once, and the same inputs give the same names and bytes every time (a resumed run rewrites
identical files).
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ...writers.base import OutputWriteError, output_write_error, tmp_path_for
from ..run.shards import STAGE_ASSETS_DIR, sha256_file

__all__ = ["ASSETS_DIR", "localize_layer"]

log = logging.getLogger(__name__)

ASSETS_DIR = STAGE_ASSETS_DIR
"""Run-level folder of the copies (one of ``shards.RUN_LEVEL_DIRS``)."""
_KEY_DIGITS = 16
_EDITABLE = (".usd", ".usda", ".usdc")
"""USD layers whose dependencies are followed and whose copies may be rewritten (a ``.usdz``
package holds its own dependencies and is copied whole)."""


def _authored_paths(layer: Any) -> list[str]:
    """Every asset path authored in ``layer`` (sublayers, references, payloads, attributes)."""
    from pxr import UsdUtils

    found: set[str] = set()

    def visit(path: str) -> str:
        found.add(path)
        return path

    UsdUtils.ModifyAssetPaths(layer, visit)
    return sorted(p for p in found if p)


def _split(path: str) -> tuple[str, str]:
    """(file, part inside a package): ``/a/b.usdz[tex.png]`` → (``/a/b.usdz``, ``tex.png``)."""
    from pxr import Ar

    if Ar.IsPackageRelativePath(path):
        outer, inner = Ar.SplitPackageRelativePathOuter(path)
        return outer, inner
    return path, ""


def _join(outer: str, inner: str) -> str:
    from pxr import Ar

    return Ar.JoinPackageRelativePath([outer, inner]) if inner else outer


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_UDIM = "<UDIM>"


def _search_path(path: str) -> bool:
    """A path ArDefaultResolver looks up next to the layer, then along its search path."""
    return not os.path.isabs(path) and not path.startswith(("./", "../"))


def _targets(layer: Any | None, authored: str, where: str | None = None) -> tuple[str, tuple[str, ...]] | None:
    """(the file, or UDIM template, that ``authored`` names from ``layer``, and the files it
    stands for); None when it names nothing that travels with the folder: a URL, a path left to
    the resolver's search path (MDL's core library, say: the opening application supplies it),
    or a missing file. With ``where``, the last is logged."""
    from pxr import Ar, Sdf

    outer = _split(authored)[0]
    if _URI.match(outer):
        return None
    if _UDIM in outer:
        # a UDIM set is its tiles: <UDIM> is 1001, 1002, ...
        folder = os.path.dirname(layer.realPath) if layer is not None and layer.realPath else ""
        template = os.path.normpath(os.path.join(folder, outer)) if folder or os.path.isabs(outer) else ""
        pattern = glob.escape(template).replace(_UDIM, "[1-9][0-9][0-9][0-9]")
        tiles = tuple(sorted(p for p in glob.glob(pattern) if os.path.isfile(p))) if template else ()
        if tiles:
            return template, tiles
    elif layer is not None or os.path.isabs(outer):  # the stage's own layer is anonymous: no anchor
        anchored = outer if layer is None else Sdf.ComputeAssetPathRelativeToLayer(layer, outer)
        if _search_path(anchored):
            return None  # not next to the layer, so found (or not) along the search path
        resolved = str(Ar.GetResolver().Resolve(anchored))
        file = os.path.normpath(resolved) if resolved else ""
        if file and os.path.isfile(file):
            return file, (file,)
    if where is not None and not _search_path(outer):
        # broken here already: the copy names it as the original does, and is as broken
        log.warning("%s names %s, which is not a file; it is not copied", where, authored)
    return None


def _relative(target: str, start: str) -> str:
    """``target`` relative to folder ``start``, anchored (``./``, ``../``) so that the resolver
    looks next to the layer and not along its search path."""
    rel = PurePosixPath(os.path.relpath(target, start)).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


@dataclass(frozen=True)
class _Closure:
    """Files the stage names (one, or a UDIM set) and everything they depend on, copied together."""

    root: str
    """Deepest folder holding every file; the copy keeps the layout below it."""
    files: frozenset[str]
    layers: frozenset[str]
    """Those of ``files`` that are USD layers whose copies may need rewritten paths."""
    key: str

    def rel(self, source: str) -> PurePosixPath:
        return PurePosixPath(os.path.relpath(source, self.root))


def _allowed(file: str, roots: tuple[Path, ...]) -> bool:
    real = Path(os.path.realpath(file))
    return any(real.is_relative_to(root) for root in roots)


def _closure(tops: tuple[str, ...], roots: tuple[Path, ...]) -> _Closure:
    """``tops`` and, through every USD layer among them, what the layer names, recursively —
    only files inside ``roots`` (the scenario's folder and asset roots, real paths): a USD file
    naming ``/etc/hostname`` or ``../../../.bashrc`` does not get it copied into the dataset."""
    from pxr import Sdf

    files, layers, pending = set(tops), set(), list(tops)
    while pending:
        source = pending.pop()
        if Path(source).suffix.lower() not in _EDITABLE:
            continue  # images, profiles, and .usdz packages, which hold their own dependencies
        layer = Sdf.Layer.FindOrOpen(source)
        if layer is None:
            log.warning("%s is not a USD layer that opens; it is copied as it is", source)
            continue
        layers.add(source)
        for authored in _authored_paths(layer):
            found = _targets(layer, authored, source)
            for file in found[1] if found else ():
                if file in files:
                    continue
                if not _allowed(file, roots):
                    log.warning(
                        "%s names %s, outside the scenario's folder and asset roots; it is not copied", source, file
                    )
                    continue
                files.add(file)
                pending.append(file)
    root = os.path.commonpath([os.path.dirname(f) for f in files])
    listing = sorted((PurePosixPath(os.path.relpath(f, root)).as_posix(), sha256_file(Path(f))) for f in files)
    key = hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest()[:_KEY_DIGITS]
    return _Closure(root, frozenset(files), frozenset(layers), key)


def _rewritten(source: str, closure: _Closure) -> Any | None:
    """An anonymous copy of layer ``source`` with its absolute paths made relative (the copied
    layout keeps every relative one); None when the file can be copied as it is."""
    from pxr import Sdf, UsdUtils

    original = Sdf.Layer.FindOrOpen(source)
    copy = Sdf.Layer.OpenAsAnonymous(source)
    if original is None or copy is None:
        return None
    changes: dict[str, str] = {}
    for authored in _authored_paths(copy):
        outer, inner = _split(authored)
        found = _targets(original, authored) if os.path.isabs(outer) else None
        if found is not None and closure.files.issuperset(found[1]):
            changes[authored] = _join(_relative(found[0], os.path.dirname(source)), inner)
    if not changes:
        return None
    UsdUtils.ModifyAssetPaths(copy, lambda path: changes.get(path, path))
    return copy


def _publish(tmp: Path, dest: Path, write: Any) -> None:
    """Run ``write(tmp)``, then rename ``tmp`` to ``dest``; machine errors name ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        write(tmp)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        known = output_write_error(exc, dest)
        if known is None:
            raise
        raise OutputWriteError(known.errno, known.strerror, str(dest)) from None
    os.replace(tmp, dest)


def _export(layer: Any, tmp: Path) -> None:
    from pxr import Tf

    try:
        ok = layer.Export(str(tmp))
    except Tf.ErrorException:
        ok = False
    if not ok:
        # the layer was just read from disk, so a failed export is a failed write here
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(tmp))


class _Localizer:
    def __init__(self, out: Path, roots: tuple[Path, ...]) -> None:
        self.out = out
        self.roots = roots
        self.written: set[PurePosixPath] = set()
        self._copies: dict[str, PurePosixPath] = {}

    def copy_of(self, target: str, files: tuple[str, ...]) -> PurePosixPath:
        """Where the copy of ``target`` (standing for ``files``) is, relative to the output
        folder; copied with its dependencies on first use."""
        if target not in self._copies:
            closure = _closure(files, self.roots)
            base = PurePosixPath(ASSETS_DIR, closure.key)
            for source in sorted(closure.files):
                rel = base / closure.rel(source)
                if rel not in self.written:
                    self._write(source, closure, self.out / rel)
                    self.written.add(rel)
            self._copies[target] = base / closure.rel(target)
        return self._copies[target]

    def _write(self, source: str, closure: _Closure, dest: Path) -> None:
        layer = _rewritten(source, closure) if source in closure.layers else None
        tmp = tmp_path_for(dest)
        if layer is not None:
            # keeps the extension, so USD exports the format it names (``.NAME.PID.tmp.usdc``)
            _publish(tmp.with_name(tmp.name + dest.suffix), dest, lambda t: _export(layer, t))
        elif not (dest.is_file() and sha256_file(dest) == sha256_file(Path(source))):
            _publish(tmp, dest, lambda t: shutil.copyfile(source, t))


def _inside(out: Path, authored: str) -> bool:
    """A relative path that names a file already in the output folder (the stage's own)."""
    outer = _split(authored)[0]
    if os.path.isabs(outer):
        return False
    target = Path(os.path.normpath(out / outer))
    return target.is_relative_to(Path(os.path.normpath(out))) and target.is_file()


def localize_layer(layer: Any, out: Path, roots: tuple[Path, ...]) -> tuple[Any, list[Path]]:
    """A copy of the stage root ``layer`` to be written as ``out/stage.usda``, naming copies under
    ``out/stage_assets`` (written now) instead of files outside ``out``; and those copies,
    relative to ``out``, sorted. ``layer`` itself is left as it was. Dependencies of USD files
    are copied only from inside ``roots`` (the folders the scenario may read)."""
    from pxr import Sdf, UsdUtils

    copy = Sdf.Layer.CreateAnonymous(".usda")
    copy.TransferContent(layer)
    localizer = _Localizer(out, tuple(Path(os.path.realpath(r)) for r in roots))
    changes: dict[str, str] = {}
    for authored in _authored_paths(copy):
        if _inside(out, authored):
            continue
        found = _targets(None, authored, "the stage")
        if found is not None:
            changes[authored] = _join(f"./{localizer.copy_of(*found).as_posix()}", _split(authored)[1])
    if changes:
        UsdUtils.ModifyAssetPaths(copy, lambda path: changes.get(path, path))
    return copy, sorted(Path(rel) for rel in localizer.written)
