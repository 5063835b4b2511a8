"""syncd: remembers who gave you what, and puts the follow-ups into your calendar."""

__version__ = "0.1.0"
