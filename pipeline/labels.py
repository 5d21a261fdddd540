"""The three stance labels, defined once (see CODEBOOK.md)."""

CONVERGENCE = "convergence"
DIVERGENCE = "divergence"
NEUTRAL = "neutral"

#: Canonical order: probability columns and confusion matrices follow it.
LABELS: tuple[str, ...] = (CONVERGENCE, DIVERGENCE, NEUTRAL)

#: A candidate pair whose relation the sentence is not about: no record (not ``neutral``).
NONE = "none"
#: The relation classifier's labels: abstain first, then the three stances.
RELATION_LABELS: tuple[str, ...] = (NONE, CONVERGENCE, DIVERGENCE, NEUTRAL)


def score(p_convergence: float, p_divergence: float) -> float:
    """Goldstein-like score of a record: P(convergence) - P(divergence), in [-1, 1]."""
    return float(p_convergence) - float(p_divergence)

#: why a table row got its status in check.csv (pipeline.checking)
CHECK_REASONS = ("unknown topic", "no prose on this topic for this pair", "prose and row agree", "prose opposes row",
                 "prose mixed")
