"""The report's pictures and real-image statistics (issue 20): each number against what it
must be by construction, and the page itself in headless Chromium."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from conftest import EXAMPLES, run_cli
from scenesmith.report.frame_views import (
    depth_image,
    lidar_bev_image,
    normals_image,
    overlay_image,
    segmentation_image,
)
from scenesmith.report.real_images import compare_real, image_statistics, immerkaer_noise_sigma
from scenesmith.sensors.outputs import BBOX2D_DTYPE, colorize_id

# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("sigma", [2.0, 5.0, 12.0])
def test_immerkaer_recovers_the_sigma_of_added_gaussian_noise(sigma: float) -> None:
    """On a flat image and on a linear ramp (which the operator cancels exactly) the estimate
    is the σ that was added, within 3% (640 × 480 pixels: the estimator's own spread is < 1%)."""
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, sigma, (480, 640))
    flat = 100.0 + noise
    ramp = np.add.outer(np.linspace(0, 60, 480), np.linspace(0, 90, 640)) + noise
    for image in (flat, ramp):
        assert immerkaer_noise_sigma(image) == pytest.approx(sigma, rel=0.03)


def test_image_statistics_against_hand_computed_values() -> None:
    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[...] = (200, 100, 50)
    stats = image_statistics(rgb)
    assert stats["brightness"] == pytest.approx((0.2126 * 200 + 0.7152 * 100 + 0.0722 * 50) / 255.0)
    assert stats["red_over_green"] == pytest.approx(2.0)
    assert stats["blue_over_green"] == pytest.approx(0.5)
    # Constant image: no spread, colourfulness is 0.3 × |mean opponent colour| (Hasler–Süsstrunk).
    assert stats["colourfulness"] == pytest.approx(0.3 * math.hypot(100.0, 0.5 * 300 - 50))
    assert stats["noise_sigma"] == pytest.approx(0.0, abs=1e-9)
    assert stats["sharpness"] == pytest.approx(0.0, abs=1e-9)


def test_blur_lowers_sharpness_and_grey_has_no_colour() -> None:
    rng = np.random.default_rng(3)
    grey = (rng.random((240, 320)) * 255).astype(np.uint8)
    sharp = np.repeat(grey[..., None], 3, axis=2)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    assert image_statistics(blurred)["sharpness"] < 0.1 * image_statistics(sharp)["sharpness"]
    assert image_statistics(sharp)["colourfulness"] == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- pictures


def test_overlay_tints_masks_and_draws_inclusive_boxes() -> None:
    rgb = np.full((40, 50, 4), 100, np.uint8)
    ids = np.zeros((40, 50), np.uint32)
    ids[10:20, 5:15] = 7
    ids[30:, :] = 1  # unlabelled: never tinted
    box = np.zeros(1, BBOX2D_DTYPE)
    box[0] = (0, 5, 10, 14, 19, 0.0)
    out = overlay_image(rgb, ids, box, ["crate"])
    colour = np.array(colorize_id(7)[:3], float)
    inside = out[15, 10].astype(float)
    assert np.allclose(inside, 0.55 * 100 + 0.45 * colour, atol=1.0)
    assert (out[35, 25] == 100).all()
    # Box edges on the inclusive bounds, in the box colour; just outside untouched.
    assert tuple(out[19, 10]) == (255, 255, 0) and tuple(out[15, 14]) == (255, 255, 0)
    assert tuple(out[15, 16]) == (100, 100, 100)


def test_depth_normals_segmentation_and_bev_pictures() -> None:
    depth = np.full((4, 4), np.inf, np.float32)
    depth[:2] = np.linspace(1.0, 2.0, 8).reshape(2, 4)
    img, caption = depth_image(depth)
    assert (img[2:] == 0).all() and img[:2].any() and caption.endswith(" m")
    normals = np.zeros((2, 2, 4), np.float32)
    normals[0, 0, :3] = (0.0, 0.0, 1.0)
    n = normals_image(normals)
    assert tuple(n[0, 0]) == (128, 128, 255) and (n[1, 1] == 0).all()
    seg = segmentation_image(np.array([[0, 1], [5, 5]], np.uint32))
    assert (seg[0, 0] == 0).all() and tuple(seg[1, 0]) == colorize_id(5)[:3]
    # A point 5 m ahead (+x) lands right of the centre, one at +y above it.
    bev, _ = lidar_bev_image(np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0]]), None, size_px=101)
    lit = np.argwhere(bev.any(axis=2))
    assert any(r in (50, 51) and c >= 99 for r, c in lit), lit
    assert any(r <= 1 and c in (50, 51) for r, c in lit), lit


# --------------------------------------------------------------------------- the example


@pytest.fixture(scope="module")
def tabletop_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four frames of the shipped table-top example, as the README's main job writes them."""
    out = tmp_path_factory.mktemp("report") / "tabletop"
    result = run_cli("generate", str(EXAMPLES / "tabletop.yaml"), "-o", str(out), "--frames", "4", "--no-progress")
    assert result.returncode == 0, result.stderr
    return out


def _rgb_frames(out: Path) -> list[np.ndarray]:
    images = []
    for path in sorted((out / "hdf5").glob("shard_*.h5")):
        with h5py.File(path, "r") as f:
            images += [f["cameras/front/rgb/data"][i][..., :3] for i in range(len(f["frames"]))]
    return images


def test_real_comparison_names_what_differs(tabletop_run: Path, tmp_path: Path) -> None:
    """'Real' photos made from our own frames at half the brightness with σ = 8 sensor noise:
    the report must say ours are brighter and cleaner, and their noise is ≈ 8 levels of luma."""
    rng = np.random.default_rng(11)
    for i, rgb in enumerate(_rgb_frames(tabletop_run)):
        photo = rgb.astype(float) * 0.5 + rng.normal(0.0, 8.0, rgb.shape[:2])[..., None]
        cv2.imwrite(str(tmp_path / f"photo_{i}.png"), np.clip(photo, 0, 255).astype(np.uint8)[..., ::-1])
    section = compare_real(tabletop_run, tmp_path, [0, 1, 2, 3])
    metrics = {m["name"]: m for m in section["metrics"]}
    assert section["n_synthetic"] == 4 and section["n_real"] == 4
    assert metrics["brightness"]["note"].startswith("synthetic brighter than real")
    assert metrics["noise_sigma"]["note"].startswith("synthetic cleaner than real")
    assert metrics["red_over_green"]["note"].startswith("similar")
    # The photos' luma noise: σ = 8 on every channel alike (clipping trims a little).
    assert metrics["noise_sigma"]["real"]["median"] == pytest.approx(8.0, rel=0.15)


def test_report_bad_real_folder_is_exit_2(tabletop_run: Path, tmp_path: Path) -> None:
    result = run_cli("report", str(tabletop_run), "-o", str(tmp_path / "r.html"), "--real", str(tmp_path / "nope"))
    assert result.returncode == 2, result.stderr
    assert "--real" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


_CHROMIUM = "/usr/bin/chromium"
_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_of_the_tabletop_opens_in_headless_chromium(tabletop_run: Path, tmp_path: Path) -> None:
    """The README's report command on the example: the page loads from disk with no console
    error, every image decodes, the grid holds the document's sample frames, a click enlarges
    a frame, and the screenshot is not blank."""
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "report.html"
    json_path = tmp_path / "report.json"
    result = run_cli("report", str(tabletop_run), "-o", str(page_path), "--json", str(json_path))
    assert result.returncode == 0, result.stderr
    import json

    doc = json.loads(json_path.read_text())
    text = page_path.read_text()
    assert "http://" not in text and "https://" not in text.replace("http://www.w3.org", "")
    start, stop = doc["run"]["frames"]  # half-open, as the CLI's A:B: the page names the last frame
    assert f"<td>{stop - start:,} ({start}–{stop - 1})</td>" in text
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_CHROMIUM, args=_CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.goto(page_path.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.querySelectorAll('img[src]')).map(i => [i.complete, i.naturalWidth, i.alt])"
        )
        assert images and all(done and width > 0 for done, width, _ in images), [i for i in images if not i[1]]
        cards = page.query_selector_all("#sample-grid figure.frame-card")
        assert [int(c.get_attribute("data-frame")) for c in cards] == doc["sample_frames"]
        assert page.is_hidden("#lightbox")
        thumb_width = page.evaluate(
            "document.querySelector('figure.frame-card img.main').getBoundingClientRect().width"
        )
        page.click("figure.frame-card img.main")
        assert page.is_visible("#lightbox")
        big_width = page.evaluate("document.getElementById('lightbox-img').getBoundingClientRect().width")
        assert big_width > 1.4 * thumb_width
        page.keyboard.press("Escape")
        assert page.is_hidden("#lightbox")
        shot = page.screenshot(full_page=False)
        browser.close()
    assert errors == []
    pixels = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    assert pixels.std() > 20.0  # a blank or single-colour page is ≈ 0
    # Every embedded picture is a real image too (decoded here without the browser).
    first = text.split('src="data:image/jpeg;base64,', 1)[1].split('"', 1)[0]
    assert cv2.imdecode(np.frombuffer(base64.b64decode(first), np.uint8), cv2.IMREAD_COLOR) is not None
