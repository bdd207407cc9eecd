"""IMCE, SOT-MRAM / RRAM (issue 8): model under construction; registers nothing yet."""
