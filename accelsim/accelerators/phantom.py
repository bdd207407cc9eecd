"""Phantom-2D (issue 4): model under construction; registers nothing yet."""
