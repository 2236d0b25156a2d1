"""A binary mask as one polygon, holes and separate parts included (YOLO segment labels).

Formats such as Ultralytics' YOLO segment labels hold one polygon per object. The mask's
borders come from OpenCV's ``findContours`` (``RETR_CCOMP``: outer borders and hole borders,
``CHAIN_APPROX_SIMPLE``: straight runs as their end points), each a loop through the centres of
the mask's boundary pixels. They are joined into one loop the way Ultralytics' own converters
join a multi-part COCO polygon (``merge_multi_segment``): each further border is entered from the
nearest vertex of the loop so far and left the same way, a zero-width bridge. OpenCV gives hole
borders the opposite orientation of outer ones, so even-odd and non-zero fill rules both leave
holes empty; rasterised as Ultralytics does (``cv2.fillPoly``, edges included) the polygon
covers the mask exactly, plus the pixels of the bridges between separate parts.

OpenCV is imported only when a polygon is made: the writers also run inside Isaac Sim's Python,
which may lack it (the ``embedded`` extra installs ``opencv-python-headless``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["mask_polygon"]

_CHUNK = 2048
"""Vertices of a border compared at once with the loop (bounds the distance matrix's memory)."""
MIN_VERTICES = 3


def _nearest(loop: np.ndarray, border: np.ndarray) -> tuple[int, int]:
    """Indices (into ``loop``, into ``border``) of their closest pair of vertices (first on ties)."""
    # per coordinate rather than a (n, m, 2) difference array: a third of the time
    lx, ly = loop[:, 0][:, None], loop[:, 1][:, None]
    best = (np.iinfo(np.int64).max, 0, 0)
    for start in range(0, len(border), _CHUNK):
        part = border[start : start + _CHUNK]
        dx, dy = lx - part[:, 0], ly - part[:, 1]
        d = dx * dx + dy * dy
        flat = int(np.argmin(d))
        i, j = divmod(flat, d.shape[1])
        if d[i, j] < best[0]:
            best = (int(d[i, j]), i, start + j)
    return best[1], best[2]


def mask_polygon(mask: np.ndarray) -> np.ndarray:
    """(k, 2) vertices (x, y) in pixel indices of one closed polygon tracing ``mask`` (H, W),
    every border joined by zero-width bridges; at least 3 vertices (a lone pixel repeats its
    own); empty (0, 2) for an empty mask."""
    import cv2

    # a frame of zeros: OpenCV before 3.2 treated the image's outermost pixels as background
    padded = np.pad(np.asarray(mask, dtype=np.uint8), 1)
    borders, _ = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not borders:
        return np.zeros((0, 2), dtype=np.int64)
    rings = [border.reshape(-1, 2).astype(np.int64) - 1 for border in borders]
    loop = rings[0]
    for ring in rings[1:]:
        i, j = _nearest(loop, ring)
        # at loop[i]: over to ring[j], once round the ring back to ring[j], back to loop[i]
        loop = np.concatenate([loop[: i + 1], ring[j:], ring[: j + 1], loop[i:]])
    if len(loop) < MIN_VERTICES:
        loop = np.concatenate([loop, np.repeat(loop[-1:], MIN_VERTICES - len(loop), axis=0)])
    return loop
