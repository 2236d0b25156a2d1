"""The Isaac Sim backend (runs only inside Kit; every ``omni`` import is inside a function).

- ``backend.py``: :class:`IsaacBackend` — our stage in Kit, RTX render products, Replicator
  annotators, RTX LiDAR, PhysX through the shared episode logic;
- ``physx_world.py``: the PhysX world behind the physics-state log;
- ``replicator_graph.py``: the ``replicator`` randomization mode's graph compiler;
- ``session.py``: generation and preview as coroutines (panel and headless runs);
- ``rep_writers.py``: our writers as ``rep.Writer`` classes.

None of it has run in Isaac Sim yet (see the README's Isaac Sim section).
"""
