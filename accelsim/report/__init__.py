"""Results: one schema for every accelerator, writers, totals and provenance."""

from accelsim.report.result import RunResult, network_totals
from accelsim.report.schema import LAYER_COLUMNS, LayerResult
from accelsim.report.writers import write_json, write_table

__all__ = ["LAYER_COLUMNS", "LayerResult", "RunResult", "network_totals", "write_json", "write_table"]
