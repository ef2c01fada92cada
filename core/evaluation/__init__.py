"""Pure numpy metrics and threshold search (tested against sklearn as the oracle)."""
