"""Comparing two run folders byte for byte, and saying precisely how they differ when they do.

Byte identity of reruns, resumes and writer modes is a promise (README "Reproducible and
crash-safe"); a rare mismatch seen only in full-suite runs must be diagnosable from the failure
message alone: which files, and for an HDF5 shard which datasets and chunks, whether their
decoded data differ, and for JSON the first differing line.
"""

from __future__ import annotations

import difflib
from pathlib import Path

__all__ = ["assert_same_files", "describe_difference", "files_of"]


def files_of(folder: Path, under: tuple[str, ...] = ("",)) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative POSIX path (only paths starting with one of
    ``under``, when given)."""
    return {
        name: p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (name := p.relative_to(folder).as_posix()).startswith(under)
    }


def _same_attrs(a: object, b: object) -> bool:
    """HDF5 attributes equal, arrays compared by value."""
    import numpy as np

    keys_a, keys_b = set(a.attrs), set(b.attrs)  # type: ignore[attr-defined]
    if keys_a != keys_b:
        return False
    for key in keys_a:
        va, vb = np.asarray(a.attrs[key]), np.asarray(b.attrs[key])  # type: ignore[attr-defined]
        if va.shape != vb.shape or not (va == vb).all():
            return False
    return True


def _hdf5_difference(got: Path, want: Path) -> list[str]:
    try:
        return _hdf5_objects_difference(got, want)
    except Exception as exc:  # a truncated or broken shard: say so instead of losing the diagnosis
        return [f"  cannot compare as HDF5: {type(exc).__name__}: {exc}"]


def _hdf5_objects_difference(got: Path, want: Path) -> list[str]:
    import h5py
    import numpy as np

    lines: list[str] = []
    with h5py.File(got) as fa, h5py.File(want) as fb:
        names_a: set[str] = set()
        fa.visit(names_a.add)
        names_b: set[str] = set()
        fb.visit(names_b.add)
        if names_a != names_b:
            lines.append(f"  objects on one side only: {sorted(names_a ^ names_b)[:20]}")

        def visit(key: str, item: object) -> None:
            if key not in fb:
                return
            other = fb[key]
            if not _same_attrs(item, other):
                lines.append(f"  {key}: attributes differ")
            if not isinstance(item, h5py.Dataset):
                return
            data_a, data_b = np.asarray(item[()]), np.asarray(other[()])
            if data_a.dtype.kind == "O" or data_b.dtype.kind == "O":  # strings: compare values, not pointers
                same_data = data_a.shape == data_b.shape and data_a.tolist() == data_b.tolist()
            else:
                same_data = data_a.dtype == data_b.dtype and data_a.tobytes() == data_b.tobytes()
            if not same_data:
                where = ""
                if data_a.shape == data_b.shape and data_a.dtype == data_b.dtype and data_a.dtype.kind in "fiub":
                    bad = np.argwhere(data_a != data_b)
                    where = f", {len(bad)} elements, first at {bad[0].tolist() if len(bad) else '?'}"
                shapes = f"{data_a.dtype}{data_a.shape} vs {data_b.dtype}{data_b.shape}"
                lines.append(f"  {key}: data differ ({shapes}{where})")
            if item.chunks and other.chunks == item.chunks:
                for index in range(item.id.get_num_chunks()):
                    offset = item.id.get_chunk_info(index).chunk_offset
                    mine, theirs = item.id.read_direct_chunk(offset), other.id.read_direct_chunk(offset)
                    if mine[1] != theirs[1]:
                        verdict = "data differ" if not same_data else "data identical"
                        lines.append(
                            f"  {key} chunk {offset}: stored {len(mine[1])} vs {len(theirs[1])} bytes "
                            f"(filter mask {mine[0]} vs {theirs[0]}); {verdict}"
                        )

        fa.visititems(visit)
        if not _same_attrs(fa, fb):
            lines.append("  root attributes differ")
    if not lines:
        lines.append("  every dataset, chunk and attribute equal: the file layout differs")
    return lines


def describe_difference(got: Path, want: Path, under: tuple[str, ...] = ("",)) -> str:
    """Which files differ between two run folders, and how."""
    a, b = files_of(got, under), files_of(want, under)
    lines = []
    if set(a) != set(b):
        lines.append(f"only in {got.name}: {sorted(set(a) - set(b))}; only in {want.name}: {sorted(set(b) - set(a))}")
    for name in sorted(set(a) & set(b)):
        if a[name] == b[name]:
            continue
        lines.append(f"{name}: {len(a[name])} vs {len(b[name])} bytes")
        if name.endswith(".h5"):
            lines.extend(_hdf5_difference(got / name, want / name))
        elif name.endswith((".json", ".txt", ".yaml", ".usda")):
            at = next((i for i, (x, y) in enumerate(zip(a[name], b[name])) if x != y), min(len(a[name]), len(b[name])))
            context = a[name][max(0, at - 80) : at + 80].decode(errors="replace")
            lines.append(f"  first difference at byte {at}: ...{context}...")
            diff = difflib.unified_diff(
                b[name].decode(errors="replace").splitlines(),
                a[name].decode(errors="replace").splitlines(),
                lineterm="",
                n=0,
            )
            lines.extend("  " + line[:300] for line in list(diff)[2:12])
    return "\n".join(lines)


def assert_same_files(got: Path, want: Path, under: tuple[str, ...] = ("",)) -> None:
    """``got`` and ``want`` hold the same files with the same bytes (else: how they differ);
    ``under`` limits the comparison to paths starting with one of its prefixes."""
    if files_of(got, under) != files_of(want, under):
        raise AssertionError(f"{got} and {want} differ:\n{describe_difference(got, want, under)}")
