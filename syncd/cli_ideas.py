"""`syncd ideas CONTACT`: every candidate idea for one contact, with its score and the reason,
as a gift follow-up and as a keep-in-touch one would rank them, so that a person can see why
syncd proposes what it does (an I/O edge over `syncd.matching`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from syncd import cycle, matching
from syncd.cli_common import config_option, json_option, load, resolve_today, table, today_option
from syncd.inspire import Inspiration, enrich, occasion
from syncd.lookup import find_contact
from syncd.model import FollowUp
from syncd.planner import kept_out
from syncd.state import State
from syncd.terminal import shown

TIERS = {
    matching.KEPT: "shown now",
    matching.DIRECT: "theirs",
    matching.DIRECT_OTHER_LANGUAGE: "theirs, other language",
    matching.RELATED_TIER: "related",
    matching.RELATED_OTHER_LANGUAGE: "related, other language",
}
SHOWN = 30  # candidates listed per purpose without --all


def tier_name(tier: int) -> str:
    if matching.proposed_before(tier):
        return TIERS[tier - matching.PROPOSED_BEFORE] + "; proposed this year: not again"
    return TIERS[tier]


@click.command("ideas")
@config_option
@json_option
@today_option
@click.option("--all", "show_all", is_flag=True, help=f"Every candidate, not the first {SHOWN}.")
@click.argument("contact")
@click.pass_context
def ideas_command(ctx: click.Context, config_path: Path | None, as_json: bool,
                  today: dt.datetime | None,
                  show_all: bool, contact: str) -> None:
    """Every idea for CONTACT, ranked, with its score and the reason: as a gift (give-back,
    birthday) and as something to share (keep-in-touch); the ones a follow-up would propose
    are marked, then the common ground, the introductions and the questions."""

    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    person = find_contact(read.contacts, contact)
    day = resolve_today(today, config)
    state = State(config.state) if config.state.exists() else None
    try:
        people = cycle.with_ledgers(read, state, resolve_today(None, config))
        view = cycle.ledger_view(config, people, day, state)
    finally:
        if state:
            state.close()
    catalog, vocabulary = cycle.load_ideas(config)
    inspiration = Inspiration.build(
        people, view.exchanges, catalog, vocabulary, my_interests=cycle.my_interests(config),
        my_language=config.me.language, per_followup=config.ideas.per_followup,
        proposed=view.proposed, today=day,
        excluded=kept_out(people, config.rules)[0])
    standing = view.standings.get(person.uid)
    received = standing.received if standing else ()
    results: dict[str, Any] = {}
    for label, reason in (("to_give", "give-back"), ("to_share", "keep-in-touch")):
        followup = FollowUp(person, reason, "", day, received=received)
        wanted = occasion(followup, inspiration)
        pool = matching.candidates(
            person, inspiration.catalog, vocabulary, my_interests=inspiration.my_interests,
            my_language=config.me.language, exchanged=inspiration.exchanged.get(person.uid, ()),
            occasion=wanted, crowded=inspiration.crowded)
        picked = {c.idea.id for c in matching.pick(pool, config.ideas.per_followup, wanted)}
        results[label] = [_candidate_json(c, c.idea.id in picked)
                          for c in sorted(pool, key=matching.rank)]
    [enriched] = enrich([FollowUp(person, "give-back", "", day, received=received)], inspiration)
    extra: dict[str, Any] = {"common_ground": list(enriched.common_ground),
             "introductions": [{"uid": i.other_uid, "name": i.other_name, "shared": list(i.shared)}
                               for i in enriched.introductions],
             "questions": list(enriched.questions)}
    if as_json:
        click.echo(json.dumps({"uid": person.uid, "name": person.name,
                               "interests": list(person.interests), **results, **extra},
                              ensure_ascii=False, indent=2))
        return
    click.echo(shown(f"{person.name}: " + (" ".join(f"#{t}" for t in person.interests)
                                           or "no tags")))
    click.echo(shown("common ground: " + (" ".join(f"#{t}" for t in extra["common_ground"])
                                          or "-")))
    for label, title in (("to_give", "to give (give-back, birthday): gifts only"),
                         ("to_share", "to share (keep-in-touch)")):
        rows = results[label] if show_all else results[label][:SHOWN]
        click.echo(f"{title}: {len(results[label])} candidates"
                   + ("" if show_all or len(rows) == len(results[label]) else
                      f", the first {SHOWN} (--all for every one)"))
        table(("", "score", "rank", "kind", "title", "why"),
              [("*" if c["picked"] else "", f"{c['score']:.1f}", c["tier"], c["kind"],
                c["title"], c["why"] + (f"; proposed to {c['crowded']} people lately"
                                        if c["crowded"] else "")) for c in rows])
    click.echo("* = what a follow-up would propose now")
    for intro in extra["introductions"]:
        click.echo(shown(f"introduce {intro['name']}: both "
                         + " ".join(f"#{t}" for t in intro["shared"])))
    for question in extra["questions"]:
        click.echo(shown(f"ask: {question}"))


def _candidate_json(found: matching.Candidate, picked: bool) -> dict[str, Any]:
    idea = found.idea
    return {"id": idea.id, "kind": idea.kind, "title": idea.title, "by": idea.by,
            "language": idea.language, "gift": idea.is_gift, "link": idea.link,
            "score": round(found.score, 2), "tier": tier_name(found.tier), "why": found.why,
            "crowded": found.crowded, "picked": picked}


def register(main: click.Group) -> None:
    main.add_command(ideas_command)
