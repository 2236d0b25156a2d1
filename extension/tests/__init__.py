"""Kit tests (``omni.kit.test``): they need Isaac Sim and run only under Kit's test runner
(``[[test]]`` in ``config/extension.toml``); pytest never collects them (``testpaths``)."""

from .test_extension import *  # noqa: F403
