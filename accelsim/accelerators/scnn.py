"""SCNN, DCNN and DCNN-opt (issue 5): model under construction; registers nothing yet."""
