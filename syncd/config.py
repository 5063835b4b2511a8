"""The YAML configuration: find it, read it, check it against `SCHEMA`, print it back.

`load_config` reports every problem of a file at once, one line each, as
`{file}:{line}: {key.path}: {message}`, in a single `ConfigError`. The keys and their help
are the table in `syncd.config_schema`, their value types `syncd.config_values`; the result
dataclasses, with the defaults, are `syncd.config_types` and are re-exported here.
"""

from __future__ import annotations

import os
import re
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
    current_profile,
)
from syncd.config_values import INVALID, Context, format_duration, join, parse_duration
from syncd.errors import ConfigError

__all__ = [
    "MAX_NODES",
    "CalendarConfig",
    "Config",
    "DaemonConfig",
    "FrozenMap",
    "IdeasConfig",
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
    """`$SYNCD_CONFIG` if set, else `config.yaml` in the user config dir (`$XDG_CONFIG_HOME/syncd`),
    or `NAME.yaml` there for the profile `$SYNCD_PROFILE` names."""
    if os.environ.get("SYNCD_CONFIG"):
        return Path(os.environ["SYNCD_CONFIG"])
    return platformdirs.user_config_path("syncd") / f"{current_profile() or 'config'}.yaml"


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the configuration; raise `ConfigError` listing every problem found."""
    given = Path(path) if path is not None else default_config_path()
    file = str(given)  # messages name the file as the user wrote it
    real = given.expanduser()
    try:
        data = real.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{file}: no such file; `syncd init` writes one from the address "
                           "books and calendars on this machine (`syncd config example > "
                           f"{file}`: the commented example)"]) from None
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
    if ctx.problems or not isinstance(config, Config):
        raise ConfigError(clip(ctx.lines() or [f"{file}: invalid"]))  # INVALID is always reported
    return replace(config, path=Path(os.path.abspath(real)))


def clip(problems: list[str], width: int = 300) -> list[str]:
    """Each problem cut to at most `width` characters: a value quoted in it may be megabytes."""
    clipped = []
    for problem in problems:
        if len(problem) > width:
            cut, left_out = "", len(problem) - width
            for _ in range(2):  # the count's own digits take room too
                cut = f" ... ({left_out} more characters) ... "
                left_out = len(problem) - width + len(cut)
            problem = problem[: width - len(cut) - 60] + cut + problem[-60:]
        clipped.append(problem)
    return clipped


def _compose(text: str, ctx: Context, *, trusted: bool = False) -> Node | None:
    """The node tree of the one document in `text` (None when empty), with YAML syntax errors and
    alias bombs reported to `ctx`. Nodes keep their line numbers and duplicate keys, which a
    loaded dict would lose. `trusted` (syncd's own data files, checked by its tests) skips the
    alias-bomb and NUL walks, 0.17 s of the 0.6 s that every command spent on the catalog."""
    try:
        root = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.MarkedYAMLError as error:
        if "nesting depth" not in (error.problem or ""):
            root = _compose_for_messages(text, ctx)
        else:
            # libyaml stops at 1,000 levels; PyYAML's Python scanner took 40 s on 20,000 `[`
            # before its RecursionError, so libyaml's verdict is the message.
            mark = error.problem_mark
            ctx.add(mark.line + 1 if mark else 1, "", "nested too deeply")
            root = None
    except (yaml.YAMLError, RecursionError):
        root = _compose_for_messages(text, ctx)
    if root is not None and not trusted:
        _check_expansion(root, ctx)
        _check_nul(root, ctx)
    return root


# libyaml composes the shipped catalog in 0.03 s, PyYAML's Python composer in 0.19 s (a quarter
# of a 1,000-contact cold cycle); a document libyaml refuses is composed again in Python, for
# PyYAML's messages (and PyYAML's verdict).
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_for_messages(text: str, ctx: Context) -> Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        ctx.add(*_syntax_problem(error, text))
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


def _syntax_problem(error: yaml.MarkedYAMLError, text: str) -> tuple[int, str, str]:
    """(line, key, message) of a YAML syntax error. Where the construct the parser was in
    (`"while scanning a quoted scalar"`) started on an earlier line, the message says so, and
    when the parser only stumbled at the end of the file, that earlier line is the one named."""
    mark = error.problem_mark or error.context_mark
    message = error.problem or error.context or str(error)
    if error.context and message.startswith("but "):  # "but found another document"
        return (mark.line + 1 if mark else 1, "", f"{error.context}, {message}")
    line = mark.line + 1 if mark else 1
    start = error.context_mark
    if error.problem and error.context and start is not None and start.line + 1 < line:
        construct = re.sub(r"^while (scanning|parsing) ", "", error.context)
        if mark is not None and not text[mark.index :].strip():
            return start.line + 1, "", f"{message}, in {construct}"
        message = f"{message}, in {construct} that starts on line {start.line + 1}"
    return line, "", message


def _check_nul(root: Node, ctx: Context) -> None:
    """Report every value holding a NUL character (`"a\\0b"`): no path, name or URL can hold
    one, and the OS would refuse it later with a traceback."""
    seen: set[int] = set()
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack:
        node, key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if "\x00" in node.value:
                ctx.add(node, key, "a NUL character (\\0) is not allowed")
        elif isinstance(node, SequenceNode):
            stack.extend((child, f"{key}[{index}]") for index, child in enumerate(node.value))
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, ScalarNode) else "?"
                stack.extend([(key_node, key), (value_node, join(key, name))])


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
                ctx.add(node, "", f"aliases expand this to more than {MAX_NODES} values; "
                                  "refusing to read it")
                return
        elif id(node) in open_nodes:
            ctx.add(node, "",
                    "an *alias refers to the &anchor that contains it; refusing to read it")
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
    body = yaml.safe_dump(SCHEMA.dump(config), sort_keys=False, allow_unicode=True,
                          default_flow_style=False)
    return header + body
