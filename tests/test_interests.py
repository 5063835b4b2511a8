from syncd.interests import common_ground, extract, hashtags, marker_values, normalise, normalise_synonyms
from syncd.model import Contact


def contact(**fields):
    return Contact(uid="u", name="N", source="s", **fields)


def test_normalise_nfkc_casefold_spaces():
    assert normalise("  Machine   Learning ") == "machine-learning"
    assert normalise("#Vela") == "vela"
    assert normalise("ＳＡＩＬＩＮＧ") == "sailing"  # full-width letters, NFKC
    assert normalise("Straße") == "strasse"


def test_hashtags_unicode_digits_dash_underscore_but_not_urls():
    text = "Ama la #vela e la #storia-romana, #città_2 (#jazz) https://x.org/#top C#"
    assert hashtags(text) == ["vela", "storia-romana", "città_2", "jazz"]


def test_marker_lines_are_comma_lists_case_insensitive():
    note = "Met at a fair.\ninterests: sailing, Leadership ,history of science\nInteressi: vela"
    assert marker_values(note, ["Interests", "Interessi"]) == [
        " sailing", " Leadership ", "history of science", " vela"
    ]
    assert marker_values("Hobbies: x", ["Interests"]) == []


def test_extract_from_every_place_with_synonyms_deduplicated():
    person = contact(
        note="Loves #Vela.\nInterests: ML, sailing",
        categories=("Photography",),  # a category that is not a group (issue 14: close-friends is)
        declared_interests=("rock climbing",),
    )
    synonyms = normalise_synonyms({"vela": "sailing", "ML": "Machine Learning"})
    # one per meaning (#Vela and sailing are one), in the words first written
    assert extract(person, ["Interests"], synonyms) == (
        "vela", "ml", "photography", "rock-climbing"
    )


def test_common_ground_keeps_contact_order():
    assert common_ground(("history", "sailing", "jazz"), ("sailing", "history")) == (
        "history", "sailing"
    )


# --- issue 14, item 1: interests are interests ----------------------------------------------

from syncd.interests import group_keys, split_list, with_interests  # noqa: E402


def test_exporter_groups_are_not_interests_but_stay_categories():
    person = contact(categories=("myContacts", "starred", "* myContacts", "Family", "Coworkers",
                                 "Holiday Cards", "VIP", "Famiglia", "Colleghi", "Lavoro",
                                 "Red Category", "Jazz"))
    assert extract(person, [], {}) == ("jazz",)
    [read] = with_interests([person], [], {})
    assert read.interests == ("jazz",)
    assert read.categories == person.categories  # cadences still read them


def test_cadence_groups_and_not_interests_are_not_interests():
    person = contact(categories=("Book Club", "Clienti 2026", "Sailing"),
                     note="#newsletter and #chess\nInterests: golf, Newsletter")
    [read] = with_interests([person], ["Interests"], {}, groups=["book-club"],
                            not_interests=["Newsletter", "clienti 2026"])
    assert read.interests == ("chess", "golf", "sailing")


def test_not_interests_compare_before_and_after_synonyms():
    person = contact(note="#ML #vela", categories=("Barca",))
    [read] = with_interests([person], [], {"ml": "machine-learning", "barca": "sailing"},
                            not_interests=["machine learning"])
    assert read.interests == ("vela", "barca")  # as written; ML is machine learning: not one


def test_a_card_with_only_groups_has_no_interests():
    person = contact(categories=("myContacts", "Friends", "close-friends"))
    [read] = with_interests([person], [], {}, groups=["close-friends"])
    assert read.interests == ()


def test_group_names_compare_without_case_space_or_punctuation():
    keys = group_keys(["Close friends"])
    assert {"mycontacts", "closefriends", "holidaycards", "timeexpenses"} <= keys
    person = contact(categories=("MY CONTACTS", "close_friends", "Time & Expenses", "time-travel"))
    assert extract(person, [], {}, groups=keys) == ("time-travel",)


# --- issue 14, item 1: NOTE lists and numbers -----------------------------------------------


def test_note_lists_split_on_punctuation_and_the_words_and_e_ampersand():
    assert [v.strip() for v in split_list(" sailing; chess; jazz")] == ["sailing", "chess", "jazz"]
    assert [v.strip() for v in split_list("vela, fotografia e vino")] == ["vela", "fotografia", "vino"]
    assert [v.strip() for v in split_list("AI/ML & robotics and Go")] == ["AI", "ML", "robotics", "Go"]
    # Only whole words: "e" inside a word, "R&B", "and" inside "handball" are kept.
    assert [v.strip() for v in split_list("R&B, handball, escursionismo")] == [
        "R&B", "handball", "escursionismo"]
    assert [v.strip() for v in split_list("Rock AND roll")] == ["Rock", "roll"]


def test_a_phrase_the_vocabulary_knows_is_not_split():
    known = {"drum-and-bass", "bianco-e-nero"}
    assert [v.strip() for v in split_list("drum and bass, jazz e soul", known)] == [
        "drum and bass", "jazz", "soul"]
    person = contact(note="Interessi: Bianco e nero, vino e cucina")
    synonyms = normalise_synonyms({"bianco e nero": "black-and-white-photography"})
    assert extract(person, ["Interessi"], synonyms) == ("bianco-e-nero", "vino", "cucina")


def test_interests_lines_give_one_tag_per_item():
    person = contact(note="Interests: sailing; chess; jazz\nInteressi: vela, fotografia e vino")
    synonyms = normalise_synonyms({"vela": "sailing"})
    assert extract(person, ["Interests", "Interessi"], synonyms) == (
        "sailing", "chess", "jazz", "fotografia", "vino")


def test_a_hash_and_digits_only_is_not_a_tag():
    assert hashtags("Ticket #1, issue #2024, #3d-printing #2024-25 #top10 #1984") == [
        "3d-printing", "top10"]
    assert extract(contact(note="Met at #2024 conf, #1 fan of #jazz"), [], {}) == ("jazz",)


# --- what feeds the plan: cards read through the configuration -------------------------------


def test_read_contacts_leaves_groups_out_of_interests_introductions_and_common_ground(tmp_path):
    import datetime as dt
    import textwrap

    from syncd import cycle
    from syncd.config import load_config
    from syncd.gather import make_plan

    cards = tmp_path / "contacts"
    cards.mkdir()
    for uid, categories, note in (
        ("priya", "myContacts,starred,Amici stretti", ""),
        ("sam", "myContacts,starred,Amici stretti,Clienti", ""),
        ("laura", "Family,Sailing", "Interests: chess; jazz"),
    ):
        (cards / f"{uid}.vcf").write_text(
            f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{uid.title()}\r\n"
            f"CATEGORIES:{categories}\r\nNOTE:{note}\r\nEND:VCARD\r\n")
    (tmp_path / "config.yaml").write_text(textwrap.dedent("""\
        contacts: [{type: vdir, path: contacts}]
        calendar: {type: local, path: calendar}
        me: {interests: [starred, family, chess]}
        tags: {not_interests: [clienti]}
        rules: {keep_in_touch: {categories: {amici-stretti: 30d}}, weekly_cap: 50}
        state: state.sqlite
        """))
    config = load_config(tmp_path / "config.yaml")
    people = {c.uid: c for c in cycle.read_contacts(config).contacts}
    assert people["priya"].interests == people["sam"].interests == ()
    assert people["laura"].interests == ("chess", "jazz", "sailing")
    assert people["sam"].categories == ("myContacts", "starred", "Amici stretti", "Clienti")
    followups = {(f.contact.uid, f.reason): f
                 for f in make_plan(config, list(people.values()), dt.date(2026, 11, 30), None)}
    priya = followups["priya", "get-to-know"]
    assert priya.introductions == () and priya.common_ground == () and len(priya.questions) == 3
    for uid in ("priya", "sam"):  # close friends (Amici stretti): nothing about their work
        asked = " ".join(followups[uid, "get-to-know"].questions)
        assert not any(word in asked for word in ("work", "field")), asked
    assert ("sam", "get-to-know") in followups
    laura = followups["laura", "keep-in-touch"]
    assert laura.common_ground == ("chess",) and laura.introductions == ()


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzàèìòù", min_size=2, max_size=8).filter(
    lambda w: w not in ("and", "e"))
_ITEM = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
_SEPARATOR = st.sampled_from([",", ", ", ";", " ; ", "/", " / ", " and ", " e ", " & ", " AND "])


@given(st.lists(_ITEM, min_size=1, max_size=6), st.data())
def test_any_list_written_with_any_separators_gives_back_its_items(items, data):
    text = items[0]
    for item in items[1:]:
        text += data.draw(_SEPARATOR) + item
    assert [piece.strip() for piece in split_list(text)] == items
