"""The evaluation scripts' shared harness: one table writer, one error helper, one config-variant helper.

Every `benchmarks/*_eval.py` writes its Markdown tables with `markdown_rows` / `markdown_frame`,
computes errors against a paper with `relative_error` (the same function `accelsim validate-papers`
uses) and derives a config variant with `config_variant`, which re-validates the changed config as a
sweep point is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from pydantic import BaseModel

from accelsim.api import resolve_config
from accelsim.config.arch import parse_arch
from accelsim.validate import error as relative_error

__all__ = ["config_variant", "markdown_frame", "markdown_rows", "percent_error", "relative_error"]


def markdown_rows(
    header: Sequence[object], rows: Iterable[Sequence[object]], cell: Callable[[Any], str] = str
) -> list[str]:
    """A Markdown table as lines: the header, the rule, one line per row with `cell` on every value."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def markdown_frame(df: pd.DataFrame, cell: Callable[[Any], str] = str, *, as_series: bool = False) -> str:
    """A DataFrame as a Markdown table. `as_series` reads rows as pandas Series (`iterrows`: a row of
    mixed ints and floats becomes floats), the way some pages were first written; else as tuples."""
    rows: Iterable[Sequence[object]] = (
        (list(row) for _, row in df.iterrows()) if as_series else df.itertuples(index=False)
    )
    return "\n".join(markdown_rows(list(df.columns), rows, cell))


def percent_error(model: float, paper: float, digits: int = 0, space: bool = True) -> str:
    """The relative error as signed percent text: "+12 %" (or "+12%" with space=False)."""
    return f"{100 * relative_error(model, paper):+.{digits}f}{' ' if space else ''}%"


def config_variant(
    config: str | BaseModel, changes: Mapping[str, Any] | None = None, /, **sections: Any
) -> Any:
    """A shipped config (name) or spec with keys changed, validated again.

    `changes` maps dotted key paths to values (`{"pe.simd": 1}`); keyword arguments name a top-level
    key: a dict merges into that section (`core={"window": 1}`), anything else replaces the key.
    """
    spec = resolve_config(config)[0] if isinstance(config, str) else config
    data: dict[str, Any] = spec.model_dump(mode="json")
    updates = {**(changes or {}), **sections}
    for path, value in updates.items():
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        *parents, key = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        if isinstance(value, dict) and isinstance(node.get(key), dict):
            node[key] = {**node[key], **value}
        else:
            node[key] = value
    return parse_arch(data, f"<{spec.name} with {', '.join(updates) or 'no change'}>")
