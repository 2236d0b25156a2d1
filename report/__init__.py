"""Reading a finished output folder: label statistics, randomizer coverage, deployment
conditions, checks, and the report document the HTML page and ``--json`` are built from.

DESIGN §10: this room reads output folders only (run files, manifest, HDF5 shards, lineage) and
imports no backend; it may import ``scenarios``, ``sensors`` and ``writers``.
"""
