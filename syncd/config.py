"""The YAML configuration: find it, read it, check it against `SCHEMA`, print it back.

`load_config` reports every problem of a file at once, one line each, as
`{file}:{line}: {key.path}: {message}`, in a single `ConfigError`. The keys and their help
are the table in `syncd.config_schema`, their value types `syncd.config_values`; the result
dataclasses, with the defaults, are `syncd.config_types` and are re-exported here.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import platformdirs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncd.config_schema import SCHEMA, reference_markdown
from syncd.config_types import (
    CalendarConfig,
    Config,
    DaemonConfig,
    FrozenMap,
    IdeasConfig,
    MeConfig,
    Rules,
    SourceConfig,
    TagsConfig,
)
from syncd.config_values import INVALID, Context, format_duration, parse_duration
from syncd.errors import ConfigError

__all__ = [
    "CalendarConfig",
    "Config",
    "DaemonConfig",
    "FrozenMap",
    "IdeasConfig",
    "MAX_NODES",
    "MeConfig",
    "Rules",
    "SourceConfig",
    "TagsConfig",
    "default_config_path",
    "effective_yaml",
    "format_duration",
    "load_config",
    "parse_duration",
    "reference_markdown",
]

# No real configuration comes near this; aliases expanding past it are an "alias bomb".
MAX_NODES = 100_000


def default_config_path() -> Path:
    """`$SYNCD_CONFIG` if set, else `config.yaml` in the user config dir (`$XDG_CONFIG_HOME/syncd`)."""
    if os.environ.get("SYNCD_CONFIG"):
        return Path(os.environ["SYNCD_CONFIG"])
    return platformdirs.user_config_path("syncd") / "config.yaml"


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the configuration; raise `ConfigError` listing every problem found."""
    given = Path(path) if path is not None else default_config_path()
    file = str(given)  # messages name the file as the user wrote it
    real = given.expanduser()
    try:
        data = real.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{file}: no such file; copy config/example.yaml there and edit it"]) from None
    except OSError as error:
        raise ConfigError([f"{file}: cannot read it: {error.strerror or error}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError([f"{file}:{line}: not UTF-8 text"]) from None

    ctx = Context(file, base_dir=Path(os.path.abspath(real)).parent)
    root = _compose(text, ctx)
    config = INVALID if ctx.problems else SCHEMA.parse(root, "", ctx)
    if ctx.problems or config is INVALID:
        raise ConfigError(ctx.lines() or [f"{file}: invalid"])  # INVALID is always reported
    return replace(config, path=Path(os.path.abspath(real)))


def _compose(text: str, ctx: Context) -> Node | None:
    """The node tree of the one document in `text` (None when empty), with YAML syntax errors and
    alias bombs reported to `ctx`. Nodes keep their line numbers and duplicate keys, which a
    loaded dict would lose."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or str(error)
        if error.context and message.startswith("but "):  # "but found another document"
            message = f"{error.context}, {message}"
        ctx.add(mark.line + 1 if mark else 1, "", message)
        return None
    except yaml.reader.ReaderError as error:  # a control character: no mark, but a position
        line = text.count("\n", 0, error.position) + 1
        ctx.add(line, "", f"special character {chr(error.character)!r} is not allowed")
        return None
    except yaml.YAMLError as error:
        ctx.add(1, "", str(error))
        return None
    except RecursionError:
        ctx.add(1, "", "nested too deeply")
        return None
    if root is not None:
        _check_expansion(root, ctx)
    return root


def _check_expansion(root: Node, ctx: Context) -> None:
    """Refuse documents whose aliases expand past MAX_NODES nodes, or refer to themselves,
    without expanding them: sizes are memoised per node, so this is linear in the file."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path from the root: meeting one again is a cycle
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_NODES:
                ctx.add(node, "", f"aliases expand this to more than {MAX_NODES} values; refusing to read it")
                return
        elif id(node) in open_nodes:
            ctx.add(node, "", "an *alias refers to the &anchor that contains it; refusing to read it")
            return
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    assert isinstance(node, ScalarNode)
    return []


def effective_yaml(config: Config) -> str:
    """The configuration as YAML with every default filled in; passwords shown as '********'."""
    source = f" of {config.path}" if config.path else ""
    header = f"# Effective configuration{source}: defaults filled in, passwords masked.\n"
    body = yaml.safe_dump(SCHEMA.dump(config), sort_keys=False, allow_unicode=True, default_flow_style=False)
    return header + body
