"""Eyeriss v2 (issue 7): model under construction; registers nothing yet."""
