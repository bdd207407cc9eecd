"""Eyeriss v1, row stationary (issue 7): dataflow under construction; registers nothing yet."""
