"""Eyeriss v1, row stationary (issue 7): model under construction; registers nothing yet."""
