"""Eyeriss v2 (issue 7): dataflow under construction; registers nothing yet."""
