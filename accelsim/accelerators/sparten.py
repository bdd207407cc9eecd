"""SparTen and its baselines (issue 6): model under construction; registers nothing yet."""
