"""Chunks filtered by scenesmith (shuffle + deflate by ISA-L) and written directly: HDF5's own
filters must read them back exactly, whatever the chunking, ragged tails and dtypes."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from scenesmith.writers import hdf5_chunks
from scenesmith.writers.hdf5_chunks import DirectChunks


def _write_and_read(path: Path) -> None:
    rng = np.random.default_rng(0)
    expected: dict[str, list[np.ndarray]] = {"ragged": [], "images": [], "raw": []}
    with h5py.File(path, "w") as f:
        ragged = f.create_dataset(
            "ragged", (0, 3), maxshape=(None, 3), dtype="f4", chunks=(100, 3), compression="gzip", shuffle=True
        )
        images = f.create_dataset(
            "images", (0, 5, 7), maxshape=(None, 5, 7), dtype="u2", chunks=(1, 5, 7), compression="gzip", shuffle=True
        )
        raw = f.create_dataset("raw", (0,), maxshape=(None,), dtype="u1", chunks=(64,))
        streams = {
            "ragged": DirectChunks(ragged, True),
            "images": DirectChunks(images, True),
            "raw": DirectChunks(raw, False),
        }
        # frames of 0 rows, less than a chunk, exactly a chunk, several chunks, and a ragged tail
        for n in (0, 37, 100, 250, 3, 1):
            frame = {
                "ragged": rng.normal(size=(n, 3)).astype("f4"),
                "images": rng.integers(0, 999, (1, 5, 7)).astype("u2"),
                "raw": rng.integers(0, 255, 2 * n).astype("u1"),
            }
            for name, value in frame.items():
                streams[name].append(value)
                expected[name].append(value)
        for stream in streams.values():
            stream.close()
    with h5py.File(path) as f:
        for name, parts in expected.items():
            assert np.array_equal(f[name][:], np.concatenate(parts)), name
        assert f["ragged"].compression == "gzip" and f["ragged"].shuffle
        assert f["ragged"].shape == (391, 3)


def test_direct_chunks_read_back_through_hdf5_filters(tmp_path: Path) -> None:
    assert hdf5_chunks._fast_zlib is not None, "isal is a dependency: bulk chunks are compressed by ISA-L"
    _write_and_read(tmp_path / "isal.h5")


def test_an_independent_reader_decodes_the_chunks(tmp_path: Path) -> None:
    """pyfive (pure Python, its own shuffle and deflate decoding, no libhdf5) reads the same
    values: the chunks are standard, not something only our h5py build accepts."""
    import pyfive

    path = tmp_path / "isal.h5"
    _write_and_read(path)
    with h5py.File(path) as ours:
        theirs = pyfive.File(str(path))
        for name in ("ragged", "images", "raw"):
            assert np.array_equal(theirs[name][()], ours[name][()]), name


def test_without_isal_zlib_writes_the_same_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hdf5_chunks, "_fast_zlib", None)
    _write_and_read(tmp_path / "zlib.h5")


def test_shuffle_matches_hdf5s_own_filter(tmp_path: Path) -> None:
    """The same chunk written by HDF5's pipeline and by DirectChunks decompresses to the same
    shuffled bytes (HDF5's shuffle is byte k of every element, k = 0 … itemsize − 1)."""
    import zlib

    data = np.arange(24, dtype="<u4").reshape(1, 24) * 0x01020304
    with h5py.File(tmp_path / "a.h5", "w") as f:
        ours = f.create_dataset(
            "ours", (0, 24), maxshape=(None, 24), dtype="<u4", chunks=(1, 24), compression="gzip", shuffle=True
        )
        theirs = f.create_dataset(
            "theirs", data=data, maxshape=(None, 24), chunks=(1, 24), compression="gzip", shuffle=True
        )
        stream = DirectChunks(ours, True)
        stream.append(data)
        stream.close()
        _, ours_bytes = ours.id.read_direct_chunk((0, 0))
        _, theirs_bytes = theirs.id.read_direct_chunk((0, 0))
    assert zlib.decompress(ours_bytes) == zlib.decompress(theirs_bytes)


def test_hdf5_writer_bulk_datasets_with_a_frame_missing_a_key(tmp_path: Path) -> None:
    """A frame without a bulk key leaves its row at the fill value; the frames after it are
    still stored (by HDF5's own pipeline once the direct stream is out of step)."""
    from scenesmith import SCHEMA_VERSION, __version__
    from scenesmith.sensors.outputs import annotator_payload, empty_payload
    from scenesmith.writers.base import RunInfo, ShardContext
    from scenesmith.writers.hdf5_writer import Hdf5Writer

    rng = np.random.default_rng(3)
    depths, points = [], []
    writer = Hdf5Writer()
    info = RunInfo(__version__, SCHEMA_VERSION, "s" * 64, "r" * 64, 0, ("box",), ("cam",))
    writer.open(ShardContext(tmp_path, 0, (0, 4), info))
    for frame in range(4):
        payload = empty_payload(frame, (frame, 30))
        depth = rng.random((120, 160)).round(2).astype(np.float32)  # 75 KiB: bulk, compressible
        cloud = rng.random((20000 + 5000 * frame, 3)).round(1).astype(np.float32)
        if frame != 1:
            annotator_payload(payload, "distance_to_camera", "cam", {"data": depth})
        annotator_payload(payload, "pointcloud", "cam", {"data": cloud})
        depths.append(depth if frame != 1 else np.zeros_like(depth))
        points.append(cloud)
        writer.write(payload)
    streamed = set(writer._direct)
    assert {("cameras/cam/distance_to_camera", "data"), ("cameras/cam/pointcloud", "data")} <= streamed
    writer.close()
    with h5py.File(tmp_path / "hdf5" / "shard_000000.h5") as f:
        stored = f["cameras/cam/distance_to_camera/data"]
        assert stored.compression == "gzip"
        assert np.array_equal(stored[()], np.stack(depths))
        values = f["cameras/cam/pointcloud/data/values"][()]
        offsets = f["cameras/cam/pointcloud/data/frame_offsets"][()]
        assert f["cameras/cam/pointcloud/data/values"].compression == "gzip"
        assert offsets.tolist() == np.cumsum([0] + [len(p) for p in points]).tolist()
        assert np.array_equal(values, np.concatenate(points))
