"""FPGA Winograd engine (issue 9): dataflow under construction; registers nothing yet."""
