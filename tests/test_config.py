import copy
import dataclasses
import pickle
import re
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.config import (
    MAX_NODES,
    CalendarConfig,
    Config,
    IdeasConfig,
    MeConfig,
    Rules,
    SourceConfig,
    TagsConfig,
    default_config_path,
    effective_yaml,
    load_config,
    parse_duration,
    reference_markdown,
)
from syncd.config_schema import SCHEMA, Section, SectionList, reference_rows
from syncd.errors import ConfigError
from syncd.model import EXCHANGE_KINDS

EXAMPLE = Path(__file__).resolve().parent.parent / "syncd" / "data" / "config-example.yaml"
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Every test runs in tmp_path, with its own HOME and XDG dirs and no SYNCD_CONFIG."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    return tmp_path / "home"


def write(text: str, name: str = "config.yaml") -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(text: str, name: str = "config.yaml") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(write(text, name))
    assert raised.value.exit_code == 2
    return raised.value.problems


MINIMAL = "contacts:\n  - type: vdir\n    path: cards\n"


# --- message formats, with line numbers counted by hand --------------------------------------


def test_bad_duration_names_file_line_and_key_path():
    text = (
        "contacts:\n"  # 1
        "  - type: vdir\n"  # 2
        "    path: cards\n"  # 3
        "rules:\n"  # 4
        "  keep_in_touch:\n"  # 5
        "    default: 9o d\n"  # 6
    )
    assert problems(text) == ["config.yaml:6: rules.keep_in_touch.default: '9o d' is not a duration like 30d"]


def test_unknown_key_suggests_the_close_one():
    text = (
        "contacts:\n"  # 1
        "  - type: vdir\n"  # 2
        "    path: cards\n"  # 3
        "rules:\n"  # 4
        "  weekly_caps: 5\n"  # 5
        "  frobnicate: yes\n"  # 6
    )
    assert problems(text) == [
        "config.yaml:5: rules.weekly_caps: unknown key; did you mean 'weekly_cap'?",
        "config.yaml:6: rules.frobnicate: unknown key",
    ]


def test_every_problem_is_reported_at_once_in_file_order():
    text = (
        "contacts:\n"  # 1
        "  - type: vdir\n"  # 2
        "    path: cards\n"  # 3
        "  - type: vcff\n"  # 4
        "    path: all.vcf\n"  # 5
        "  - type: vcf\n"  # 6
        "calendar:\n"  # 7
        "  component: task\n"  # 8
        "me:\n"  # 9
        "  language: de\n"  # 10
        "  interests: sailing\n"  # 11
        "rules:\n"  # 12
        "  weekly_cap: true\n"  # 13
        "  working_days: [Mon, tue, mon, someday]\n"  # 14
        "  horizon: 12h\n"  # 15
        "  birthday: {lead: 0d}\n"  # 16
        "  keep_in_touch:\n"  # 17
        "    default: 90\n"  # 18
        "    categories: {close-friends: 1w, family: soon}\n"  # 19
        "state: [a]\n"  # 20
    )
    assert problems(text) == [
        "config.yaml:4: contacts[1].type: 'vcff' is not one of vdir, vcf, carddav; did you mean 'vcf'?",
        "config.yaml:6: contacts[2].path: required key is missing",
        "config.yaml:8: calendar.component: 'task' is not one of todo, event",
        "config.yaml:10: me.language: 'de' is not one of en, it",
        "config.yaml:11: me.interests: expected a list like [a, b], got 'sailing'",
        "config.yaml:13: rules.weekly_cap: expected a positive whole number, got 'true'",
        "config.yaml:14: rules.working_days[2]: 'mon' is listed twice",
        "config.yaml:14: rules.working_days[3]: 'someday' is not a weekday; use mon, tue, wed, thu, fri, sat, sun",
        "config.yaml:15: rules.horizon: '12h' is not a whole number of days; write it like 7d or 2w",
        "config.yaml:16: rules.birthday.lead: '0d' is not a duration like 30d",
        "config.yaml:18: rules.keep_in_touch.default: '90' is not a duration like 30d; add a unit, e.g. 90d",
        "config.yaml:19: rules.keep_in_touch.categories.family: 'soon' is not a duration like 30d",
        "config.yaml:20: state: expected text, got a list",
    ]


def test_missing_required_key_is_reported_at_the_parent_mapping():
    text = (
        "contacts:\n"  # 1
        "  - type: vdir\n"  # 2
        "    path: cards\n"  # 3
        "calendar:\n"  # 4
        "  type: caldav\n"  # 5
        "  username: anna\n"  # 6
    )
    assert problems(text) == ["config.yaml:5: calendar.url: required key is missing"]


def test_keys_of_the_other_calendar_type_are_named():
    text = (
        "contacts: [{type: vdir, path: cards}]\n"  # 1
        "calendar:\n"  # 2
        "  url: https://dav.example.com/\n"  # 3
        "  path: cal\n"  # 4
        "  verify: false\n"  # 5
    )
    assert problems(text) == [
        "config.yaml:3: calendar.url: only valid with type: caldav (this one is type: local)",
        "config.yaml:5: calendar.verify: only valid with type: caldav (this one is type: local)",
    ]
    text = (
        "contacts: [{type: vdir, path: cards}]\n"  # 1
        "calendar:\n"  # 2
        "  type: caldav\n"  # 3
        "  url: https://dav.example.com/\n"  # 4
        "  path: cal\n"  # 5
    )
    assert problems(text) == ["config.yaml:5: calendar.path: only valid with type: local (this one is type: caldav)"]


def test_at_most_one_password_source():
    text = (
        "contacts: [{type: vdir, path: cards}]\n"  # 1
        "calendar:\n"  # 2
        "  type: caldav\n"  # 3
        "  url: https://dav.example.com/\n"  # 4
        "  password: hunter2\n"  # 5
        "  password_env: DAV_PASSWORD\n"  # 6
    )
    assert problems(text) == [
        "config.yaml:6: calendar.password_env: set only one of password, password_command, password_env"
        " (also set: password)"
    ]


def test_carddav_source_keys_are_read():
    config = load_config(write(
        "contacts:\n"
        "  - type: carddav\n"
        "    url: https://dav.example.com/anna/contacts/\n"
        "    username: anna\n"
        "    password_command: pass show dav\n"
        "    verify: false\n"
        "  - type: CardDAV\n"
        "    url: https://other.example.org/book/\n"
        "  - {type: vdir, path: cards}\n"
    ))
    assert config.contacts[0] == SourceConfig(
        "carddav", url="https://dav.example.com/anna/contacts/", username="anna",
        password_command="pass show dav", verify=False)
    assert config.contacts[1] == SourceConfig("carddav", url="https://other.example.org/book/")
    assert config.contacts[1].verify is True and config.contacts[1].path is None
    assert config.contacts[2].type == "vdir" and config.contacts[2].url is None


def test_carddav_source_problems_name_line_and_key():
    text = (
        "contacts:\n"  # 1
        "  - type: carddav\n"  # 2
        "    path: cards\n"  # 3
        "    password: hunter2\n"  # 4
        "    password_env: BOOK_PW\n"  # 5
        "    verify: maybe\n"  # 6
        "  - type: carddav\n"  # 7
        "    url: dav.example.com/book\n"  # 8
        "    password_env: 'not a name'\n"  # 9
        "  - type: vdir\n"  # 10
        "    path: cards\n"  # 11
        "    url: https://dav.example.com/\n"  # 12
        "    username: anna\n"  # 13
        "  - type: carddav\n"  # 14
        "    url: https://anna:s3cret@dav.example.com/\n"  # 15
        "    usernme: anna\n"  # 16
    )
    assert problems(text) == [
        "config.yaml:2: contacts[0].url: required key is missing",
        "config.yaml:3: contacts[0].path: only valid with type: vdir or vcf (this one is type: carddav)",
        "config.yaml:5: contacts[0].password_env: set only one of password, password_command,"
        " password_env (also set: password)",
        "config.yaml:6: contacts[0].verify: expected true or false, got 'maybe'",
        "config.yaml:8: contacts[1].url: 'dav.example.com/book' is not an http:// or https:// URL",
        "config.yaml:9: contacts[1].password_env: 'not a name' is not an environment variable name",
        "config.yaml:12: contacts[2].url: only valid with type: carddav (this one is type: vdir)",
        "config.yaml:13: contacts[2].username: only valid with type: carddav (this one is type: vdir)",
        "config.yaml:16: contacts[3].usernme: unknown key; did you mean 'username'?",
    ]


def test_carddav_password_never_appears_in_output():
    config = load_config(write(
        "contacts:\n"
        "  - {type: carddav, url: 'https://anna:url-secret@dav.example.com/b/', password: hunter2}\n"
    ))
    shown = effective_yaml(config)
    for text in (shown, repr(config), str(config.contacts[0])):
        assert "hunter2" not in text and "url-secret" not in text
    assert "password: '********'" in shown and "verify: true" in shown
    assert "path:" not in shown.split("calendar:")[0]  # no vdir key shown for a carddav source
    again = load_config(write(shown.replace("'********'", "hunter2")
                              .replace("anna:********@", "anna:url-secret@"), "again.yaml"))
    assert again.contacts == config.contacts


def test_duplicate_key_is_an_error():
    text = (
        "contacts:\n"  # 1
        "  - type: vdir\n"  # 2
        "    path: cards\n"  # 3
        "rules:\n"  # 4
        "  weekly_cap: 5\n"  # 5
        "  horizon: 14d\n"  # 6
        "  weekly_cap: 7\n"  # 7
    )
    assert problems(text) == ["config.yaml:7: rules.weekly_cap: duplicate key; first given on line 5"]


def test_duplicate_key_inside_a_free_mapping():
    text = "contacts: [{type: vdir, path: cards}]\ntags:\n  synonyms:\n    ml: machine-learning\n    ml: ml\n"
    assert problems(text) == ["config.yaml:5: tags.synonyms.ml: duplicate key; first given on line 4"]


def test_tab_indentation_is_one_syntax_problem():
    text = "contacts:\n\t- type: vdir\n\t  path: cards\n"
    assert problems(text) == ["config.yaml:2: found character '\\t' that cannot start any token"]


def test_bad_indentation_is_one_syntax_problem():
    text = (
        "contacts:\n"  # 1
        "  - type: vdir\n"  # 2
        "    path: cards\n"  # 3
        "rules:\n"  # 4
        "  weekly_cap: 5\n"  # 5
        " horizon: 14d\n"  # 6
    )
    [problem] = problems(text)
    assert problem.startswith("config.yaml:6: ")


def test_the_file_is_named_as_the_user_gave_it(tmp_path):
    text = "contacts: [{type: vdir, path: cards}]\nme: {langauge: it}\n"
    assert problems(text, "sub/dir/my.yaml") == [
        "sub/dir/my.yaml:2: me.langauge: unknown key; did you mean 'language'?"
    ]
    absolute = tmp_path / "abs.yaml"
    with pytest.raises(ConfigError) as raised:
        load_config(write(text, str(absolute)))
    assert raised.value.problems[0].startswith(f"{absolute}:2: ")


def test_empty_file_misses_contacts():
    assert problems("") == ["config.yaml:1: contacts: required key is missing"]
    assert problems("# just a comment\n") == ["config.yaml:1: contacts: required key is missing"]


def test_contacts_needs_at_least_one_source():
    assert problems("contacts: []\n") == ["config.yaml:1: contacts: needs at least 1 entry"]
    assert problems("me: {}\ncontacts:\n") == ["config.yaml:2: contacts: needs a value"]


def test_top_level_must_be_a_mapping():
    assert problems("- contacts\n") == ["config.yaml:1: expected a mapping of keys, got a list"]


def test_missing_file_names_it_and_suggests_the_example():
    with pytest.raises(ConfigError) as raised:
        load_config(Path("nowhere/config.yaml"))
    [problem] = raised.value.problems
    assert problem.startswith("nowhere/config.yaml: ")
    assert "`syncd init` writes one" in problem and "`syncd config example > nowhere/config.yaml`" in problem


# --- aliases ---------------------------------------------------------------------------------


def test_alias_bomb_is_refused():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 9):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    lines.append("contacts: *a8")
    [problem] = problems("\n".join(lines) + "\n")
    assert re.fullmatch(rf"config\.yaml:\d+: aliases expand this to more than {MAX_NODES} values; .*", problem)


def test_recursive_alias_is_refused():
    text = "contacts: &c\n  - type: vdir\n    path: *c\n"
    assert problems(text) == [  # a node's line is that of its &anchor
        "config.yaml:1: an *alias refers to the &anchor that contains it; refusing to read it"
    ]


def test_aliases_and_merge_keys_work():
    path = write(
        "contacts:\n"
        "  - &card {type: vdir, path: cards}\n"
        "  - <<: *card\n"
        "    path: more-cards\n"
        "me: {interests: &mine [sailing, chess]}\n"
        "tags: {markers: *mine}\n"
    )
    config = load_config(path)
    assert [source.path.name for source in config.contacts] == ["cards", "more-cards"]
    assert config.tags.markers == ("sailing", "chess")


# --- values ----------------------------------------------------------------------------------


def test_defaults(home, tmp_path):
    config = load_config(write(MINIMAL))
    assert config.contacts == (SourceConfig("vdir", tmp_path / "cards"),)
    assert config.calendar == CalendarConfig()
    assert config.calendar.path == tmp_path / "xdg_data_home" / "syncd" / "calendar"
    assert config.state == tmp_path / "xdg_state_home" / "syncd" / "syncd.sqlite"
    assert config.me == MeConfig(name=None, interests=(), language="en")
    assert config.tags == TagsConfig(markers=("Interests", "Interessi"), synonyms={})
    assert config.rules == Rules(
        keep_in_touch_default=90 * DAY,
        keep_in_touch_categories={},
        birthday_lead=7 * DAY,
        weekly_cap=10,
        working_days=(0, 1, 2, 3, 4),
        horizon=28 * DAY,
    )
    assert config.calendar.calendar == "Follow-ups" and config.calendar.component == "todo"
    assert config.calendar.verify is True
    assert config.path == tmp_path / "config.yaml"


def test_empty_sections_mean_defaults():
    config = load_config(write(MINIMAL + "calendar:\nme:\ntags: {}\nrules:\n  birthday:\n"))
    assert (config.calendar, config.me, config.tags, config.rules) == (
        CalendarConfig(), MeConfig(), TagsConfig(), Rules()
    )


def test_every_key_read(tmp_path):
    config = load_config(write(
        "contacts:\n"
        "  - {type: VCF, path: /data/all.vcf}\n"
        "calendar:\n"
        "  type: caldav\n"
        "  url: https://dav.example.com/anna/\n"
        "  calendar: Persone\n"
        "  username: anna\n"
        "  password_command: pass show dav\n"
        "  verify: no\n"
        "  component: event\n"
        "me: {name: Anna, interests: [leadership, sailing], language: it}\n"
        "tags: {markers: [Hobby], synonyms: {ml: machine-learning, vela: sailing}}\n"
        "rules:\n"
        "  keep_in_touch: {default: 2w, categories: {close-friends: 30d, work: 48h}}\n"
        "  birthday: {lead: 1w}\n"
        "  weekly_cap: 3\n"
        "  working_days: [SAT, sun, mon]\n"
        "  horizon: 60d\n"
        "state: db/state.sqlite\n"
    ))
    assert config.contacts == (SourceConfig("vcf", Path("/data/all.vcf")),)
    assert config.calendar == CalendarConfig(
        type="caldav", url="https://dav.example.com/anna/", calendar="Persone", username="anna",
        password_command="pass show dav", verify=False, component="event",
    )
    assert config.me == MeConfig("Anna", ("leadership", "sailing"), "it")
    assert config.tags.markers == ("Hobby",)
    assert dict(config.tags.synonyms) == {"ml": "machine-learning", "vela": "sailing"}
    assert config.rules == Rules(
        keep_in_touch_default=14 * DAY,
        keep_in_touch_categories={"close-friends": 30 * DAY, "work": 2 * DAY},
        birthday_lead=7 * DAY,
        weekly_cap=3,
        working_days=(0, 5, 6),
        horizon=60 * DAY,
    )
    assert config.state == tmp_path / "db" / "state.sqlite"


def test_request_timeouts_reach_the_dav_clients():
    from syncd import cycle

    config = load_config(write(
        "contacts:\n"
        "  - {type: carddav, url: 'http://127.0.0.1:9/book/', password: x, timeout: 3s}\n"
        "  - {type: carddav, url: 'http://127.0.0.1:9/other/', password: x}\n"
        "calendar: {type: caldav, url: 'http://127.0.0.1:9/', password: x, timeout: 2s}\n"
    ))
    assert config.calendar.timeout == timedelta(seconds=2)
    assert [s.timeout for s in config.contacts] == [timedelta(seconds=3), timedelta(seconds=30)]
    assert cycle.make_target(config.calendar)._session.client.timeout == 2.0
    sources = [cycle.make_source(s) for s in config.contacts]
    assert [s._session.client.timeout for s in sources] == [3.0, 30.0]
    assert problems(MINIMAL + "calendar: {type: caldav, url: 'http://h/', timeout: 0s}\n") == [
        "config.yaml:4: calendar.timeout: '0s' is not a duration like 30d"]


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    config = load_config(write("contacts: [{type: vdir, path: cards}]\nstate: ../state.sqlite\n", "etc/syncd.yaml"))
    assert config.contacts[0].path == tmp_path / "etc" / "cards"
    assert config.state == tmp_path / "etc" / ".." / "state.sqlite"


def test_home_and_variables_expand(home, monkeypatch):
    monkeypatch.setenv("CARDS", "/srv/cards")
    config = load_config(write(
        "contacts:\n"
        "  - {type: vdir, path: ~/contacts/default}\n"
        "  - {type: vdir, path: $CARDS/work}\n"
        "  - {type: vcf, path: '${CARDS}/all.vcf'}\n"
    ))
    assert [source.path for source in config.contacts] == [
        home / "contacts" / "default", Path("/srv/cards/work"), Path("/srv/cards/all.vcf")
    ]


def test_unset_variable_in_a_path_is_an_error():
    assert problems("contacts:\n  - {type: vdir, path: $NOPE_NOT_SET/x}\n") == [
        "config.yaml:2: contacts[0].path: '$NOPE_NOT_SET/x' uses $NOPE_NOT_SET, which is not set"
    ]


def test_durations():
    assert parse_duration("30d") == 30 * DAY
    assert parse_duration("2w") == 14 * DAY
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("45s") == timedelta(seconds=45)
    for bad in ("0d", "-3d", "3", "d", "3 days", "1.5d", "3D", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_working_days_must_not_be_empty():
    assert problems(MINIMAL + "rules: {working_days: []}\n") == ["config.yaml:4: rules.working_days: needs at least one day"]


def test_weekly_cap_must_be_positive():
    assert problems(MINIMAL + "rules: {weekly_cap: 0}\n") == [
        "config.yaml:4: rules.weekly_cap: expected a positive whole number, got '0'"
    ]


def test_caldav_url_must_be_http_and_password_env_a_name():
    text = MINIMAL + "calendar: {type: caldav, url: 'dav.example.com', password_env: 'my password'}\n"
    assert problems(text) == [
        "config.yaml:4: calendar.url: 'dav.example.com' is not an http:// or https:// URL",
        "config.yaml:4: calendar.password_env: 'my password' is not an environment variable name",
    ]


def test_marker_and_interest_items_must_be_non_empty_text():
    assert problems(MINIMAL + "tags: {markers: [Interests, '', [x]]}\n") == [
        "config.yaml:4: tags.markers[1]: must not be empty",
        "config.yaml:4: tags.markers[2]: expected text, got a list",
    ]


# --- give-back rules, ideas, catalog files, related tags -------------------------------------

DEFAULT_WEIGHTS = {"book": 2, "gift": 2, "course": 2, "intro": 2, "webinar": 1,
                   "event": 1, "advice": 1, "favour": 1, "meal": 1, "other": 1}


def test_defaults_of_the_give_back_ideas_catalog_and_related_keys():
    config = load_config(write(MINIMAL))
    rules = config.rules
    assert rules.give_back_threshold == 1.0 and isinstance(rules.give_back_threshold, float)
    assert rules.give_back_window == 365 * DAY
    assert rules.give_back_after == 7 * DAY
    assert dict(rules.give_back_weights) == DEFAULT_WEIGHTS
    assert set(rules.give_back_weights) == set(EXCHANGE_KINDS)
    assert config.ideas == IdeasConfig(per_followup=3)
    assert config.catalog == ()
    assert dict(config.tags.related) == {}
    assert (config.rules, config.ideas, config.tags) == (Rules(), IdeasConfig(), TagsConfig())


def test_empty_new_sections_mean_defaults():
    text = MINIMAL + "rules: {give_back: {weights: {}}}\nideas:\ncatalog:\ntags: {related: {}}\n"
    config = load_config(write(text))
    assert (config.rules, config.ideas, config.catalog, config.tags) == (Rules(), IdeasConfig(), (), TagsConfig())


def test_give_back_ideas_catalog_and_related_keys_read(home, tmp_path):
    config = load_config(write(
        "contacts: [{type: vdir, path: cards}]\n"
        "tags:\n"
        "  related: {sailing: [ocean, boats], chess: []}\n"
        "rules:\n"
        "  give_back:\n"
        "    threshold: 2.5\n"
        "    window: 26w\n"
        "    after: 2w\n"
        "    weights: {book: 3, advice: 0.5, meal: 1_0}\n"
        "ideas: {per_followup: 0}\n"
        "catalog: [mine.yaml, /srv/catalog.yaml, ~/ideas.yaml]\n",
        "etc/config.yaml",
    ))
    assert dict(config.tags.related) == {"sailing": ("ocean", "boats"), "chess": ()}
    rules = config.rules
    assert rules.give_back_threshold == 2.5
    assert rules.give_back_window == 182 * DAY
    assert rules.give_back_after == 14 * DAY
    assert dict(rules.give_back_weights) == {**DEFAULT_WEIGHTS, "book": 3.0, "advice": 0.5, "meal": 10.0}
    assert all(isinstance(weight, float) for weight in rules.give_back_weights.values())
    assert config.ideas == IdeasConfig(per_followup=0)
    assert config.catalog == (tmp_path / "etc" / "mine.yaml", Path("/srv/catalog.yaml"), home / "ideas.yaml")


def test_a_whole_number_threshold_is_a_float_and_ten_ideas_is_allowed():
    config = load_config(write(MINIMAL + "rules: {give_back: {threshold: 3}}\nideas: {per_followup: 10}\n"))
    assert config.rules.give_back_threshold == 3.0 and isinstance(config.rules.give_back_threshold, float)
    assert config.ideas.per_followup == 10


def test_every_problem_of_the_new_keys_at_once():
    text = (
        "contacts: [{type: vdir, path: cards}]\n"  # 1
        "tags:\n"  # 2
        "  related:\n"  # 3
        "    sailing: ocean\n"  # 4
        "    chess: [openings, '']\n"  # 5
        "rules:\n"  # 6
        "  give_back:\n"  # 7
        "    threshold: 0\n"  # 8
        "    window: 12h\n"  # 9
        "    after: 7\n"  # 10
        "    weights:\n"  # 11
        "      boook: 3\n"  # 12
        "      gift: lots\n"  # 13
        "      snacks: 1\n"  # 14
        "      advice: -1\n"  # 15
        "      meal: true\n"  # 16
        "ideas:\n"  # 17
        "  per_followup: 11\n"  # 18
        "catalog: [mine.yaml, $NOPE_NOT_SET/x.yaml, [x]]\n"  # 19
    )
    kinds = ", ".join(EXCHANGE_KINDS)
    assert problems(text) == [
        "config.yaml:4: tags.related.sailing: expected a list like [a, b], got 'ocean'",
        "config.yaml:5: tags.related.chess[1]: must not be empty",
        "config.yaml:8: rules.give_back.threshold: expected a positive number, got '0'",
        "config.yaml:9: rules.give_back.window: '12h' is not a whole number of days; write it like 7d or 2w",
        "config.yaml:10: rules.give_back.after: '7' is not a duration like 30d; add a unit, e.g. 7d",
        "config.yaml:12: rules.give_back.weights.boook: unknown exchange kind; did you mean 'book'?",
        "config.yaml:13: rules.give_back.weights.gift: expected a positive number, got 'lots'",
        f"config.yaml:14: rules.give_back.weights.snacks: unknown exchange kind; use one of {kinds}",
        "config.yaml:15: rules.give_back.weights.advice: expected a positive number, got '-1'",
        "config.yaml:16: rules.give_back.weights.meal: expected a positive number, got 'true'",
        "config.yaml:18: ideas.per_followup: expected a whole number from 0 to 10, got '11'",
        "config.yaml:19: catalog[1]: '$NOPE_NOT_SET/x.yaml' uses $NOPE_NOT_SET, which is not set",
        "config.yaml:19: catalog[2]: expected text, got a list",
    ]


@pytest.mark.parametrize("value", ["-0.5", "0.0", ".inf", ".nan", "'2'", "[1]", "{a: 1}", "yes"])
def test_threshold_must_be_a_positive_finite_number(value):
    shown = {"'2'": "'2'", "[1]": "a list", "{a: 1}": "a mapping"}.get(value, repr(value))
    assert problems(MINIMAL + f"rules: {{give_back: {{threshold: {value}}}}}\n") == [
        f"config.yaml:4: rules.give_back.threshold: expected a positive number, got {shown}"
    ]


@pytest.mark.parametrize("value", ["-1", "2.5", "true", "'3'", "[3]"])
def test_ideas_per_followup_must_be_a_whole_number_from_0_to_10(value):
    shown = "a list" if value == "[3]" else "'3'" if value == "'3'" else repr(value)
    assert problems(MINIMAL + f"ideas: {{per_followup: {value}}}\n") == [
        f"config.yaml:4: ideas.per_followup: expected a whole number from 0 to 10, got {shown}"
    ]


def test_new_keys_of_the_wrong_shape():
    text = MINIMAL + (
        "tags: {related: [sailing]}\n"  # 4
        "rules: {give_back: 3}\n"  # 5
        "ideas: [3]\n"  # 6
        "catalog: mine.yaml\n"  # 7
    )
    assert problems(text) == [
        "config.yaml:4: tags.related: expected a mapping like {name: value}, got a list",
        "config.yaml:5: rules.give_back: expected a mapping of keys, got '3'",
        "config.yaml:6: ideas: expected a mapping of keys, got a list",
        "config.yaml:7: catalog: expected a list like [a, b], got 'mine.yaml'",
    ]
    assert problems(MINIMAL + "rules: {give_back: {weights: [book]}}\n") == [
        "config.yaml:4: rules.give_back.weights: expected a mapping like {name: value}, got a list"
    ]


def test_unknown_and_duplicate_give_back_keys():
    text = MINIMAL + (
        "rules:\n"  # 4
        "  give_back:\n"  # 5
        "    treshold: 2\n"  # 6
        "    weights:\n"  # 7
        "      book: 3\n"  # 8
        "      book: 4\n"  # 9
        "ideas: {per_followups: 2}\n"  # 10
    )
    assert problems(text) == [
        "config.yaml:6: rules.give_back.treshold: unknown key; did you mean 'threshold'?",
        "config.yaml:9: rules.give_back.weights.book: duplicate key; first given on line 8",
        "config.yaml:10: ideas.per_followups: unknown key; did you mean 'per_followup'?",
    ]


def test_rules_built_in_code_always_carry_every_weight():
    rules = Rules(give_back_weights={"book": 3})
    assert dict(rules.give_back_weights) == {**DEFAULT_WEIGHTS, "book": 3.0}
    assert rules == Rules(give_back_weights={**DEFAULT_WEIGHTS, "book": 3})
    with pytest.raises(ValueError, match="unknown exchange kind 'boook'"):
        Rules(give_back_weights={"boook": 3})


def test_related_tags_are_frozen_tuples():
    related = {"sailing": ["ocean"]}
    tags = TagsConfig(related=related)
    related["sailing"].append("boats")
    assert tags.related == {"sailing": ("ocean",)}
    assert hash(tags) == hash(pickle.loads(pickle.dumps(tags)))
    with pytest.raises(TypeError):
        tags.related["chess"] = ()  # type: ignore[index]


def test_effective_yaml_shows_the_new_keys_and_reads_back(tmp_path):
    config = load_config(write(
        MINIMAL
        + "tags: {related: {sailing: [ocean, boats]}}\n"
        + "rules: {give_back: {threshold: 1.5, window: 30d, weights: {book: 3, meal: 0.5}}}\n"
        + "ideas: {per_followup: 5}\n"
        + "catalog: [mine.yaml]\n"
    ))
    shown = effective_yaml(config)
    assert "  give_back:\n    threshold: 1.5\n    window: 30d\n    after: 7d\n    weights:\n" in shown
    assert "    weights:\n      book: 3\n" in shown
    assert "      meal: 0.5\n" in shown and "      webinar: 1\n" in shown
    assert "ideas:\n  per_followup: 5\n" in shown
    assert f"catalog:\n- {tmp_path / 'mine.yaml'}\n" in shown
    assert "  related:\n    sailing:\n    - ocean\n    - boats\n" in shown
    again = load_config(write(shown, "again.yaml"))
    assert dataclasses.replace(again, path=config.path) == config


def test_the_defaults_show_in_the_effective_yaml_and_the_reference():
    shown = effective_yaml(load_config(write(MINIMAL)))
    assert "  give_back:\n    threshold: 1\n    window: 365d\n    after: 7d\n" in shown
    assert "ideas:\n  per_followup: 3\ncatalog: []\n" in shown
    table = reference_markdown()
    assert "| `rules.give_back.threshold` | positive number | `1` |" in table
    assert "| `rules.give_back.window` | duration in days (`30d`, `2w`) | `365d` |" in table
    assert "| `ideas.per_followup` | integer 0..10 | `3` |" in table
    assert "| `catalog` | list of paths | `[]` |" in table
    assert "| `tags.related` | mapping tag → list of tags | `{}` |" in table
    weights = "book: 2, gift: 2, webinar: 1, course: 2, event: 1, intro: 2, advice: 1, favour: 1, meal: 1, other: 1"
    assert f"| `{{{weights}}}` |" in table  # in the order of EXCHANGE_KINDS


def test_the_result_types_are_those_of_config_types():
    from syncd import config, config_types

    for name in ("Config", "Rules", "CalendarConfig", "SourceConfig", "MeConfig", "TagsConfig", "IdeasConfig",
                 "FrozenMap"):
        assert getattr(config, name) is getattr(config_types, name)


# --- the result types ------------------------------------------------------------------------


def test_result_types_are_frozen_hashable_and_copyable():
    rules = Rules(keep_in_touch_categories={"family": 30 * DAY})
    tags = TagsConfig(synonyms={"ml": "machine-learning"})
    config = Config(contacts=(SourceConfig("vdir", Path("/c")),), rules=rules, tags=tags)
    assert hash(config) == hash(copy.deepcopy(config))
    assert pickle.loads(pickle.dumps(config)) == config
    assert dataclasses.asdict(config)["rules"]["keep_in_touch_categories"] == {"family": 30 * DAY}
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.weekly_cap = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        rules.keep_in_touch_categories["x"] = DAY  # type: ignore[index]


def test_a_callers_dict_cannot_change_the_config():
    synonyms = {"ml": "machine-learning"}
    tags = TagsConfig(synonyms=synonyms)
    synonyms["ml"] = "mailing-list"
    assert tags.synonyms["ml"] == "machine-learning"


# --- output ----------------------------------------------------------------------------------


def test_password_never_appears_in_output():
    config = load_config(write(
        MINIMAL + "calendar:\n  type: caldav\n  url: https://anna:s3cret-url@dav.example.com/\n  password: hunter2\n"
    ))
    shown = effective_yaml(config)
    for text in (shown, repr(config), str(config.calendar)):
        assert "hunter2" not in text and "s3cret-url" not in text
    assert "password: '********'" in shown
    assert "url: https://anna:********@dav.example.com/" in shown
    assert config.calendar.password == "hunter2"


def test_password_command_and_env_are_shown():
    config = load_config(write(
        MINIMAL + "calendar: {type: caldav, url: 'https://dav.example.com/', password_command: pass show dav}\n"
    ))
    shown = effective_yaml(config)
    assert "password_command: pass show dav" in shown
    assert "password: null" in shown and "password_env: null" in shown


def test_effective_yaml_fills_defaults_and_reads_back(tmp_path):
    config = load_config(write(MINIMAL + "rules: {keep_in_touch: {default: 2w}, working_days: [fri, mon]}\n"))
    shown = effective_yaml(config)
    assert "default: 14d" in shown and "horizon: 28d" in shown and "lead: 7d" in shown
    assert "working_days:\n  - mon\n  - fri\n" in shown
    assert f"state: {tmp_path / 'xdg_state_home' / 'syncd' / 'syncd.sqlite'}" in shown
    again = load_config(write(shown, "again.yaml"))
    assert dataclasses.replace(again, path=config.path) == config


# --- where the file is -----------------------------------------------------------------------


def test_default_path_is_in_xdg_config_home(tmp_path):
    path = tmp_path / "xdg_config_home" / "syncd" / "config.yaml"
    assert default_config_path() == path
    write(MINIMAL, str(path))
    assert load_config().path == path


def test_syncd_config_overrides_the_default_path(tmp_path, monkeypatch):
    write(MINIMAL, "elsewhere.yaml")
    monkeypatch.setenv("SYNCD_CONFIG", "elsewhere.yaml")
    assert load_config().path == tmp_path / "elsewhere.yaml"
    monkeypatch.setenv("SYNCD_CONFIG", "missing.yaml")
    with pytest.raises(ConfigError, match=r"^missing\.yaml: no such file"):
        load_config()


def test_an_explicit_path_wins_over_syncd_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNCD_CONFIG", "missing.yaml")
    assert load_config(write(MINIMAL)).path == tmp_path / "config.yaml"


# --- the schema, the example and the reference -----------------------------------------------


def _leaf_paths() -> list[str]:
    return [path for path, *_ in reference_rows()]


def test_example_validates_and_shows_every_key():
    config = load_config(EXAMPLE)
    assert len(config.contacts) == 2
    text = EXAMPLE.read_text()
    for path in _leaf_paths():
        name = path.rpartition(".")[2].removesuffix("[]")
        assert re.search(rf"^\s*(#\s*)?(- )?{name}:", text, re.MULTILINE), f"example.yaml lacks {path}"


def test_reference_mentions_every_key():
    table = reference_markdown()
    assert table.startswith("| key | type | default | meaning |\n|---|---|---|---|\n")
    expected = {
        "contacts", "contacts[].type", "contacts[].path", "contacts[].url", "contacts[].username",
        "contacts[].password", "contacts[].password_command", "contacts[].password_env",
        "contacts[].verify", "contacts[].timeout",
        "calendar", "calendar.type", "calendar.path", "calendar.url", "calendar.calendar",
        "calendar.username", "calendar.password", "calendar.password_command", "calendar.password_env",
        "calendar.verify", "calendar.timeout", "calendar.component",
        "me", "me.name", "me.interests", "me.language",
        "tags", "tags.markers", "tags.synonyms", "tags.related", "tags.not_interests",
        "rules", "rules.keep_in_touch", "rules.keep_in_touch.default", "rules.keep_in_touch.categories",
        "rules.birthday", "rules.birthday.lead", "rules.weekly_cap", "rules.working_days", "rules.horizon",
        "rules.give_back", "rules.give_back.threshold", "rules.give_back.window", "rules.give_back.after",
        "rules.give_back.weights", "rules.skip_categories", "rules.skip",
        "ideas", "ideas.per_followup", "catalog", "daemon", "daemon.poll", "daemon.debounce",
        "timezone",
        "state",
    }  # fmt: skip
    assert set(_leaf_paths()) == expected
    for path in expected:
        assert f"| `{path}` |" in table
    for line in table.splitlines():
        assert len(re.split(r"(?<!\\)\|", line)) == 6, line  # four cells: no stray pipe
    assert "| `rules.keep_in_touch.default` | duration in days (`30d`, `2w`) | `90d` |" in table


def test_every_dataclass_field_has_exactly_one_key():
    def filled(section: Section) -> set[str]:
        names = set()
        for key in section.keys:
            if isinstance(key.type, Section) and key.type.prefix:
                names |= filled(key.type)
            else:
                names.add(section.prefix + key.field_name)
            if isinstance(key.type, Section):
                assert filled(key.type) <= {f.name for f in dataclasses.fields(key.type.cls)}
            if isinstance(key.type, SectionList):
                assert filled(key.type.section) == {f.name for f in dataclasses.fields(key.type.section.cls)}
        return names

    assert filled(SCHEMA) == {f.name for f in dataclasses.fields(Config)} - {"path"}


def test_daemon_keys_and_timezone(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("contacts: [{type: vdir, path: c}]\ndaemon: {poll: 2m, debounce: 500ms}\n"
                    "timezone: Europe/Rome\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [f"{path}:2: daemon.debounce: '500ms' is not a duration like 30d"]
    path.write_text("contacts: [{type: vdir, path: c}]\ndaemon: {poll: 2m, debounce: 2s}\n"
                    "timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [f"{path}:3: timezone: 'Mars/Olympus' is not a time zone like Europe/Rome"]
    path.write_text("contacts: [{type: vdir, path: c}]\ndaemon: {poll: 2m}\ntimezone: Europe/Rome\n")
    config = load_config(path)
    assert config.daemon.poll == timedelta(minutes=2)
    assert config.daemon.debounce == timedelta(seconds=1)
    assert config.timezone == "Europe/Rome"


# --- tags.not_interests (issue 14, item 1) --------------------------------------------------


def test_not_interests_default_empty_read_as_text_and_checked():
    assert load_config(write(MINIMAL)).tags.not_interests == ()
    config = load_config(write(MINIMAL + "tags: {not_interests: [Clients, 'Book Club', 2026]}\n"))
    assert config.tags.not_interests == ("Clients", "Book Club", "2026")
    [problem] = problems(MINIMAL + "tags:\n  not_interests: {clients: yes}\n")
    assert problem.startswith("config.yaml:5: tags.not_interests:"), problem
    assert "not_interests" in effective_yaml(config)


def test_skip_keys_default_read_and_report_their_line():
    assert load_config(write(MINIMAL)).rules.skip_categories == ("no-followups",)
    assert load_config(write(MINIMAL)).rules.skip == ()
    config = load_config(write(MINIMAL + "rules:\n  skip_categories: [Fornitori]\n"
                               "  skip: [dentist@example.org, \"Rossi, Mario\", uid-7]\n"))
    assert config.rules.skip_categories == ("Fornitori",)
    assert config.rules.skip == ("dentist@example.org", "Rossi, Mario", "uid-7")
    assert problems(MINIMAL + "rules:\n  skip_categories: no-followups\n  skip: [[a]]\n") == [
        "config.yaml:5: rules.skip_categories: expected a list like [a, b], got 'no-followups'",
        "config.yaml:6: rules.skip[0]: expected text, got a list",
    ]
