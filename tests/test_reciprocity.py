import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from syncd.model import EXCHANGE_KINDS, GAVE, RECEIVED, Contact, Exchange
from syncd.reciprocity import (identity, introduced_back, item_key, merge, note_exchanges,
                               standings)

WEIGHTS = {kind: 1.0 for kind in EXCHANGE_KINDS} | {"book": 2.0, "intro": 2.0}
TODAY = dt.date(2026, 11, 30)
YEAR = dt.timedelta(days=365)


def ex(direction, day, weight=1.0, item="x", uid="laura", kind="other"):
    return Exchange(uid, direction, kind, item, day, weight, "cli")


def contact(note):
    return Contact("laura", "Laura", "cards/laura.vcf", line=12, note=note)


def test_note_lines_in_english_and_italian():
    note = ('Met in Genoa.\nreceived: book "Zero to One" 2026-03-01\n'
            'gave: intro "Marco Rossi" 2026-04-02\nRicevuto: libro «Il nome della rosa» 2026-05-03'
            '\ndato: cena "Trattoria" 2026-05-10 weight 3')
    exchanges, problems = note_exchanges(contact(note), WEIGHTS)
    assert problems == []
    assert [(e.direction, e.kind, e.item, e.date.isoformat(), e.weight, e.source)
            for e in exchanges] == [
        (RECEIVED, "book", "Zero to One", "2026-03-01", 2.0, "note"),
        (GAVE, "intro", "Marco Rossi", "2026-04-02", 2.0, "note"),
        (RECEIVED, "book", "Il nome della rosa", "2026-05-03", 2.0, "note"),
        (GAVE, "meal", "Trattoria", "2026-05-10", 3.0, "note"),
    ]


def test_malformed_note_lines_are_reported_with_file_and_line():
    note = ('received: book Zero to One 2026-03-01\ngave: spaceship "X" 2026-01-01\n'
            'received: book "Y" 2026-02-30\nReceived wisdom: none, really')
    exchanges, problems = note_exchanges(contact(note), WEIGHTS)
    assert exchanges == []
    messages = [str(p) for p in problems]
    assert len(messages) == 3
    assert all(m.startswith("cards/laura.vcf:12: NOTE ledger line ") for m in messages)
    assert "unknown kind 'spaceship'" in messages[1]
    assert "'2026-02-30' is not a date" in messages[2]


def test_same_exchange_from_cli_and_note_counts_once():
    cli = Exchange("laura", RECEIVED, "book", "Zero to One", dt.date(2026, 3, 1), 2.0, "cli")
    note = Exchange("laura", RECEIVED, "book", "  zéro TO one", dt.date(2026, 3, 1), 2.0, "note")
    assert merge([cli], [note]) == [cli]
    assert standings(merge([cli], [note]), YEAR, TODAY)["laura"].balance == 2.0


def test_item_key_ignores_case_accents_and_spaces():
    assert item_key("  Zéro   to ONE ") == item_key("zero to one") == "zero to one"


def test_balance_window_and_last_dates():
    exchanges = [
        ex(RECEIVED, TODAY - dt.timedelta(days=400), 5.0),  # outside the window
        ex(RECEIVED, dt.date(2026, 3, 1), 2.0, "book"),
        ex(GAVE, dt.date(2026, 4, 2), 1.0, "tip"),
        ex(RECEIVED, dt.date(2026, 6, 1), 1.0, "advice"),
    ]
    standing = standings(exchanges, YEAR, TODAY)["laura"]
    assert standing.balance == 2.0
    assert standing.last_received == dt.date(2026, 6, 1)
    assert standing.last_exchange == dt.date(2026, 6, 1)
    assert [e.item for e in standing.received] == ["advice", "book"]


days = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31))
exchange_strategy = st.builds(
    Exchange,
    contact_uid=st.sampled_from(["a", "b", "c"]),
    direction=st.sampled_from([GAVE, RECEIVED]),
    kind=st.sampled_from(EXCHANGE_KINDS),
    item=st.sampled_from(["Zero to One", "zero to one", "Lunch", "Intro"]),
    date=days,
    weight=st.integers(1, 5).map(float),
    source=st.just("cli"),
)


@given(st.lists(exchange_strategy, max_size=40), days)
def test_balance_is_received_minus_gave_in_window(exchanges, today):
    merged = merge(exchanges)
    result = standings(merged, YEAR, today)
    for uid in {e.contact_uid for e in merged}:
        inside = [e for e in merged if e.contact_uid == uid and today - YEAR <= e.date <= today]
        expected = sum(e.weight if e.direction == RECEIVED else -e.weight for e in inside)
        assert result[uid].balance == expected
        assert result[uid].last_exchange == max(e.date for e in merged if e.contact_uid == uid)


@given(st.lists(exchange_strategy, max_size=40))
def test_merge_is_idempotent_and_order_free(exchanges):
    once = merge(exchanges)
    assert merge(once, exchanges) == once
    assert merge(exchanges + exchanges) == once
    reversed_once = merge(list(reversed(exchanges)))
    assert [identity(e) for e in reversed_once] == [identity(e) for e in once]


def test_an_introduction_is_given_to_both_people_it_names():
    laura = Contact("laura", "Laura Bianchi", "s")
    marco = Contact("marco", "Marco Rossi", "s")
    twins = [Contact("t1", "Ada Neri", "s"), Contact("t2", "Ada Neri", "s")]
    logged = [
        ex(GAVE, TODAY, 2.0, "marco rossi", uid="laura", kind="intro"),  # names Marco
        ex(GAVE, TODAY, 2.0, "Ada Neri", uid="laura", kind="intro"),  # names two people: no one
        ex(RECEIVED, TODAY, 2.0, "Laura Bianchi", uid="marco", kind="intro"),  # not given
        ex(GAVE, TODAY, 1.0, "Marco Rossi", uid="laura", kind="book"),  # not an introduction
    ]
    mirrored = introduced_back(logged, [laura, marco, *twins])
    assert mirrored == [Exchange("marco", GAVE, "intro", "Laura Bianchi", TODAY, 2.0, "cli",
                                 "introduced to Laura Bianchi")]
    owed = standings(merge(logged, mirrored), YEAR, TODAY)
    assert owed["marco"].balance == 2.0 - 2.0  # received one from Marco, gave one through Laura


# -- the same line syntax in a follow-up's description (issue 14, item 3) ------------------------


def test_parse_line_reads_a_ledger_line_and_says_what_is_wrong():
    from syncd.reciprocity import EXPECTED, LedgerLine, parse_line

    assert parse_line('gave: book "Dune" 2026-03-01 weight 2,5') == LedgerLine(
        GAVE, "book", "Dune", dt.date(2026, 3, 1), 2.5)
    assert parse_line("Met in Genoa: lovely") is None  # no direction word: just text
    assert parse_line('gave: book "Dune"') == EXPECTED  # NOTE lines are dated
    assert parse_line('gave: book "Dune" weight 2') == EXPECTED
    assert parse_line('gave: book "Dune"', dated=False) == LedgerLine(GAVE, "book", "Dune", None, None)
    assert parse_line('gave: book "Dune" peso 2', dated=False) == LedgerLine(
        GAVE, "book", "Dune", None, 2.0)
    assert parse_line('gave: spaceship "Dune"', dated=False).startswith("unknown kind 'spaceship'")


def test_given_lines_are_the_gave_lines_of_a_description():
    from syncd.reciprocity import given_lines

    text = ('Ricambia Laura.\nRicevuto:\n- libro “Il Gattopardo” l\'11 marzo 2026\n'
            'Idee:\n- Aria sottile (libro, Jon Krakauer): #montagna\n'
            '- dato: libro "Aria sottile"\nDato: strumento «Binocolo» 2026-11-02\n'
            'gave: article "Sailing Lessons"\nreceived: book "Dune" 2026-01-01\n'
            'Hai dato una di queste idee? Prima di spuntarla aggiungi una riga come dato: libro '
            '"Titolo", oppure cancella le altre idee.\ndato: libro Aria')
    said, problems = given_lines(text)
    assert [(line.kind, line.item, line.date) for line in said] == [
        ("book", "Aria sottile", None), ("gift", "Binocolo", dt.date(2026, 11, 2)),
        ("advice", "Sailing Lessons", None)]
    assert problems == ["'dato: libro Aria': expected: gave: book \"Title\""]


def test_the_kinds_a_follow_up_names_parse_in_both_languages():
    from syncd import wording
    from syncd.reciprocity import kind_of

    for language in wording.LANGUAGES:
        for kind in ("book", "webinar", "course", "event", "podcast", "tool", "article", "other"):
            word = wording.TEXT[language]["idea_kinds"].get(kind, kind)
            assert kind_of(word) in EXCHANGE_KINDS, (language, word)


def test_a_malformed_note_line_names_the_line_of_its_note_property():
    from syncd.sources.vcard import parse_cards

    text = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:laura\r\nFN:Laura\r\n"
            "NOTE:Met in Genoa.\\nreceived: book Zero 2026-03-01\r\n"  # line 5, two NOTE lines
            "EMAIL:laura@example.org\r\n"
            "NOTE:gave: intro \"Marco\"\r\n  2026-02-30\r\n"  # line 7, folded onto line 8
            "NOTE:received: book \"Y\" 2026-03-01\r\nEND:VCARD\r\n")  # line 9, fine
    (card,) = parse_cards(text, "cards/laura.vcf")
    assert card.note_lines == (5, 5, 7, 9)
    exchanges, problems = note_exchanges(card, WEIGHTS)
    assert [e.item for e in exchanges] == ["Y"]
    assert [str(p).split(": NOTE ")[0] for p in problems] == ["cards/laura.vcf:5",
                                                              "cards/laura.vcf:7"]
