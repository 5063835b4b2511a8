"""The conformance suite reads other projects' test cards from ../shared/corpus (beside the
clone; CI always has it). Without it the suite is skipped, and the end of the run says so."""

from __future__ import annotations

import pytest
from shared_corpus import NOT_RUN


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if NOT_RUN:
        terminalreporter.write_sep("=", NOT_RUN, yellow=True, bold=True)
