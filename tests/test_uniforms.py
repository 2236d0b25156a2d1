"""The renderer's parallel uniform numbers (``runtime/embedded/uniforms.py``): uniform, seeded,
independent between draws and between neighbours, and the same for any thread count."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scenesmith.runtime.embedded.uniforms import uniforms
from scipy.stats import chisquare, kstest, pearsonr


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numbers_are_uniform_in_the_unit_interval(dtype: type) -> None:
    u = uniforms(np.random.default_rng(0), (100_000, 2), dtype)
    assert u.dtype == dtype and u.shape == (100_000, 2)
    assert (u >= 0).all() and (u < 1).all()
    assert kstest(u.ravel(), "uniform").pvalue > 1e-3
    # 2-D uniformity of the pairs a sampler uses together: counts over a 16 x 16 grid
    cells = np.floor(u[:, 0] * 16).astype(int) * 16 + np.floor(u[:, 1] * 16).astype(int)
    assert chisquare(np.bincount(cells, minlength=256)).pvalue > 1e-3


def _split_mix64(x: int) -> int:
    """SplitMix64's output function in plain Python integers (Steele, Lea and Flood 2014)."""
    mask = 2**64 - 1
    z = x & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_numbers_are_splitmix64_of_the_key_and_the_place() -> None:
    # a known-answer check: a slip in the kernel's 64-bit arithmetic (a silent promotion to
    # float, a wrong shift) would still pass the statistical tests above
    key = int(np.random.default_rng(11).integers(0, 2**64, dtype=np.uint64))
    gamma = 0x9E3779B97F4A7C15
    want = [_split_mix64(key + (i + 1) * gamma) for i in range(64)]
    assert uniforms(np.random.default_rng(11), (64,)).tolist() == [(z >> 11) * 2.0**-53 for z in want]
    got32 = uniforms(np.random.default_rng(11), (64,), np.float32).tolist()
    assert got32 == [float(np.float32((z >> 40) * 2.0**-24)) for z in want]
    from scenesmith.runtime.embedded.uniforms import _fill64

    top = np.empty(8)  # the largest key: key + place wraps around 2^64, as unsigned sums must
    _fill64(top, np.uint64(2**64 - 1))
    assert top.tolist() == [(_split_mix64(2**64 - 1 + (i + 1) * gamma) >> 11) * 2.0**-53 for i in range(8)]


def test_seeded_and_each_draw_takes_one_number_from_the_generator() -> None:
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    first = uniforms(a, (1000,))
    assert np.array_equal(first, uniforms(b, (1000,)))
    second = uniforms(a, (1000,))
    assert not np.array_equal(first, second)
    assert abs(pearsonr(first, second).statistic) < 0.1  # consecutive draws are unrelated
    assert abs(pearsonr(first[:-1], first[1:]).statistic) < 0.1  # and so are neighbours
    b.integers(0, 2**64, dtype=np.uint64)  # what the second draw consumed
    assert a.random() == b.random()  # the generator's own stream moves on by exactly one number


def test_the_same_numbers_for_any_thread_count() -> None:
    code = (
        "import numpy as np, hashlib\n"
        "from scenesmith.runtime.embedded.uniforms import uniforms\n"
        "u = uniforms(np.random.default_rng(3), (200_001, 5))\n"
        "v = uniforms(np.random.default_rng(3), (200_001,), np.float32)\n"
        "print(hashlib.sha256(u.tobytes() + v.tobytes()).hexdigest())\n"
    )
    digests = set()
    for threads in ("1", "3"):
        env = {"NUMBA_NUM_THREADS": threads, "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(done.stdout.strip())
    assert len(digests) == 1
