"""The server matrix: every server of `SERVERS`, started once per test session on 127.0.0.1.

Collected only with SYNCD_MATRIX=1 (tests/conftest.py), after `tests/servers/setup.sh` installed
the Debian servers: `.ci/run` does both when apt-get is there. A server that cannot start is a
failure of every test on it, never a skip."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

from .base import Server

SERVERS = ["radicale", "xandikos", "cyrus", "sogo", "davical", "sabre", "sabre-digest"]


@pytest.fixture(scope="session", params=SERVERS)
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    name, _, auth = request.param.partition("-")
    workdir = tmp_path_factory.mktemp(request.param)
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("NO_PROXY", "no_proxy"):
            patch.setenv(variable, "127.0.0.1,localhost")
        if name in ("radicale", "xandikos"):
            from . import pypi

            started: Server = getattr(pypi, name.capitalize())(workdir)
        else:
            module = importlib.import_module(f"{__package__}.{name}")
            started = module.start(workdir, auth) if auth else module.start(workdir)
        try:
            yield started
        finally:
            started.stop()


def pytest_report_header() -> list[str]:
    return [f"server matrix: {', '.join(SERVERS)} (SYNCD_MATRIX={os.environ.get('SYNCD_MATRIX')})"]
