"""Finding the contact a person means by a UID, an email or a name (pure)."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Sequence

from syncd.errors import SyncdError
from syncd.model import Contact
from syncd.reciprocity import item_key
from syncd.terminal import shown


def describe(contact: Contact) -> str:
    """One line naming the contact in a message (`shown`: a card's text cannot forge a line)."""
    email = f" <{contact.emails[0]}>" if contact.emails else ""
    return shown(f"{contact.name}{email} (uid {contact.uid})")


class Directory:
    """The contacts by UID, email and name (accents and case ignored), for many queries."""

    def __init__(self, contacts: Sequence[Contact]) -> None:
        self.contacts = contacts
        self._uid: dict[str, list[Contact]] = defaultdict(list)
        self._email: dict[str, list[Contact]] = defaultdict(list)
        self._name: dict[str, list[Contact]] = defaultdict(list)
        for contact in contacts:
            self._uid[contact.uid].append(contact)
            for email in dict.fromkeys(map(item_key, contact.emails)):
                self._email[email].append(contact)
            self._name[item_key(contact.name)].append(contact)

    def matches(self, query: str) -> list[Contact]:
        """The contacts `query` may mean: the one whose UID it is, else those whose email or
        name it is, else those whose name holds every word of it."""
        by_uid = self._uid.get(query, [])
        if len(by_uid) == 1:
            return list(by_uid)
        wanted = item_key(query)
        found = list({c.uid: c for c in self._email.get(wanted, []) + self._name.get(wanted, [])
                      }.values())
        if not found:
            # Every word of the query in the name: `marco` finds "Rossi, Marco" when he is the
            # only one.
            words = wanted.replace(",", " ").split()
            found = [c for c in self.contacts if words and all(
                w in item_key(c.name).replace(",", " ").split() for w in words)]
        return found


def matches(contacts: Sequence[Contact], query: str) -> list[Contact]:
    """`Directory.matches` for one query."""
    return Directory(contacts).matches(query)


def ambiguous(query: str, found: Sequence[Contact]) -> str:
    listed = "\n".join(f"  {describe(c)}" for c in found)
    return f"{query!r} matches {len(found)} contacts; use a UID or email:\n{listed}"


def find_contact(contacts: Sequence[Contact], query: str) -> Contact:
    """The one contact `query` means (`matches`: its UID, email or name, accents and case
    ignored, else every word of it in the name). An unknown or ambiguous query is an error that
    lists the candidates."""
    found = matches(contacts, query)
    if len(found) == 1:
        return found[0]
    if found:
        raise SyncdError(ambiguous(query, found))
    wanted = item_key(query)
    names = {item_key(c.name): c for c in contacts}
    close = difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.6)
    close += [key for key in names if wanted and wanted in key and key not in close][:5]
    hint = "".join(f"\n  {describe(names[key])}" for key in close)
    raise SyncdError(f"no contact matches {query!r}" + (f"; did you mean:{hint}" if hint else ""))
