"""How sure the model is, in numbers and in one plain-language line (pure functions)."""

from __future__ import annotations

import math

from ..defaults import CONFIDENT  # with a clear margin, the model is called confident

#: the margin between the top two probabilities below which the model is called uncertain
CLOSE_MARGIN = 0.20
#: a spread (standard deviation over test-time augmentations) above which the answer is unstable
UNSTABLE_SPREAD = 0.10


def uncertainty(probabilities: dict[str, float], spread: dict[str, float] | None = None, *,
                reliable: bool = True) -> dict:
    """Top probability, margin to the runner-up, normalised entropy (0: certain, 1: uniform) and,
    with test-time augmentations, the largest spread; plus :func:`certainty_line`."""
    ranked = sorted(probabilities.items(), key=lambda kv: kv[1], reverse=True)
    top = ranked[0][1]
    margin = top - (ranked[1][1] if len(ranked) > 1 else 0.0)
    entropy = -sum(p * math.log(p) for _, p in ranked if p > 0)
    out = {"top_probability": round(top, 4), "margin": round(margin, 4),
           "entropy": round(entropy / math.log(len(ranked)), 4) if len(ranked) > 1 else 0.0,
           "max_spread": None if spread is None else round(max(spread.values()), 4)}
    return {**out, "summary": certainty_line(probabilities, spread, reliable=reliable)}


def certainty_line(probabilities: dict[str, float], spread: dict[str, float] | None = None, *,
                   reliable: bool = True) -> str:
    """E.g. ``"confident: Covid 0.93"`` or ``"uncertain: Normal 0.48, Viral Pneumonia 0.41"``;
    for an input the quality gate flagged (``reliable`` False), that no certainty is claimed."""
    ranked = sorted(probabilities.items(), key=lambda kv: kv[1], reverse=True)
    (first, p1), (second, p2) = ranked[0], ranked[1] if len(ranked) > 1 else ("", 0.0)
    if not reliable:
        return (f"not assessable: the image is unlike the training X-rays, so {first} {p1:.2f} "
                "says nothing about this image")
    if p1 - p2 < CLOSE_MARGIN:
        line = f"uncertain: {first} {p1:.2f}, {second} {p2:.2f}"
    elif p1 >= CONFIDENT:
        line = f"confident: {first} {p1:.2f}"
    else:
        line = f"leaning: {first} {p1:.2f} (next {second} {p2:.2f})"
    if spread and max(spread.values()) > UNSTABLE_SPREAD:
        line += "; the answer moves with small changes of the image"
    return line
