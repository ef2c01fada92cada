"""Optional text cleaning: URLs and @mentions to placeholders, HTML entities unescaped, whitespace normalised.

Non-ASCII is never stripped: the target models are multilingual and emoji carry meaning.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass

from core.data.schema import Dataset

URL_TOKEN = "[URL]"
USER_TOKEN = "@USER"
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@\w{1,30}")
_SPACE_RE = re.compile(r"\s+")


@dataclass
class CleanOptions:
    """Which cleaning steps to apply (all on by default)."""

    urls: bool = True
    mentions: bool = True
    html_entities: bool = True
    whitespace: bool = True


def clean_text(text: str, options: CleanOptions | None = None) -> str:
    """Clean one text according to `options` (see `CleanOptions`)."""
    options = options or CleanOptions()
    if options.html_entities:
        # Tweets are often escaped twice ("&amp;#8220;"), so unescape until nothing changes (bounded).
        for _ in range(3):
            unescaped = html.unescape(text)
            if unescaped == text:
                break
            text = unescaped
    if options.urls:
        text = _URL_RE.sub(URL_TOKEN, text)
    if options.mentions:
        text = _MENTION_RE.sub(USER_TOKEN, text)
    if options.whitespace:
        text = _SPACE_RE.sub(" ", text).strip()
    return text


def clean_dataset(dataset: Dataset, options: CleanOptions | None = None) -> tuple[Dataset, dict]:
    """Clean every text column of `dataset`.

    Returns:
        The cleaned dataset and a report: the options used and how many cells each step changed.
    """
    options = options or CleanOptions()
    frame = dataset.frame.copy()
    counts = {"urls": 0, "mentions": 0, "html_entities": 0, "whitespace": 0, "cells_changed": 0}
    for column in dataset.text_columns():
        original = frame[column].astype(str)
        if options.urls:
            counts["urls"] += int(original.str.contains(_URL_RE).sum())
        if options.mentions:
            counts["mentions"] += int(original.str.contains(_MENTION_RE).sum())
        if options.html_entities:
            counts["html_entities"] += int(original.str.contains(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);").sum())
        cleaned = original.map(lambda t: clean_text(t, options))
        if options.whitespace:
            counts["whitespace"] += int((original.str.strip() != original).sum()
                                        + original.str.contains(r"\s{2,}|[\t\n\r]").sum())
        counts["cells_changed"] += int((cleaned != original).sum())
        frame[column] = cleaned
    return dataset.with_frame(frame), {"options": asdict(options), **counts}
