"""Explaining a trained classifier: which tokens drive a prediction, exactly where the structure allows."""

from gapsearch.explain.structure import NotExact, Segment, Structure, find_structure

__all__ = ["NotExact", "Segment", "Structure", "find_structure"]
