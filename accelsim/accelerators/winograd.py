"""FPGA Winograd engine (issue 9): model under construction; registers nothing yet."""
