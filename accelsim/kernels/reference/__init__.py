"""Golden references: plain-Python, cycle-by-cycle models written for clarity, not speed."""
