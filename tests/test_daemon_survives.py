"""An unexpected exception in a cycle (a bug some input meets) fails that cycle, not the daemon:
one line at error, the traceback at debug, a backoff, and the next cycle runs as usual. A bug
cannot be produced on demand by real parts, so this one is injected into `cycle.sync`."""

from __future__ import annotations

import datetime as dt
import logging
import textwrap

from sync_support import write_card

from syncd import cycle
from syncd.daemon import Daemon


def test_an_unexpected_exception_fails_one_cycle_and_the_next_one_runs(tmp_path, monkeypatch,
                                                                        caplog):
    (tmp_path / "contacts").mkdir()
    write_card(tmp_path / "contacts", "ann", "Ann Rossi", interests="sailing")
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: {tmp_path / 'contacts'}}}]
        calendar: {{type: local, path: {tmp_path / 'calendar'}}}
        state: {tmp_path / 'state.sqlite'}
        """))
    daemon = Daemon(config)
    real_sync = cycle.sync

    def buggy(*args, **kwargs):
        raise KeyError("a card no test foresaw")

    monkeypatch.setattr(cycle, "sync", buggy)
    with caplog.at_level(logging.DEBUG, logger="syncd"):
        delay = daemon.cycle(dt.date(2026, 11, 30))
    assert 0 < delay <= 2.0 and daemon.health.failures == 1
    assert "unexpected KeyError" in daemon.status_line()
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "cycle failed: unexpected KeyError" in line.getMessage() and line.exc_info is None
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)

    monkeypatch.setattr(cycle, "sync", real_sync)
    assert daemon.cycle(dt.date(2026, 11, 30)) == daemon.timing.poll
    assert daemon.health.failures == 0 and "1 created" in daemon.status_line()
