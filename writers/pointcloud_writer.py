"""LiDAR scans as point-cloud files: ``lidar/<lidar>/<frame:06d>.pcd`` (or ``.ply``), via Open3D.

Each file holds the scan's points in the sensor frame at the frame's time with per-point
``intensity``, ``semantic_id`` and ``object_id`` attributes, and ``echo_id`` for a LiDAR with
dual returns (Open3D tensor point clouds keep custom attributes in PCD and PLY). Positions are
float32, exactly the HDF5 values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..sensors.outputs import LIDAR_ANNOTATOR
from ..sensors.spec_base import Spec
from .base import Writer, tmp_path_for

__all__ = ["PointCloudWriter", "PointCloudWriterSpec"]


class PointCloudWriterSpec(Spec):
    """Options of the LiDAR point-cloud writer (``output.writers.pointcloud``)."""

    format: Literal["pcd", "ply"] = "pcd"
    """Point-cloud file format."""


class PointCloudWriter(Writer):
    name = "pointcloud"
    options_spec = PointCloudWriterSpec
    summary = "LiDAR point clouds as PCD or PLY"
    replicator_class_name = "ScenesmithPointCloudWriter"
    output_patterns = ("lidar/*/<n>.pcd", "lidar/*/<n>.ply")

    def write(self, payload: dict[str, Any]) -> None:
        import open3d as o3d

        assert self.context is not None
        fmt = self.options.get("format", "pcd")
        frame = int(payload["swhFrameNumber"])
        for lidar, output in sorted(payload["annotators"].get(LIDAR_ANNOTATOR, {}).items()):
            cloud = o3d.t.geometry.PointCloud(o3d.core.Tensor(np.ascontiguousarray(output["data"], dtype=np.float32)))
            cloud.point.intensity = o3d.core.Tensor(output["intensity"].astype(np.float32).reshape(-1, 1))
            cloud.point.semantic_id = o3d.core.Tensor(output["semanticId"].astype(np.int32).reshape(-1, 1))
            cloud.point.object_id = o3d.core.Tensor(output["objectId"].astype(np.int32).reshape(-1, 1))
            if "echoId" in output:  # dual returns: 0 the strongest echo, 1 the other
                cloud.point.echo_id = o3d.core.Tensor(output["echoId"].astype(np.uint8).reshape(-1, 1))
            path = self.context.out_dir / "lidar" / lidar / f"{frame:06d}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = tmp_path_for(path)
            tmp = tmp.with_name(f"{tmp.name}.{fmt}")  # Open3D picks the format by extension
            if not o3d.t.io.write_point_cloud(str(tmp), cloud, write_ascii=False, compressed=False):
                raise OSError(f"Open3D could not write {path}")
            tmp.replace(path)
            self.files.append(self._rel(path))

    def close(self) -> list[Path]:
        return list(self.files)
