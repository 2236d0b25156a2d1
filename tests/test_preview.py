"""``scenesmith preview`` shows the data as the dataset holds it (issue 14, items 17 and 18).

The RGB cell is the RGB annotator's image pixel for pixel; the labels cell changes only
outline, box and tag pixels (a tint changed every labelled pixel); the grid has no empty cell;
JPEG is written on request and other suffixes are refused naming the formats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli
from scenesmith.runtime.preview import (
    BACKGROUND,
    PREVIEW_ANNOTATORS,
    PREVIEW_PANELS,
    TITLE_PX,
    compose_preview,
    outline_mask,
)
from scenesmith.runtime.single_frame import capture_frame
from scenesmith.scenarios.loader import parse

SCENES = REPO / "tests" / "scenarios"


def _payload(name: str) -> dict:
    doc = parse(SCENES / name, asset_roots=(REPO / "config" / "scenarios",))
    return capture_frame(doc, 0, 0, annotators={cam: PREVIEW_ANNOTATORS for cam in doc.scenario.cameras})


@pytest.fixture(scope="module")
def two_cameras() -> tuple[dict, np.ndarray]:
    payload = _payload("all_annotators.yaml")
    return payload, np.asarray(compose_preview(payload))


def _cell(image: np.ndarray, row: int, col: int, w: int, h: int) -> np.ndarray:
    top = row * (h + TITLE_PX) + TITLE_PX
    return image[top : top + h, col * w : (col + 1) * w]


def test_the_rgb_cell_is_the_dataset_image_pixel_for_pixel(two_cameras: tuple[dict, np.ndarray]) -> None:
    payload, image = two_cameras
    rgb = payload["annotators"]["rgb"]["cam_a"]["data"][..., :3]
    h, w = rgb.shape[:2]
    assert image.shape == (2 * (h + TITLE_PX), len(PREVIEW_PANELS) * w, 3)
    np.testing.assert_array_equal(_cell(image, 0, 0, w, h), rgb)


def test_the_labels_cell_outlines_objects_without_tinting_them(two_cameras: tuple[dict, np.ndarray]) -> None:
    payload, image = two_cameras
    rgb = payload["annotators"]["rgb"]["cam_a"]["data"][..., :3]
    ids = payload["annotators"]["instance_segmentation"]["cam_a"]["data"]
    h, w = ids.shape
    labels = _cell(image, 0, 1, w, h)
    changed = np.any(labels != rgb, axis=-1)
    edge = outline_mask(ids)
    assert edge.sum() > 50
    # outlines are drawn (boxes and tags may cover some of them)
    assert changed[edge].mean() > 0.9
    # inside the objects the image is untouched apart from box lines and tags
    inside = (ids >= 2) & ~edge
    assert inside.sum() > 200
    assert changed[inside].mean() < 0.25
    # the background far from every box is untouched
    assert changed[ids < 2].mean() < 0.1


def test_every_cell_of_the_grid_holds_a_panel(two_cameras: tuple[dict, np.ndarray]) -> None:
    payload, image = two_cameras
    h, w = payload["annotators"]["instance_segmentation"]["cam_a"]["data"].shape
    for row in range(2):
        for col in range(len(PREVIEW_PANELS)):
            cell = _cell(image, row, col, w, h)
            # a hole in the grid is a cell of background colour only
            assert np.any(cell != np.array(BACKGROUND, dtype=np.uint8)), (row, col)


def test_lidars_share_one_full_width_row() -> None:
    payload = _payload("small_tabletop.yaml")
    image = np.asarray(compose_preview(payload))
    h, w = payload["annotators"]["instance_segmentation"]["front"]["data"].shape
    assert image.shape == (2 * (h + TITLE_PX), len(PREVIEW_PANELS) * w, 3)
    lidar_row = image[h + 2 * TITLE_PX :]
    assert not np.any(np.all(lidar_row == np.array(BACKGROUND, dtype=np.uint8), axis=-1))


@pytest.mark.slow
def test_preview_writes_jpeg_and_refuses_other_formats(tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "p.jpg"
    result = run_cli("preview", str(SCENES / "all_annotators.yaml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    with Image.open(out) as img:
        assert img.format == "JPEG" and img.size == (4 * 160, 2 * (120 + TITLE_PX))
    gif = tmp_path / "p.gif"
    result = run_cli("preview", str(SCENES / "all_annotators.yaml"), "-o", str(gif))
    assert result.returncode == 2
    assert result.stderr.strip() == "--output: unsupported output file type (expected .png or .jpg or .jpeg, got .gif)"
    assert not gif.exists()
