"""Escaped HTML heatmaps of word attributions (diverging scale: red raises the score, blue lowers it).

Every word is passed through `html.escape`, so a comment containing `<script>` or `&` shows as text.
The colour intensity is |score| / scale, where `scale` is shared across the views shown together.
"""

from __future__ import annotations

import html

from core.explain.base import Attribution

_POSITIVE, _NEGATIVE = (214, 39, 40), (31, 119, 180)


def colour(score: float, scale: float) -> str:
    """rgba() of a score: red for positive, blue for negative, transparent at 0."""
    alpha = min(abs(score) / scale, 1.0) * 0.85 if scale > 0 else 0.0
    red, green, blue = _POSITIVE if score >= 0 else _NEGATIVE
    return f"rgba({red},{green},{blue},{alpha:.3f})"


def words_html(attribution: Attribution, scale: float | None = None) -> str:
    """One attribution as a line of coloured word spans, each with its score in a tooltip."""
    scores = attribution.word_scores
    scale = scale if scale is not None else max((abs(s) for s in scores), default=0.0)
    spans = [f'<span title="{score:+.4f}" style="background:{colour(score, scale)};padding:1px 3px;'
             f'margin:1px;border-radius:3px;display:inline-block">{html.escape(word)}</span>'
             for word, score in zip(attribution.words, scores)]
    return f'<div style="line-height:2.0;font-size:1.02rem">{" ".join(spans)}</div>'


def legend_html(scale: float, positive_only: bool = False) -> str:
    """A small colour legend for `scale`."""
    stops = [0.0, 0.5, 1.0] if positive_only else [-1.0, -0.5, 0.0, 0.5, 1.0]
    # nowrap: a chip's number must not break over two lines in a narrow column
    cells = "".join(f'<span style="background:{colour(v * scale, scale)};padding:1px 8px;margin:1px;'
                    f'border-radius:3px;white-space:nowrap;display:inline-block">{v * scale:+.3f}</span>'
                    for v in stops)
    text = "darker = more weight" if positive_only else "red raises the score · blue lowers it"
    return f'<div style="font-size:0.85rem">{cells} <span style="opacity:0.7">{html.escape(text)}</span></div>'
