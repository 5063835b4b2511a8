"""Bad YAML in, one clear ConfigError out: configurations and catalogs with wrong types, tabs,
duplicate keys, alias bombs, bytes that are not UTF-8, huge numbers and unknown keys, read by the
real loaders from real files. Every problem must name `file:line` (and the key when there is
one); nothing may escape as a traceback, hang or eat memory."""

from __future__ import annotations

import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syncd.catalog import load_catalog
from syncd.config import load_config
from syncd.errors import ConfigError

# Every refusal, alias bombs included, is made without expanding what it refuses: a bound on
# the memory it takes, not on the time (a wall-clock bound failed on a loaded machine).
MEMORY = 64 * 2**20  # bytes
SYNCD = Path(sys.executable).with_name("syncd")


def refused(load, path: Path) -> list[str]:
    """The problems `load(path)` raises, checked to be well formed; fails on anything else."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as raised:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY, f"{peak / 2**20:.0f} MB to refuse {path}"
    problems = raised.value.problems
    assert problems and raised.value.exit_code == 2
    for problem in problems:
        assert re.match(rf"{re.escape(str(path))}(:\d+)?: \S", problem), problem
        assert "\n" not in problem and len(problem) <= 300, problem
        assert "Traceback" not in problem
    return problems


def config_problems(path: Path) -> list[str]:
    return refused(load_config, path)


def catalog_problems(path: Path) -> list[str]:
    return refused(lambda p: load_catalog([p], include_shipped=False), path)


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# --- configurations ---------------------------------------------------------------------------

HEAD = "contacts:\n  - type: vdir\n    path: /nonexistent/cards\n"  # lines 1-3


def bomb(levels: int = 9) -> str:
    """The "billion laughs": 9 levels of 9 aliases each, 9**9 values once expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# (text, line, key): the problem expected at `file:line: key: ...`, key "" for none.
CONFIGS = {
    "wrong-type-list-for-text": (HEAD + "me:\n  name: [a, b]\n", 5, "me.name"),
    "wrong-type-mapping-for-list": (HEAD + "me:\n  interests: {a: 1}\n", 5, "me.interests"),
    "wrong-type-text-for-count": (HEAD + "rules:\n  weekly_cap: lots\n", 5, "rules.weekly_cap"),
    "wrong-type-bool-for-duration": (HEAD + "rules:\n  horizon: yes\n", 5, "rules.horizon"),
    "wrong-type-number-for-section": (HEAD + "calendar: 5\n", 4, "calendar"),
    "list-instead-of-mapping": ("- contacts\n- calendar\n", 1, ""),
    "list-instead-of-source-mapping": ("contacts:\n  - [vdir, /tmp]\n", 2, "contacts[0]"),
    "scalar-document": ("just some words\n", 1, ""),
    "empty-file": ("", 1, "contacts"),
    "only-a-comment": ("# nothing here\n", 1, "contacts"),
    "tab-indentation": ("contacts:\n\t- type: vdir\n\t  path: /tmp\n", 2, ""),
    "tab-before-key": (HEAD + "me:\n\tname: Anna\n", 5, ""),
    "duplicate-top-key": (HEAD + "me: {}\nme: {}\n", 5, "me"),
    "duplicate-nested-key": (HEAD + "rules:\n  weekly_cap: 3\n  weekly_cap: 4\n", 6, "rules.weekly_cap"),
    "unknown-key": (HEAD + "colour: red\n", 4, "colour"),
    "unknown-nested-key": (HEAD + "rules:\n  weekly_capp: 3\n", 5, "rules.weekly_capp"),
    "huge-int-count": (HEAD + "rules:\n  weekly_cap: " + "9" * 5000 + "\n", 5, "rules.weekly_cap"),
    "huge-int-whole-number": (HEAD + "ideas:\n  per_followup: " + "9" * 5000 + "\n", 5, "ideas.per_followup"),
    "huge-int-weight": (HEAD + "rules:\n  give_back:\n    weights:\n      book: 1" + "0" * 400 + "\n",
                        7, "rules.give_back.weights.book"),
    "huge-float": (HEAD + "rules:\n  give_back:\n    threshold: 1e999\n", 6, "rules.give_back.threshold"),
    "huge-duration-days": (HEAD + "rules:\n  horizon: 99999999999d\n", 5, "rules.horizon"),
    "huge-duration-weeks": (HEAD + "daemon:\n  poll: 999999999999999999w\n", 5, "daemon.poll"),
    "huge-category-duration": (HEAD + "rules:\n  keep_in_touch:\n    categories:\n      work: " + "9" * 40
                               + "d\n", 7, "rules.keep_in_touch.categories.work"),
    "huge-working-day": (HEAD + "rules:\n  working_days: [mon, " + "9" * 5000 + "]\n", 5,
                         "rules.working_days[1]"),
    "negative-count": (HEAD + "rules:\n  weekly_cap: -" + "9" * 5000 + "\n", 5, "rules.weekly_cap"),
    "nul-escape-in-path": ('contacts:\n  - type: vdir\n    path: "/tmp/a\\0b"\n', 3, "contacts[0].path"),
    "nul-escape-in-name": (HEAD + 'me:\n  name: "An\\0na"\n', 5, "me.name"),
    "nul-byte-raw": (HEAD + "me:\n  name: An\x00na\n", 5, ""),
    "control-character": (HEAD + "me:\n  name: An\x07na\n", 5, ""),
    "alias-bomb": (HEAD + bomb(), 0, ""),  # the line of the level that passes the limit
    "alias-bomb-in-flow": (HEAD + "x: &x [[[[[[[[[[1,1,1,1,1,1,1,1,1,1]]]]]]]]]]\n" + bomb(), 0, ""),
    "recursive-alias": (HEAD + "me: &me\n  name: *me\n", 4, ""),
    "undefined-alias": (HEAD + "me:\n  name: *nowhere\n", 5, ""),
    "deep-nesting": (HEAD + "me:\n  name: " + "[" * 20000 + "\n", 0, ""),
    "two-documents": (HEAD + "---\n" + HEAD, 0, ""),
    "unclosed-quote": (HEAD + 'me:\n  name: "Anna\n', 0, ""),
    "merge-of-a-list": (HEAD + "me:\n  <<: [1, 2]\n", 5, "me"),
    "non-string-key": (HEAD + "? [a, b]\n: 1\n", 4, ""),
    "python-tag": (HEAD + "me: !!python/object/apply:os.system [echo hi]\n", 4, "me"),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_bad_configuration_is_one_config_error_naming_file_line_and_key(tmp_path, name):
    text, line, key = CONFIGS[name]
    path = write(tmp_path / f"{name}.yaml", text)
    problems = config_problems(path)
    if line:
        prefix = f"{path}:{line}: " + (f"{key}: " if key else "")
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    else:  # the parser's own position: some line of the file
        lines = [int(m[1]) for p in problems if (m := re.match(rf"{re.escape(str(path))}:(\d+): ", p))]
        assert lines and all(1 <= n <= text.count("\n") + 1 for n in lines), problems


@pytest.mark.parametrize("data", [
    b"contacts:\n  - type: vdir\n    path: /tmp/caf\xe9\n",  # Latin-1
    b"\xff\xfe" + "contacts: []\n".encode("utf-16-le"),  # UTF-16
    b"contacts:\n  - type: vdir\n    path: /tmp/\xc3\n",  # cut inside a character
], ids=["latin-1", "utf-16", "cut-character"])
def test_bytes_that_are_not_utf8_name_the_line(tmp_path, data):
    path = write(tmp_path / "config.yaml", data)
    problems = config_problems(path)
    line = data.count(b"\n", 0, re.search(rb"[\x80-\xff]", data).start()) + 1
    assert problems == [f"{path}:{line}: not UTF-8 text"]


def test_alias_bomb_fails_fast_and_small(tmp_path):
    path = write(tmp_path / "bomb.yaml", HEAD + bomb(12))
    tracemalloc.start()
    try:
        problems = config_problems(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert any("refusing to read it" in p for p in problems), problems
    assert peak < 20_000_000, f"{peak / 1e6:.1f} MB to refuse a 1 kB file"


def test_every_problem_of_a_file_full_of_them_at_once(tmp_path):
    text = HEAD + (
        "me:\n  name: [a]\n  language: klingon\n"  # 5, 6
        "rules:\n  weekly_cap: " + "9" * 5000 + "\n  horizon: 99999999999d\n"  # 8, 9
        "  working_days: [mon, someday]\n"  # 10
        "colour: red\n"  # 11
    )
    path = write(tmp_path / "config.yaml", text)
    problems = config_problems(path)
    assert [p.split(": ")[0:2] for p in problems] == [
        [f"{path}:5", "me.name"], [f"{path}:6", "me.language"], [f"{path}:8", "rules.weekly_cap"],
        [f"{path}:9", "rules.horizon"], [f"{path}:10", "rules.working_days[1]"], [f"{path}:11", "colour"],
    ]


# Each leaf of a valid configuration, on its own line; one at a time gets a wrong value.
LEAVES = [
    ("contacts[0].type", "contacts:\n  - type: {}"),
    ("contacts[0].path", "    path: {}"),
    ("calendar.type", "calendar:\n  type: {}"),
    ("calendar.path", "  path: {}"),
    ("calendar.calendar", "  calendar: {}"),
    ("calendar.component", "  component: {}"),
    ("me.name", "me:\n  name: {}"),
    ("me.interests", "  interests: {}"),
    ("me.language", "  language: {}"),
    ("tags.markers", "tags:\n  markers: {}"),
    ("tags.synonyms", "  synonyms: {}"),
    ("tags.related", "  related: {}"),
    ("rules.keep_in_touch.default", "rules:\n  keep_in_touch:\n    default: {}"),
    ("rules.keep_in_touch.categories", "    categories: {}"),
    ("rules.birthday.lead", "  birthday:\n    lead: {}"),
    ("rules.weekly_cap", "  weekly_cap: {}"),
    ("rules.working_days", "  working_days: {}"),
    ("rules.horizon", "  horizon: {}"),
    ("rules.give_back.threshold", "  give_back:\n    threshold: {}"),
    ("rules.give_back.window", "    window: {}"),
    ("rules.give_back.after", "    after: {}"),
    ("rules.give_back.weights", "    weights: {}"),
    ("ideas.per_followup", "ideas:\n  per_followup: {}"),
    ("catalog", "catalog: {}"),
    ("daemon.poll", "daemon:\n  poll: {}"),
    ("daemon.debounce", "  debounce: {}"),
    ("timezone", "timezone: {}"),
    ("state", "state: {}"),
]
GOOD = ["vdir", "/tmp/cards", "local", "/tmp/cal", "Follow-ups", "todo", "Anna", "[sailing, chess]",
        "en", "[Interests]", "{ml: machine-learning}", "{sailing: [ocean]}", "90d", "{work: 30d}", "7d",
        "10", "[mon, tue]", "28d", "1.5", "365d", "7d", "{book: 3}", "3", "[/tmp/mine.yaml]", "5m", "1s",
        "Europe/Rome", "/tmp/state.sqlite"]
BAD = st.one_of(
    st.sampled_from([
        "[]", "[1, 2]", "{}", "{a: 1}", "[[a]]", "~", "''", '""', "true", "no", "0", "-1", "1.5", "-0.0",
        "1e999", ".nan", ".inf", "0x" + "f" * 300, "9" * 5000, "1" + "0" * 400, "99999999999999d",
        "0d", "30x", "3.5d", '"a\\0b"', "*nowhere", "&x [*x]", "!!binary aGk=", "!!float 5", "2026-01-01",
        "'x' 'y'", "[unclosed", "{a: 1, a: 2}", "x" * 10000, "@reserved", "%directive", "a: b", "- a",
        "Europe/Nowhere", "http://[::1", "mon", "/dev/null", "$UNSET_SYNCD_VAR/x",
    ]),
    st.integers().map(str),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(lambda t: repr(t)),
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(LEAVES) - 1), value=BAD)
def test_any_wrong_value_of_any_key_is_reported_on_its_line(tmp_path_factory, index, value):
    folder = tmp_path_factory.mktemp("mutant")
    lines = [template.format(value if number == index else GOOD[number])
             for number, (_, template) in enumerate(LEAVES)]
    text = "\n".join(lines) + "\n"
    path = write(folder / "config.yaml", text)
    line = sum(text.count("\n") + 1 for text in lines[:index]) + lines[index].count("\n") + 1
    try:
        load_config(path)
        event("loaded")
    except ConfigError as error:
        event("refused")
        assert error.problems and all(
            re.match(rf"{re.escape(str(path))}:\d+: \S", p) and len(p) <= 300 for p in error.problems
        ), error.problems
        # A syntax error may be found a line later; it then names where its construct started.
        assert any(p.startswith(f"{path}:{line}: ") or p.endswith(f" starts on line {line}")
                   for p in error.problems), (line, error.problems)


def test_the_valid_base_of_the_mutations_loads(tmp_path):
    text = "\n".join(template.format(good) for (_, template), good in zip(LEAVES, GOOD, strict=True))
    config = load_config(write(tmp_path / "config.yaml", text + "\n"))
    assert config.rules.weekly_cap == 10 and config.timezone == "Europe/Rome"


def test_cli_config_check_says_what_is_wrong_in_one_line_each_and_exits_2(tmp_path):
    path = write(tmp_path / "config.yaml", HEAD + "rules:\n  weekly_cap: " + "9" * 5000 + "\n"
                 + "  horizon: 99999999999d\n" + 'me:\n  name: "a\\0b"\n')
    result = subprocess.run([str(SYNCD), "config", "check", "--config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"{path}:8: me.name: a NUL character (\\0) is not allowed"]
    write(path, HEAD + "rules:\n  weekly_cap: " + "9" * 5000 + "\n" + "  horizon: 99999999999d\n")
    result = subprocess.run([str(SYNCD), "config", "check", "--config", str(path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:5: rules.weekly_cap: '9999999999999999...' is too large (5000 digits)",
        f"{path}:6: rules.horizon: '99999999999d' is too large (11 digits)",
    ]


# --- catalogs -----------------------------------------------------------------------------------

ENTRY = ("- id: the-boat\n  kind: book\n  title: The Boat\n  by: Jane Author\n  tags: [sailing]\n"
         "  language: en\n  isbn13: \"9780385494786\"\n")

CATALOGS = {
    "wrong-type-tags": (ENTRY.replace("[sailing]", "5"), 5, "[0].tags"),
    "wrong-type-title": (ENTRY.replace("The Boat", "{a: 1}"), 3, "[0].title"),
    "wrong-type-year": (ENTRY + "  year: soon\n", 8, "[0].year"),
    "huge-year": (ENTRY + "  year: " + "9" * 5000 + "\n", 8, "[0].year"),
    "unknown-kind": (ENTRY.replace("kind: book", "kind: boat"), 2, "[0].kind"),
    "unknown-key": (ENTRY + "  colour: red\n", 8, "[0].colour"),
    "duplicate-key": (ENTRY + "  title: Again\n", 8, "[0].title"),
    "duplicate-id": (ENTRY + ENTRY, 8, "[1].id"),
    "missing-key": ("- id: x\n  kind: book\n", 1, "[0].title"),
    "mapping-instead-of-list": (ENTRY.replace("- id", "  id").replace("\n  ", "\n").lstrip(), 1, ""),
    "entry-not-a-mapping": ("- just a string\n", 1, "[0]"),
    "tab-indentation": (ENTRY.replace("  kind", "\tkind"), 2, ""),
    "alias-bomb": (bomb(), 0, ""),
    "nul-in-title": (ENTRY.replace("The Boat", '"The\\0Boat"'), 3, "[0].title"),
    "two-documents": (ENTRY + "---\n" + ENTRY, 0, ""),
}


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_bad_catalog_is_one_config_error_naming_file_line_and_key(tmp_path, name):
    text, line, key = CATALOGS[name]
    path = write(tmp_path / f"{name}.yaml", text)
    problems = catalog_problems(path)
    if line:
        prefix = f"{path}:{line}: " + (f"{key}: " if key else "")
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    else:
        assert all(re.match(rf"{re.escape(str(path))}:\d+: ", p) for p in problems), problems


def test_catalog_not_utf8_and_the_good_files_beside_it(tmp_path):
    good = write(tmp_path / "good.yaml", ENTRY)
    latin = write(tmp_path / "latin.yaml", ENTRY.encode().replace(b"Jane", b"Jos\xe9"))
    assert [idea.id for idea in load_catalog([good], include_shipped=False)] == ["the-boat"]
    with pytest.raises(ConfigError) as raised:
        load_catalog([good, latin], include_shipped=False)
    assert raised.value.problems == [f"{latin}:4: not UTF-8 text"]


def test_empty_catalog_file_holds_no_ideas(tmp_path):
    assert load_catalog([write(tmp_path / "empty.yaml", "")], include_shipped=False) == []


def test_a_thousand_levels_deep_is_refused_with_its_line(tmp_path):
    """libyaml's verdict, not PyYAML's: its Python scanner took 40 s on 20,000 `[` first."""
    path = write(tmp_path / "deep.yaml", HEAD + "me:\n  name: " + "[" * 20000 + "\n")
    problems = config_problems(path)
    assert problems == [f"{path}:{HEAD.count(chr(10)) + 2}: nested too deeply"], problems
