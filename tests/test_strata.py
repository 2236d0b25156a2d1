"""Multi-jittered pixel samples (``runtime/embedded/strata.py``): the path engine's first-vertex
numbers and both engines' sub-pixel positions. Every pixel's samples visit every cell once and
every one of n strata of each coordinate once, each number stays uniform, and the variance of a
pixel estimate drops."""

from __future__ import annotations

import numpy as np
import pytest
from scenesmith.runtime.embedded.strata import PixelJitter, PixelStrata


def _draws(samples: int, pixels: int, seed: int = 0) -> np.ndarray:
    """(samples, pixels, 2) stratified numbers, as the renderer asks for them sample by sample."""
    strata = PixelStrata(np.random.default_rng(seed), pixels, samples)
    rng = np.random.default_rng(seed + 1)
    rows = np.arange(pixels)
    out = []
    for k in range(samples):
        strata.sample = k
        out.append(strata.apply(rng.random((pixels, 2)), rows, "light0"))
    return np.stack(out)


@pytest.mark.parametrize(("samples", "grid"), [(16, (4, 4)), (8, (4, 2)), (7, (7, 1))])
def test_each_pixel_visits_every_cell_once(samples: int, grid: tuple[int, int]) -> None:
    u = _draws(samples, 500)
    assert (u >= 0).all() and (u < 1).all()
    cells = np.floor(u[..., 0] * grid[0]) + grid[0] * np.floor(u[..., 1] * grid[1])
    for p in range(u.shape[1]):
        assert sorted(cells[:, p].astype(int)) == list(range(samples))


def test_each_number_on_its_own_is_uniform() -> None:
    from scipy.stats import kstest

    u = _draws(16, 4000)
    for k in (0, 5, 15):  # one sample index across pixels: uniform, not stuck in a cell
        for axis in (0, 1):
            assert kstest(u[k, :, axis], "uniform").pvalue > 1e-3


def test_a_pixel_estimate_of_a_soft_shadow_has_less_variance_and_the_same_mean() -> None:
    # a light half occluded along a diagonal edge: the exact integral is 1/2
    f = lambda u: (u[..., 0] + 0.3 * u[..., 1] < 0.65).astype(float)  # noqa: E731
    exact = 0.65 - 0.15  # ∫∫ [x + 0.3 y < 0.65] dx dy = ∫ (0.65 − 0.3 y) dy over [0, 1] = 1/2
    stratified = f(_draws(16, 20000)).mean(axis=0)
    iid = f(np.random.default_rng(9).random((16, 20000, 2))).mean(axis=0)
    assert stratified.mean() == pytest.approx(exact, abs=3e-3)
    assert iid.mean() == pytest.approx(exact, abs=6e-3)
    assert stratified.var() < 0.3 * iid.var()


@pytest.mark.parametrize("samples", [16, 8, 7, 2])
def test_each_coordinate_on_its_own_visits_all_n_strata(samples: int) -> None:
    # the multi-jitter property: a plain 4 x 4 grid splits each coordinate into 4 strata only
    u = _draws(samples, 500)
    for axis in (0, 1):
        strata = np.floor(u[..., axis] * samples).astype(int)
        for p in range(u.shape[1]):
            assert sorted(strata[:, p]) == list(range(samples))


def test_an_edge_along_one_coordinate_is_nearly_exact() -> None:
    # a sphere light's cone or a shadow edge varies mostly along one number: with 16 strata of
    # it only the stratum holding the edge is random (a 4 x 4 grid leaves 4 samples there: 0.27)
    f = lambda u: (u[..., 0] < 0.37).astype(float)  # noqa: E731
    stratified = f(_draws(16, 20000)).mean(axis=0)
    iid = f(np.random.default_rng(9).random((16, 20000, 2))).mean(axis=0)
    assert stratified.mean() == pytest.approx(0.37, abs=2e-3)
    assert stratified.var() < 0.1 * iid.var()


def test_different_pixels_and_dimensions_get_different_patterns() -> None:
    strata = PixelStrata(np.random.default_rng(3), 200, 16)
    rows, u = np.arange(200), np.full((200, 2), 0.5)
    a, b = strata.apply(u, rows, "light0"), strata.apply(u, rows, "bsdf")
    assert len(np.unique(np.round(a, 9), axis=0)) > 50  # the same jitter lands in many places
    assert not np.array_equal(a, b)


def test_pixel_jitter_covers_each_pixel_like_the_strata() -> None:
    samples, h, w = 8, 12, 10
    jitter = PixelJitter(np.random.default_rng(5), samples, h, w)
    offsets = np.stack([jitter.offsets(k) for k in range(samples)])  # (n, H, W, 2)
    assert offsets.shape == (samples, h, w, 2)
    assert (offsets >= -0.5).all() and (offsets < 0.5).all()
    u = (offsets + 0.5).reshape(samples, h * w, 2)
    cells = np.floor(u[..., 0] * 4) + 4 * np.floor(u[..., 1] * 2)
    for p in range(h * w):
        assert sorted(cells[:, p].astype(int)) == list(range(samples))
        for axis in (0, 1):
            assert sorted(np.floor(u[:, p, axis] * samples).astype(int)) == list(range(samples))
    again = PixelJitter(np.random.default_rng(5), samples, h, w)
    assert np.array_equal(again.offsets(0), offsets[0])  # seeded: the same offsets again
