"""Write the shipped example environment ``config/scenarios/assets/warehouse.hdr`` (dev tool)::

    python -m scenesmith.scripts.make_example_hdr [-o PATH]

A 256 × 128 lat-long image of linear radiance (Z up, row 0 at the zenith, u from +X
counter-clockwise, as dome lights read it): a dark ceiling with rows of bright light strips,
walls with one bright loading-dock door, a concrete floor. Generated, not downloaded, so the
examples need nothing from the network; ``tests/test_path_tracer.py`` checks the shipped file
is exactly what this writes.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from .. import config_path

__all__ = ["SHIPPED", "main", "warehouse_image"]

SHIPPED = config_path("scenarios", "assets", "warehouse.hdr")


def warehouse_image(width: int = 256) -> np.ndarray:
    """(H, W, 3) linear radiance of the warehouse environment (H = W / 2)."""
    h = width // 2
    elevation = np.degrees((0.5 - (np.arange(h) + 0.5) / h) * math.pi)[:, None] * np.ones((1, width))
    azimuth = np.degrees((np.arange(width) + 0.5) / width * 2 * math.pi)[None, :] * np.ones((h, 1))
    image = np.empty((h, width, 3))
    image[:] = (0.16, 0.16, 0.17)  # walls and roof structure
    image[elevation > 35] = (0.08, 0.08, 0.09)  # the ceiling, darker between the lights
    # four rows of light strips across the ceiling, warm-white fluorescent
    for centre in (45.0, 135.0, 225.0, 315.0):
        strip = (np.abs(((azimuth - centre + 180) % 360) - 180) < 6) & (elevation > 40) & (elevation < 80)
        image[strip] = (38.0, 36.0, 32.0)
    # a daylit loading-dock door at the horizon
    door = (np.abs(azimuth - 100.0) < 12) & (elevation > 0) & (elevation < 18)
    image[door] = (6.0, 6.5, 7.5)
    image[elevation < 0] = (0.22, 0.21, 0.2)  # concrete floor
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    from ..runtime.usd.textures import write_hdr

    write_hdr(warehouse_image(), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
