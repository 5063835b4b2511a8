"""Shared fixtures: a real Radicale on 127.0.0.1 for the whole session, and a fresh calendar
name per test so that tests never see each other's objects."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator

import pytest

from syncd.demo import RadicaleServer


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """Radicale with htpasswd authentication (alice / s3cret-pw), started once per session."""
    # Requests to the test server must never go through a proxy from the environment.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("NO_PROXY", "no_proxy"):
            patch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1"])))
        with RadicaleServer(tmp_path_factory.mktemp("radicale"), auth=True) as server:
            yield server


@pytest.fixture
def calendar_name(request: pytest.FixtureRequest) -> str:
    """A calendar display name no other test uses."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"{test}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def caldav_target(radicale: RadicaleServer, calendar_name: str) -> Callable[..., object]:
    """Builds CalDAVTarget instances on this test's own calendar of the session's Radicale."""
    from syncd.targets.caldav import CalDAVTarget

    def make(**overrides: object) -> CalDAVTarget:
        options: dict[str, object] = {
            "url": radicale.url,
            "calendar": calendar_name,
            "username": radicale.username,
            "password": radicale.password,
            "timeout": 10.0,
        }
        options.update(overrides)
        return CalDAVTarget(**options)  # type: ignore[arg-type]

    return make
