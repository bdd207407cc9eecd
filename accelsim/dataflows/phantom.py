"""Phantom-2D (issue 4): dataflow under construction; registers nothing yet."""
