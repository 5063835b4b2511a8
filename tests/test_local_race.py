"""LocalTarget.update and .delete racing a calendar app that saves the same file (issue 11, item 6):
the app's version wins and stays in the folder, and syncd gets PreconditionFailed.

No real app can be made to save at an exact moment, so the tests stand in for one: they wrap one
step of the write and save the file right there, the way vdirsyncer and khal do (a temporary file,
then `os.replace`), the way an editor rewrites in place (`open(path, "w")`), or through a handle
opened before syncd started (an app that keeps the file open: it writes into the same inode, even
once syncd has moved the file aside).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from syncd.errors import PreconditionFailed, TargetError
from syncd.targets.local import LOCK_NAME, LocalTarget, etag_of

HREF = "uid-1.ics"


def item(summary: str) -> str:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//syncd//tests//EN\r\nBEGIN:VTODO\r\n"
            f"UID:uid-1\r\nSUMMARY:{summary}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")


OURS = item("Call Ada")
OURS_NEXT = item("Call Ada about the regatta")
# Its size differs from both of syncd's versions, so the etag shows the edit even within the
# file system's time resolution.
PERSONS = item("Call Ada - moved to Friday, bring the charts")
assert len({len(OURS), len(OURS_NEXT), len(PERSONS)}) == 3


# -- the stand-ins for a calendar app ------------------------------------------------------------

def replace_atomically(file: Path, held: BinaryIO) -> None:
    fd, name = tempfile.mkstemp(dir=file.parent, prefix=".app-", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(PERSONS)
    os.replace(name, file)


def rewrite_in_place(file: Path, held: BinaryIO) -> None:
    with open(file, "w") as handle:
        handle.write(PERSONS)


def write_through_open_handle(file: Path, held: BinaryIO) -> None:
    held.seek(0)
    held.truncate()
    held.write(PERSONS.encode())
    held.flush()


WRITERS = {"replace": replace_atomically, "rewrite": rewrite_in_place,
           "open handle": write_through_open_handle}

# Each point names the step of LocalTarget after which the app saves (once).
POINTS = {
    "after the first check": "_check_etag",
    "after the move aside": "_move_aside",
    "after the identity check": "_identity",
    "after placing": "_place",
}

UPDATE_CASES = [(point, writer) for point in POINTS for writer in WRITERS]
# A delete places nothing. After its identity check, an app writing through a handle it holds
# writes into a file that is being removed: lost with any program that deletes a file, so not a
# case syncd can win.
DELETE_CASES = [(point, writer) for point in list(POINTS)[:3] for writer in WRITERS
                if (point, writer) != ("after the identity check", "open handle")]


@pytest.fixture
def calendar(tmp_path: Path) -> Iterator[tuple[LocalTarget, str, BinaryIO]]:
    """A folder holding syncd's file; its etag; a handle on it opened as an app would."""
    target = LocalTarget(tmp_path / "calendar")
    etag = target.create(HREF, OURS)
    with open(target.path / HREF, "r+b") as held:
        yield target, etag, held


def save_after(target: LocalTarget, step: str, save: Callable[[], None]) -> list[str]:
    """Make the app save once `step` has returned for the first time; the list records it."""
    original = getattr(target, step)
    saved: list[str] = []

    def wrapped(*args):
        result = original(*args)
        if not saved:
            saved.append(step)
            save()
        return result

    setattr(target, step, wrapped)
    return saved


def assert_the_persons_version_stayed(target: LocalTarget, held: BinaryIO, writer: str,
                                      before: str) -> None:
    file = target.path / HREF
    assert file.read_bytes().decode() == PERSONS
    assert sorted(os.listdir(target.path)) == [HREF]  # no aside, temporary or lock file
    etag = etag_of(file.stat())
    assert etag != before
    assert target.list() == {HREF: etag}
    if writer == "open handle":  # the app's handle still writes to the file in the folder
        assert os.path.samestat(os.fstat(held.fileno()), file.stat())


# -- the races -----------------------------------------------------------------------------------

@pytest.mark.parametrize("point, writer", UPDATE_CASES)
def test_update_loses_to_an_app_saving_meanwhile(calendar, point, writer):
    target, etag, held = calendar
    file = target.path / HREF
    saved = save_after(target, POINTS[point], lambda: WRITERS[writer](file, held))
    with pytest.raises(PreconditionFailed):
        target.update(HREF, OURS_NEXT, etag)
    assert saved
    assert_the_persons_version_stayed(target, held, writer, etag)


@pytest.mark.parametrize("point, writer", DELETE_CASES)
def test_delete_loses_to_an_app_saving_meanwhile(calendar, point, writer):
    target, etag, held = calendar
    file = target.path / HREF
    saved = save_after(target, POINTS[point], lambda: WRITERS[writer](file, held))
    with pytest.raises(PreconditionFailed):
        target.delete(HREF, etag)
    assert saved
    assert_the_persons_version_stayed(target, held, writer, etag)


@pytest.mark.parametrize("point", ["after the first check", "after placing"])
def test_update_loses_to_a_person_deleting_the_file_meanwhile(calendar, point):
    target, etag, _ = calendar
    file = target.path / HREF
    saved = save_after(target, POINTS[point], file.unlink)
    with pytest.raises(PreconditionFailed):
        target.update(HREF, OURS_NEXT, etag)
    assert saved
    assert os.listdir(target.path) == []


# -- without anyone else -------------------------------------------------------------------------

def test_update_and_delete_work_and_leave_nothing_hidden(tmp_path):
    target = LocalTarget(tmp_path / "calendar")
    file = target.path / HREF
    etag = target.create(HREF, OURS)
    new = target.update(HREF, OURS_NEXT, etag)
    assert new != etag
    assert file.read_bytes().decode() == OURS_NEXT
    assert target.list() == {HREF: new} == {HREF: etag_of(file.stat())}
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert os.listdir(target.path) == [HREF]
    target.delete(HREF, new)
    assert os.listdir(target.path) == []


def test_update_of_a_missing_folder_fails_and_creates_nothing(tmp_path):
    target = LocalTarget(tmp_path / "calendar")
    with pytest.raises(PreconditionFailed):
        target.update(HREF, OURS, "1-2-3")
    with pytest.raises(PreconditionFailed):
        target.delete(HREF, "1-2-3")
    assert not target.path.exists()


@pytest.mark.parametrize("step", ["_identity", "_place"])
def test_an_error_after_the_move_aside_puts_the_file_back(calendar, step):
    target, etag, _ = calendar

    def broken(*args):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    setattr(target, step, broken)
    with pytest.raises(TargetError) as caught:
        target.update(HREF, OURS_NEXT, etag)
    assert not isinstance(caught.value, PreconditionFailed)
    assert str(target.path / HREF) in str(caught.value)
    assert (target.path / HREF).read_bytes().decode() == OURS
    assert target.list() == {HREF: etag}
    assert os.listdir(target.path) == [HREF]


def test_a_file_moved_aside_by_a_syncd_that_died_is_put_back(tmp_path):
    target = LocalTarget(tmp_path / "calendar")
    folder = target.path
    kept = target.create("a.ics", item("Kept"))
    etag = target.create(HREF, OURS)
    # One syncd died right after moving a.ics aside, another right after placing uid-1.ics.
    os.rename(folder / "a.ics", folder / ".a.ics.0123456789ab.aside")
    (folder / f".{HREF}.ba9876543210.aside").write_text(item("Older"))
    target.update(HREF, OURS_NEXT, etag)
    assert sorted(os.listdir(folder)) == ["a.ics", HREF]
    assert (folder / "a.ics").read_bytes().decode() == item("Kept")
    assert target.list()["a.ics"] == kept  # the same file, so syncd still knows it as its own
    assert (folder / HREF).read_bytes().decode() == OURS_NEXT


# -- syncd against syncd -------------------------------------------------------------------------

def test_two_updates_with_the_same_etag_exactly_one_wins(tmp_path):
    folder = tmp_path / "calendar"
    etag = LocalTarget(folder).create(HREF, OURS)
    versions = [item("Call Ada, from the first"), item("Call Ada, from the second")]
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def run(index: int) -> None:
        target = LocalTarget(folder)  # one each, as two processes would have
        write_temp = target._write_temp

        def slow_write_temp(*args):
            time.sleep(0.1)  # the other one is trying meanwhile
            return write_temp(*args)

        target._write_temp = slow_write_temp
        start.wait(5)
        try:
            results[index] = target.update(HREF, versions[index], etag)
        except PreconditionFailed as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    won = [index for index, result in results.items() if isinstance(result, str)]
    lost = [index for index, result in results.items() if isinstance(result, PreconditionFailed)]
    assert len(won) == 1 and len(lost) == 1, results
    file = folder / HREF
    assert file.read_bytes().decode() == versions[won[0]]
    assert etag_of(file.stat()) == results[won[0]]
    assert os.listdir(folder) == [HREF]


def test_a_second_syncd_waits_for_the_folder_lock(calendar):
    target, etag, _ = calendar
    file = target.path / HREF
    other = LocalTarget(target.path)
    results: list[str] = []
    thread = threading.Thread(target=lambda: results.append(other.update(HREF, OURS_NEXT, etag)))
    with target._locked(file):
        lock = target.path / LOCK_NAME
        assert stat.S_IMODE(lock.lstat().st_mode) == 0o600
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()
        assert file.read_bytes().decode() == OURS
    thread.join(10)
    assert results and file.read_bytes().decode() == OURS_NEXT
    assert os.listdir(target.path) == [HREF]


def test_the_removed_lock_file_never_lets_two_holders_in(tmp_path):
    folder = tmp_path / "calendar"
    folder.mkdir()
    inside: list[int] = []
    overlaps: list[int] = []
    rounds: list[int] = []

    def work() -> None:
        target = LocalTarget(folder)
        for _ in range(150):
            with target._locked(folder / HREF):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                os.sched_yield()
                inside.pop()
            rounds.append(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(rounds) == 600
    assert overlaps == []
    assert os.listdir(folder) == []


def test_a_lock_file_left_by_a_syncd_that_died_does_not_block(calendar):
    target, etag, _ = calendar
    (target.path / LOCK_NAME).write_text("")
    target.update(HREF, OURS_NEXT, etag)
    assert os.listdir(target.path) == [HREF]
