"""A DAV user name needs a password from somewhere. With none of `password`, `password_env`
and `password_command` (and none written into the URL), syncd asks the system keyring; when the
optional `keyring` package is not installed there is nothing to ask, and that is a configuration
error reported where the user name is, not a failed login at every cycle."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from syncd.config_values import Context, join

if TYPE_CHECKING:
    from yaml.nodes import Node

    from syncd.config_types import CalendarConfig, SourceConfig

ADD_A_PASSWORD: Final = "add password_command, password_env or password"


def keyring_installed() -> bool:
    return importlib.util.find_spec("keyring") is not None


def asks_keyring(settings: CalendarConfig | SourceConfig) -> bool:
    """A user name is given (as `username` or in the URL) and no password for it."""
    if settings.password_env or settings.password_command or settings.password is not None:
        return False
    parts = urlsplit(settings.url or "")
    return bool(settings.username or parts.username) and parts.password is None


def check_password_source(settings: CalendarConfig | SourceConfig,
                          pairs: dict[str, tuple[Node, Node]], where: Node | int, key: str,
                          ctx: Context) -> bool:
    """False, with the problem reported at the user name, when it has no password to go with
    it and no keyring to ask."""
    if not asks_keyring(settings) or keyring_installed():
        return True
    name = "username" if "username" in pairs else "url"
    node = pairs[name][0] if name in pairs else where
    ctx.add(node, join(key, name), f"a user name without a password: {ADD_A_PASSWORD} "
            "(or install the `keyring` package and store the password there)")
    return False
