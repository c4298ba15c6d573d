"""Explaining a trained classifier: which tokens drive a prediction, exactly where the structure allows.

Per-token contributions (``decomposition``, exact for average, max and attention pooling with a
linear head; ``occlusion`` otherwise), the channels' votes and top n-grams (``channels``, ``summary``),
and rendering them (``render``).

May import: the foundation, ``gapsearch.spec``, ``gapsearch.data`` and ``gapsearch.models``; never the
search or the results (the search writes each kept model's explanation through it).
"""

from gapsearch.explain.structure import NotExact, Segment, Structure, find_structure

__all__ = ["NotExact", "Segment", "Structure", "find_structure"]
