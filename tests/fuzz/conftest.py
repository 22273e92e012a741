"""Hypothesis profiles for the fuzz tests of the parsers that read the hostile web.

- ``ci`` (the default): a bounded run, 100 examples per property (~12 s in all), no deadline
  (a loaded 2-core CI machine must not fail a test for being slow), no example database
  written into the working tree.
- ``long``: many examples per property, for an on-demand session:
  ``BABELWIRE_FUZZ_PROFILE=long pytest tests/fuzz`` (``BABELWIRE_FUZZ_EXAMPLES`` sets the
  count; failures found are kept in ``.hypothesis/`` and replayed first next time).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("ci", max_examples=100, deadline=None, database=None,
                          suppress_health_check=_QUIET, derandomize=False)
settings.register_profile("long", max_examples=int(os.environ.get(
    "BABELWIRE_FUZZ_EXAMPLES", "5000")), deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("BABELWIRE_FUZZ_PROFILE", "ci"))
