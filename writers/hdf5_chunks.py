"""Bulk HDF5 datasets whose chunks scenesmith filters itself and writes with direct chunk writes.

HDF5's own deflate filter runs zlib, which at level 1 costs ~100 ms a frame of the reference
scene on one core — more than the writers may add to a 2-core capture loop (issue 6). The
chunks here are filtered exactly as HDF5's standard ``shuffle`` + ``deflate`` pipeline expects
(byte shuffle over the chunk's elements, then a zlib stream), but compressed by ISA-L
(``isal``, ~8× faster at the same ratio) and handed to the file with ``write_direct_chunk``,
which also skips h5py's chunk cache and filter dispatch. Any HDF5 reader decodes the chunks
with its built-in filters; nothing about the file says who compressed them.

ISA-L is deterministic for a given build and CPU feature set (identical runs on one machine
give identical bytes); where ``isal`` is missing, zlib writes the same format.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

__all__ = ["DirectChunks", "deflate_level", "shuffled_deflate"]

_FAST_LEVEL = 1
"""ISA-L levels are 0-3; 1 matches zlib level 1's ratio on our data."""

try:  # ISA-L's zlib-format compressor; optional so an unusual platform still writes files
    from isal import isal_zlib as _fast_zlib
except ImportError:  # pragma: no cover - the zlib path it leads to is tested by monkeypatching
    _fast_zlib = None


def deflate_level() -> int:
    """The level recorded in a dataset's deflate filter (a hint only; decoding ignores it)."""
    return _FAST_LEVEL


def shuffled_deflate(chunk: np.ndarray) -> bytes:
    """``chunk`` as HDF5's shuffle then deflate filters would store it: byte k of every element
    first, for k = 0 … itemsize − 1 (H5Z shuffle), then one zlib stream (H5Z deflate)."""
    flat = np.ascontiguousarray(chunk).reshape(-1)
    size = flat.dtype.itemsize
    raw = flat.view(np.uint8).reshape(-1, size).T.tobytes() if size > 1 else flat.tobytes()
    if _fast_zlib is not None:
        return _fast_zlib.compress(raw, _FAST_LEVEL)
    return zlib.compress(raw, 1)


class DirectChunks:
    """Appends rows to a chunked dataset that is extended along axis 0, writing each full chunk
    once, already filtered; the last, partial chunk is padded with zeros (the fill value) and
    written by ``close``. The dataset must have been created with ``shuffle`` + ``gzip`` when
    ``deflate`` is true, and with no filters otherwise."""

    def __init__(self, dataset: Any, deflate: bool) -> None:
        self.dataset = dataset
        self.deflate = deflate
        self.chunk_rows = int(dataset.chunks[0])
        self.rows = int(dataset.shape[0])
        """Rows appended so far (the dataset's extent)."""
        self._written = self.rows
        """Rows already in written chunks; always a multiple of ``chunk_rows``."""
        self._tail: list[np.ndarray] = []

    def append(self, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=self.dataset.dtype)
        if not len(value):
            return
        self.rows += len(value)
        self.dataset.resize(self.rows, axis=0)
        if not self._tail and len(value) == self.chunk_rows:  # one frame, one chunk: no copy
            self._write(value)
            return
        self._tail.append(value)
        pending = self.rows - self._written
        if pending < self.chunk_rows:
            return
        rows = np.concatenate(self._tail)
        full = (pending // self.chunk_rows) * self.chunk_rows
        for start in range(0, full, self.chunk_rows):
            self._write(rows[start : start + self.chunk_rows])
        self._tail = [rows[full:]] if full < pending else []

    def close(self) -> None:
        """Writes the partial last chunk, if any."""
        if not self._tail:
            return
        rows = np.concatenate(self._tail)
        padded = np.zeros((self.chunk_rows, *rows.shape[1:]), dtype=self.dataset.dtype)
        padded[: len(rows)] = rows
        self._write(padded)
        self._tail = []

    def _write(self, chunk: np.ndarray) -> None:
        data = shuffled_deflate(chunk) if self.deflate else np.ascontiguousarray(chunk)  # any buffer
        offset = (self._written,) + (0,) * (chunk.ndim - 1)
        self.dataset.id.write_direct_chunk(offset, data, 0)
        self._written += self.chunk_rows
