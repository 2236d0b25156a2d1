"""The embedded CPU backend: USD + Embree (Open3D) ray casting, numba kernels, MuJoCo physics.

Process defaults for the compiled kernels, set before numba or OpenMP load (a value the user
exported wins): OpenMP worker threads sleep instead of spinning between parallel loops — on
a 2-core machine a spinning worker takes a core from Embree and NumPy and made frames ~50%
slower (bench/bench_render.py) — and numba prefers OpenMP over a TBB it finds too old.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("NUMBA_THREADING_LAYER_PRIORITY", "omp tbb workqueue")
