"""The packaging suite: syncd built as a wheel and installed in a fresh virtualenv, then used as
a person would, with no source tree on sys.path.

Collected only with SYNCD_PACKAGING=1: building and installing takes about 20 s, so the README's
test command leaves it out and `.ci/run` runs it after the server matrix. It needs pip to reach
the configured package index (the build backend and syncd's dependencies come from there)."""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("SYNCD_PACKAGING") == "1" else ["test_wheel.py"]


def pytest_report_header() -> list[str]:
    return [f"packaging suite: wheel in a fresh virtualenv "
            f"(SYNCD_PACKAGING={os.environ.get('SYNCD_PACKAGING')})"]
