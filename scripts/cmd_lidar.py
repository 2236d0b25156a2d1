"""``scenesmith lidar-profiles``: the shipped Isaac Sim RTX LiDAR profiles."""

from __future__ import annotations

import argparse

__all__ = ["lidar_profiles"]


def lidar_profiles(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .. import config_path
    from ..sensors.lidar import load_profile

    table = Table(title="shipped LiDAR profiles (Isaac Sim 5.1, Apache-2.0; use the name as lidars.<x>.profile)")
    for column in ("name", "type", "channels", "rays/scan", "scan Hz", "range m"):
        table.add_column(column, justify="left" if column in ("name", "type") else "right")
    for path in sorted(config_path("lidar_profiles").glob("*.json")):
        p = load_profile(path)
        table.add_row(
            path.stem,
            p.scan_type,
            str(p.channels),
            f"{p.rays_per_scan:,}",
            f"{p.scan_rate_hz:g}",
            f"{p.near_m:g}-{p.far_m:g}",
        )
    Console(width=120).print(table)
    return 0
