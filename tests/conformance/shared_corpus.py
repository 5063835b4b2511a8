"""Where the shared corpus is: ../shared/corpus beside the clone (CI always has it)."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"
PEERS = SHARED / "peers"  # other vCard projects' test cards, SOURCES.md there
VCARDS = SHARED / "vcards"  # khard's and vobject's fixtures, and cases from public issues
MISSING = [path for path in (PEERS, VCARDS) if not path.is_dir()]
NOT_RUN = ("conformance suite NOT run: " + ", ".join(map(str, MISSING)) + " missing"
           if MISSING else "")
