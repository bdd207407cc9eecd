"""SparTen and its baselines (issue 6): dataflow under construction; registers nothing yet."""
