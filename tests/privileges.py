"""Permission tests that also mean something when the suite runs as root (CI does): root reads
every file whatever its mode, so the check runs with the effective uid of `nobody`."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NOBODY = 65534


@contextmanager
def unprivileged() -> Iterator[Path]:
    """A fresh folder outside pytest's 0700 tmp tree, so that `nobody` can reach it."""
    folder = Path(tempfile.mkdtemp(prefix="syncd-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def as_nobody() -> Iterator[None]:
    """Run the block with the effective uid of `nobody` when root; as is otherwise. Python may
    live under /root, which `nobody` cannot read: do nothing inside that imports lazily."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
