"""First-vertex strata of the path engine (``runtime/embedded/strata.py``): every pixel's samples
visit every cell once, each number stays uniform, and the variance of a pixel estimate drops."""

from __future__ import annotations

import numpy as np
import pytest
from scenesmith.runtime.embedded.strata import PixelStrata


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
