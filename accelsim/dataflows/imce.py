"""IMCE, SOT-MRAM / RRAM (issue 8): dataflow under construction; registers nothing yet."""
