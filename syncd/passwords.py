"""Passwords for the DAV servers: from an environment variable, a command, the configuration or
the system keyring. No message ever contains a password or a command's output."""

from __future__ import annotations

import logging
import os
import subprocess

from syncd.config import CalendarConfig, SourceConfig
from syncd.config_passwords import asks_keyring
from syncd.config_types import mask_url
from syncd.errors import SyncdError, TargetError

log = logging.getLogger(__name__)


# A password_command runs once per process, not on every poll of the daemon (`pass show` may
# ask for a passphrase); a reload of the configuration forgets them.
_COMMAND_PASSWORDS: dict[str, str] = {}


def forget_passwords() -> None:
    _COMMAND_PASSWORDS.clear()


def resolve_password(settings: CalendarConfig | SourceConfig, key: str = "calendar",
                     error: type[SyncdError] = TargetError) -> str | None:
    """The password of the CalDAV calendar or of a CardDAV source (`key` names it in messages):
    `password_env`, `password_command` or `password`, whichever is set; with none of them, the
    system keyring's `keyring.get_password("syncd", url)` when the `keyring` package is
    installed and a user name is given (`config_passwords.asks_keyring`; without the package,
    `load_config` refuses such a configuration); else None. No message ever contains the
    password or the command's output."""
    if settings.password_env:
        if settings.password_env not in os.environ:
            raise error(f"{key}.password_env: ${settings.password_env} is not set")
        return os.environ[settings.password_env]
    if settings.password_command:
        if settings.password_command in _COMMAND_PASSWORDS:
            return _COMMAND_PASSWORDS[settings.password_command]
        try:
            done = subprocess.run(
                settings.password_command, shell=True, capture_output=True, text=True, timeout=60,
                check=False,  # the exit status is read below, for a message of its own
            )
        except (OSError, subprocess.TimeoutExpired) as failure:
            raise error(f"{key}.password_command failed: {failure}") from failure
        if done.returncode != 0:
            # Never echo its output: it may be the secret itself.
            raise error(f"{key}.password_command exited with status {done.returncode}")
        _COMMAND_PASSWORDS[settings.password_command] = done.stdout.rstrip("\n")
        return _COMMAND_PASSWORDS[settings.password_command]
    if settings.password is not None:
        return settings.password
    if not asks_keyring(settings):
        return None
    return _keyring_password(settings.url or "", key)


def _keyring_password(url: str, key: str) -> str | None:
    """`keyring.get_password("syncd", url)` if the optional `keyring` package is installed."""
    try:
        import keyring  # type: ignore[import-not-found]  # noqa: PLC0415 (an optional package)
    except ImportError:
        return None
    try:
        password = keyring.get_password("syncd", url)
    except Exception as failure:  # any backend may fail in its own way (D-Bus, locked, none)
        level = logging.DEBUG if type(failure).__name__ == "NoKeyringError" else logging.WARNING
        log.log(level, "%s: no password from the system keyring (%s)", key,
                type(failure).__name__)
        return None
    if password is None:
        log.debug("%s: the system keyring holds no password for service 'syncd', %s", key,
                  mask_url(url))
    return password  # type: ignore[no-any-return]
