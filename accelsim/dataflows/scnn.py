"""SCNN, DCNN and DCNN-opt (issue 5): dataflow under construction; registers nothing yet."""
