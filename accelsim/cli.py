"""The command line: typer parses, the library works, rich shows progress and tables."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from accelsim.errors import AccelsimError

if TYPE_CHECKING:
    from accelsim.report.result import RunResult

app = typer.Typer(no_args_is_help=False, add_completion=False, help=__doc__)
console = Console(soft_wrap=True)  # long paths stay on one line; tables still fit the terminal
errors = Console(stderr=True, soft_wrap=True)


class Listing(StrEnum):
    """What `accelsim list` can list."""

    networks = "networks"
    profiles = "profiles"
    accelerators = "accelerators"
    configs = "configs"
    dataflows = "dataflows"
    energy_tables = "energy-tables"


@app.command()
def run(
    config: Annotated[str, typer.Argument(help="Shipped config name, YAML file, or SCALE-Sim .cfg")] = "",
    network: Annotated[
        str, typer.Option(help="Shipped network name, YAML file or SCALE-Sim topology .csv")
    ] = "vgg16",
    profile: Annotated[str, typer.Option(help="Sparsity profile id or YAML file")] = "dense",
    seed: Annotated[int, typer.Option(help="Seed of the operand masks")] = 0,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("results"),
    skip_unsupported: Annotated[
        bool, typer.Option(help="Skip (and list) layers the accelerator cannot run")
    ] = False,
) -> None:
    """Simulate NETWORK on the accelerator CONFIG; write layers.{csv,parquet,json} and provenance.json."""
    from accelsim.api import DEFAULT_CONFIG, resolve_network, simulate

    net = resolve_network(network)
    n = len(net.compute_layers)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(net.name, total=n)
        result = simulate(
            config or DEFAULT_CONFIG,
            net,
            profile,
            seed,
            skip_unsupported=skip_unsupported,
            progress=lambda _name: bar.advance(task),
        )
    paths = result.write(out)
    _print_layers(result)
    skipped = result.provenance["skipped_layers"]
    if skipped:
        listed = ", ".join(f"{k} ({v})" for k, v in skipped.items())
        console.print(Text(f"skipped (not run natively): {listed}", style="yellow"))
    console.print(Text(f"wrote {', '.join(str(p) for p in paths.values())}"))


@app.command("list")
def list_(what: Annotated[Listing, typer.Argument(help="What to list")]) -> None:
    """List shipped networks, sparsity profiles, accelerator kinds, configs, dataflows or energy tables."""
    from accelsim.accelerators import ACCELERATORS
    from accelsim.api import list_configs
    from accelsim.dataflows import DATAFLOWS
    from accelsim.energy import list_energy_tables
    from accelsim.workload.catalog import list_networks, list_profiles

    if what is Listing.networks:
        lines = list_networks()
    elif what is Listing.profiles:
        lines = [f"{net}: {pid}" for net, pid in list_profiles()]
    elif what is Listing.accelerators:
        lines = sorted(ACCELERATORS)
    elif what is Listing.configs:
        lines = list_configs()
    elif what is Listing.dataflows:
        lines = [f"{family}: {name}" for family, names in sorted(DATAFLOWS.items()) for name in sorted(names)]
    else:
        lines = list_energy_tables()
    for line in lines:
        console.print(line, highlight=False)


@app.command()
def validate(
    path: Annotated[
        Path, typer.Argument(help="Accelerator config (.yaml, SCALE-Sim .cfg), network or profile YAML")
    ],
) -> None:
    """Check a file: an accelerator config (schema, kind, dataflow, energy table), a network or a profile."""
    from accelsim.accelerators import build
    from accelsim.api import resolve_config, resolve_network
    from accelsim.config.yaml_io import read_yaml
    from accelsim.workload.sparsity import load_profile

    data = read_yaml(path) if path.suffix in (".yaml", ".yml") else None
    if isinstance(data, dict) and "kind" not in data and "layers" in data and "network" in data:
        profile = load_profile(
            str(data["network"]), path, check_against=resolve_network(str(data["network"]))
        )
        console.print(
            f"{path}: ok (sparsity profile {profile.id!r} of {profile.network}, {len(profile.layers)} layers)"
        )
    elif isinstance(data, dict) and "kind" not in data and "layers" in data:
        net = resolve_network(path)
        console.print(f"{path}: ok (network {net.name}, {len(net)} layers, {net.macs:,} MACs)")
    else:
        spec, source = resolve_config(path)
        accel = build(spec, source)
        console.print(f"{path}: ok ({accel.kind}, {accel.multipliers} multipliers, {accel.name})")


def _print_layers(result: RunResult) -> None:
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in result.layers.to_dict("records")]
    totals: dict[str, Any] = {str(k): v for k, v in result.totals.items()}
    title = f"{totals['accelerator']} on {totals['network']} (profile {result.provenance['profile']})"
    table = Table(title=title)
    for col in ("layer", "cycles", "util", "eff. util", "energy uJ", "DRAM MB", "folds"):
        table.add_column(col, justify="left" if col == "layer" else "right")
    for r in rows:
        table.add_row(*_cells(r))
    table.add_row(*_cells({**totals, "layer": "total"}), style="bold")
    console.print(table)
    console.print(
        Text(f"latency {totals['latency_s'] * 1e3:.3f} ms at {result.provenance['config']['clock_mhz']} MHz")
    )


def _cells(r: dict[str, Any]) -> list[str]:
    return [
        str(r["layer"]),
        f"{int(r['cycles']):,}",
        f"{r['utilization']:.3f}",
        f"{r['effectual_utilization']:.3f}",
        f"{r['energy_pj'] / 1e6:,.1f}",
        f"{r['dram_bytes'] / 1e6:,.1f}",
        f"{int(r['folds']):,}",
    ]


def main() -> None:
    """Entry point: bad input becomes a message and exit code 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except AccelsimError as e:
        errors.print(Text("error: ", style="bold red") + Text(str(e)), highlight=False)
        sys.exit(2)
    except (typer.Exit, SystemExit) as e:
        code = e.exit_code if isinstance(e, typer.Exit) else e.code
        sys.exit(code)
    except Exception as e:  # click's usage errors
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
