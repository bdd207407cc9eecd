"""The command line: typer parses, the library works, rich shows progress and tables."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
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
    from accelsim.compare import Comparison
    from accelsim.report.result import RunResult
    from accelsim.workload.network import Network

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
    jobs: Annotated[int, typer.Option(min=1, help="Worker processes for the layers (same results)")] = 1,
    batch: Annotated[
        int | None, typer.Option(min=1, help="Images per run, each with its own masks (default: 1)")
    ] = None,
) -> None:
    """Simulate NETWORK on the accelerator CONFIG; write layers.{csv,parquet,json} and provenance.json."""
    from accelsim.api import DEFAULT_CONFIG, resolve_network, simulate
    from accelsim.report.outputs import check_output_folder
    from accelsim.report.result import RUN_FILES

    check_output_folder(out, files=RUN_FILES.values(), what="--out")  # before any work
    net = resolve_network(network)
    n = len(net.compute_layers)
    with _progress() as bar:
        task = bar.add_task(net.name, total=n)
        result = simulate(
            config or DEFAULT_CONFIG,
            net,
            profile,
            seed,
            skip_unsupported=skip_unsupported,
            progress=lambda _name: bar.advance(task),
            jobs=jobs,
            batch=batch,
        )
    paths = result.write(out)
    _print_layers(result)
    skipped = result.provenance["skipped_layers"]
    if skipped:
        listed = ", ".join(f"{k} ({v})" for k, v in skipped.items())
        console.print(Text(f"skipped (not run natively): {listed}", style="yellow"))
    console.print(Text(f"wrote {', '.join(str(p) for p in paths.values())}"))


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec YAML (see arch_configs/sweeps/example.yaml)")],
    out: Annotated[Path, typer.Option(help="Sweep folder: points/, results.parquet, sweep.json")],
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address tcp://host:port; default: a local cluster")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes of the local cluster (default: one per core)")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace another sweep's sweep.json and results.parquet in --out")
    ] = False,
) -> None:
    """Run every point of the sweep SPEC on Dask; a rerun on the same --out skips finished points."""
    from accelsim.config.sweep_spec import load_sweep
    from accelsim.sweep.executor import check_sweep_folder, run_sweep
    from accelsim.sweep.points import expand
    from accelsim.sweep.store import finished

    check_sweep_folder(out, what="--out")  # before any work
    sweep_spec = load_sweep(spec)
    points = expand(sweep_spec)  # every point validated before any runs
    manifest = {"name": sweep_spec.name, "source": str(sweep_spec.path), "spec": sweep_spec.model_dump()}
    with _progress() as bar:
        task = bar.add_task(f"sweep {sweep_spec.name}", total=len(points))
        seen: Counter[str] = Counter()

        def step(_point_id: str, status: str) -> None:
            seen[status] += 1
            counts = ", ".join(f"{n} {what}" for what, n in sorted(seen.items()))
            bar.update(task, advance=1, description=f"sweep {sweep_spec.name}: {counts}")

        try:
            summary = run_sweep(
                points,
                out,
                scheduler=scheduler,
                workers=workers,
                manifest=manifest,
                progress=step,
                notify=lambda message: bar.console.print(Text(message, style="yellow")),
                force=force,
            )
        except KeyboardInterrupt:
            kept = len(finished(out) & {p.point_id for p in points})
            errors.print(f"interrupted: {kept} of {len(points)} points finished; rerun to resume")
            raise typer.Exit(130) from None
    console.print(
        f"{len(points)} points: {summary.done} done, {summary.skipped} skipped (already finished), "
        f"{summary.failed} failed",
        highlight=False,
    )
    for pid, message in summary.errors.items():
        console.print(Text(f"failed {pid[:12]}: {message}", style="red"))
    console.print(Text(f"wrote {summary.results}"))
    if summary.failed:
        raise typer.Exit(1)


@app.command("list")
def list_(what: Annotated[Listing, typer.Argument(help="What to list")]) -> None:
    """List shipped networks, sparsity profiles, accelerator kinds, configs, dataflows or energy tables."""
    from accelsim.accelerators import known_kinds
    from accelsim.api import list_configs
    from accelsim.dataflows import all_dataflows
    from accelsim.energy import list_energy_tables
    from accelsim.workload.catalog import list_networks, list_profiles

    if what is Listing.networks:
        lines = list_networks()
    elif what is Listing.profiles:
        lines = [f"{net}: {pid}" for net, pid in list_profiles()]
    elif what is Listing.accelerators:
        lines = known_kinds()
    elif what is Listing.configs:
        lines = list_configs()
    elif what is Listing.dataflows:
        found = all_dataflows()
        lines = [f"{family}: {name}" for family, names in sorted(found.items()) for name in sorted(names)]
    else:
        lines = list_energy_tables()
    for line in lines:
        console.print(line, highlight=False)


@app.command()
def compare(
    configs: Annotated[list[str], typer.Argument(help="Two or more configs: shipped names, YAML or .cfg")],
    network: Annotated[str, typer.Option(help="Shipped network name, YAML file or SCALE-Sim .csv")] = "vgg16",
    profile: Annotated[str, typer.Option(help="Sparsity profile id or YAML file")] = "dense",
    seed: Annotated[int, typer.Option(help="Seed of the operand masks (the same for every config)")] = 0,
    baseline: Annotated[
        str | None, typer.Option(help="Config (or accelerator name) speedups are relative to; default: first")
    ] = None,
    iso: Annotated[
        str,
        typer.Option(
            help="What to hold equal: multipliers (and clock), area (within --area-tolerance, and clock) "
            "or none"
        ),
    ] = "multipliers",
    no_iso: Annotated[bool, typer.Option("--no-iso", help="Same as --iso none")] = False,
    area_tolerance: Annotated[
        float, typer.Option(help="--iso area: largest relative area difference (max / min - 1) accepted")
    ] = 0.10,
    scale_to_area: Annotated[
        bool,
        typer.Option(
            "--scale-to-area",
            help="--iso area: scale a config outside the tolerance to the baseline's area by its tile "
            "count (array columns, PE columns, mesh columns or clusters); it runs as CONFIG@KEY=COUNT",
        ),
    ] = False,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("comparison"),
    batch: Annotated[
        int | None, typer.Option(min=1, help="Images every config runs, each with its own masks (default: 1)")
    ] = None,
) -> None:
    """Run CONFIGS on the same network, profile and seed; print and write speedup and energy tables."""
    from accelsim.api import resolve_config, resolve_network
    from accelsim.compare import COMPARISON_FILES, output_folders
    from accelsim.compare import compare as compare_configs
    from accelsim.compare import scale_to_area as scaled_configs
    from accelsim.report.outputs import check_output_folder

    iso_mode = "none" if no_iso else iso
    names = [resolve_config(c)[0].name for c in configs]  # the run folders' names, before any work
    check_output_folder(
        out, files=COMPARISON_FILES.values(), folders=output_folders(names).values(), what="--out"
    )
    net = resolve_network(network)
    if scale_to_area and iso_mode == "area":  # the scaled configs' run folders (scaling simulates nothing)
        specs = scaled_configs(configs, net, baseline=baseline, area_tolerance=area_tolerance)[0]
        folders = output_folders([s.name for s in specs]).values()
        check_output_folder(out, files=COMPARISON_FILES.values(), folders=folders, what="--out")
    with _progress() as bar:
        result = compare_configs(
            configs,
            net,
            profile,
            seed,
            iso=iso_mode,
            baseline=baseline,
            progress=_compare_progress(bar, net, len(configs)),
            batch=batch,
            area_tolerance=area_tolerance,
            scale_to_area=scale_to_area,
        )
    result.write(out)
    images = int(result.network["batch"].iloc[0])
    _print_comparison(result, f"{network}, profile {profile}, seed {seed}, batch {images}")
    console.print(Text(result.held_equal, style="green" if result.iso else "yellow"))
    if result.skipped:
        console.print(Text("skipped (not run natively):", style="yellow"))
        for s in result.skipped:
            console.print(Text(f"  {s.accelerator}: {s.layer} ({s.reason})", style="yellow"))
    else:
        console.print(Text("skipped (not run natively): none"))
    console.print(Text(f"wrote {out}/comparison_layers.{{parquet,csv}}, comparison_network.csv, run folders"))


IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".tif", ".tiff", ".eps", ".ps", ".svgz")
"""Image files `accelsim plot` writes (matplotlib draws each without outside programs)."""


@app.command()
def plot(
    kind: Annotated[
        str, typer.Argument(help="speedup | energy | utilization | load-balance | losses | sweep | pareto")
    ],
    results: Annotated[
        list[Path], typer.Argument(help="Result folders (accelsim run / compare / sweep) or table files")
    ],
    out: Annotated[Path, typer.Option(help="Image file (.png, .svg, .pdf)")] = Path("plot.png"),
    accelerator: Annotated[
        str | None, typer.Option(help="energy / load-balance / losses: which run of a comparison to draw")
    ] = None,
    layer: Annotated[str | None, typer.Option(help="load-balance: the layer of the timeline")] = None,
    x: Annotated[
        str | None,
        typer.Option(help="sweep: the axis column on the x axis; pareto: a point metric (default latency)"),
    ] = None,
    series: Annotated[str | None, typer.Option(help="sweep: one line per value of this column")] = None,
    metric: Annotated[str, typer.Option(help="sweep: the metric (summed over layers)")] = "cycles",
    y: Annotated[
        str | None, typer.Option(help="pareto: the metric on the y axis (latency, energy, area or a column)")
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="pareto: marker area follows this metric (e.g. area)")
    ] = None,
    color: Annotated[
        str | None, typer.Option(help="pareto: colour the points by a sweep axis, accelerator or network")
    ] = None,
) -> None:
    """Draw a plot of KIND from written results; reads results only, never simulates."""
    from accelsim.plots import check_kind, figure_for, load_results
    from accelsim.report.outputs import check_output_file, write_set

    check_kind(kind)
    check_output_file(out, suffixes=IMAGE_SUFFIXES, what="--out")  # before any work
    fig = figure_for(
        kind,
        [load_results(p) for p in results],
        accelerator=accelerator,
        layer=layer,
        x=x,
        series=series,
        metric=metric,
        y=y,
        size=size,
        color=color,
    )
    with write_set(out.parent) as tmp:
        fig.savefig(tmp / out.name, dpi=150)
    console.print(Text(f"wrote {out}"))


@app.command("import")
def import_(
    model: Annotated[Path, typer.Argument(help="ONNX model file (.onnx)")],
    out: Annotated[Path, typer.Option(help="Output folder: network.yaml, profile.yaml, masks.npz")],
    inputs: Annotated[
        Path | None, typer.Option(help="N x C x H x W float32 .npy array, fed to the model as is")
    ] = None,
    images: Annotated[
        Path | None, typer.Option(help="Folder of PNG / JPEG images, resized to the input and normalised")
    ] = None,
    batch: Annotated[
        int | None, typer.Option(min=1, help="Keep the activation masks of the first N images (default: all)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Network name (default: the model file's name)")] = None,
    mean: Annotated[
        str, typer.Option(help="--images: per-channel mean, comma-separated")
    ] = "0.485,0.456,0.406",
    std: Annotated[
        str, typer.Option(help="--images: per-channel std, comma-separated")
    ] = "0.229,0.224,0.225",
) -> None:
    """Import MODEL: layer shapes from the graph, weight masks from its weights, activation masks from
    running it in onnxruntime on --inputs or --images. Writes a network and a real-mask profile."""
    from accelsim.errors import ConfigError
    from accelsim.report.outputs import check_output_folder, write_set
    from accelsim.workload.onnx_import import IMPORT_FILES, import_onnx, write_import

    if inputs is not None and images is not None:
        raise ConfigError("give --inputs or --images, not both")
    check_output_folder(out, files=IMPORT_FILES.values(), what="--out")  # before any work
    source = _batch_source(inputs, images, batch, _floats("--mean", mean), _floats("--std", std))
    net_name = name or (re.sub(r"[^A-Za-z0-9_.-]+", "_", model.stem) or "imported")
    imported = import_onnx(model, net_name, source)
    with write_set(out) as tmp:
        write_import(imported, tmp)
    net = imported.network
    console.print(
        f"{model}: {len(net)} layers ({len(net.compute_layers)} compute), {net.macs:,} MACs; "
        f"inputs: {imported.inputs}",
        highlight=False,
    )
    console.print(Text(f"wrote {', '.join(str(out / f) for f in IMPORT_FILES.values())}"))


def _floats(option: str, text: str) -> list[float]:
    from accelsim.errors import ConfigError

    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a comma-separated list of numbers") from None


def _batch_source(
    inputs: Path | None, images: Path | None, batch: int | None, mean: list[float], std: list[float]
) -> Callable[[list[int | None]], tuple[Any, str]] | None:
    """How `accelsim import` gets its input batch from the model's input shape (None: no inputs)."""
    from accelsim.errors import ConfigError

    if inputs is None and images is None:
        if batch is not None:
            raise ConfigError("--batch needs --inputs or --images (the images whose masks to keep)")
        return None

    def source(shape: list[int | None]) -> tuple[Any, str]:
        from accelsim.workload.model_inputs import load_array, load_images

        if inputs is not None:
            array, what = load_array(inputs, shape), f"{inputs.name}"
        else:
            assert images is not None
            array, files = load_images(images, shape, mean, std)
            what = f"{len(files)} image(s) in {images.name}/ (mean {mean}, std {std})"
        if batch is not None:
            if batch > len(array):
                raise ConfigError(f"--batch {batch}: the inputs hold only {len(array)} image(s)")
            array, what = array[:batch], f"the first {batch} of {what}"
        return array, what

    return source


@app.command()
def validate(
    path: Annotated[
        Path,
        typer.Argument(
            help="Config (.yaml, SCALE-Sim .cfg), network (.yaml, SCALE-Sim .csv), profile or sweep spec"
        ),
    ],
) -> None:
    """Check a file: an accelerator config (schema, kind, dataflow, energy table, an Accelergy ERT and its
    energy map), a network, a sparsity profile or a sweep spec (every point, as a sweep would before
    running)."""
    from accelsim.api import resolve_config, resolve_network
    from accelsim.config.yaml_io import read_yaml

    data = read_yaml(path) if path.suffix in (".yaml", ".yml") else None
    about = data if isinstance(data, dict) and "kind" not in data else {}
    if "base" in about:
        from accelsim.config.sweep_spec import load_sweep
        from accelsim.sweep.points import expand

        sweep_spec = load_sweep(path)
        points = expand(sweep_spec)
        console.print(f"{path}: ok (sweep {sweep_spec.name}, {len(points)} points)", highlight=False)
    elif "layers" in about and "network" in about:
        from accelsim.errors import ConfigError
        from accelsim.workload.sparsity import check_profile, load_profile

        profile = load_profile(str(about["network"]), path)  # the file's own checks first
        try:
            net = resolve_network(profile.network)
        except AccelsimError as e:
            raise ConfigError(f"{path}: network: {e}") from None
        check_profile(profile, net)
        console.print(
            f"{path}: ok (sparsity profile {profile.id!r} of {profile.network}, {len(profile.layers)} layers)"
        )
    elif "layers" in about or path.suffix == ".csv":
        net = resolve_network(path)
        console.print(f"{path}: ok (network {net.name}, {len(net)} layers, {net.macs:,} MACs)")
    else:
        from accelsim.accelerators import check

        spec, source = resolve_config(path)
        check(spec, source)
        console.print(f"{path}: ok ({spec.kind}, {spec.multipliers} multipliers, {spec.name})")


def _print_comparison(result: Comparison, title: str) -> None:
    """The network table, then where each accelerator's cycles went (shares of its slots)."""
    from rich import box

    from accelsim.report.schema import SLOT_PARTS

    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in result.network.to_dict("records")
    ]
    table = Table(title=title, box=box.SIMPLE_HEAD)
    columns = ("accelerator", "layers", "cycles", "speedup", "conv\nspeedup", "util", "eff.\nutil")
    extra = ("imbalance", "energy per\ninference mJ", "latency\nms", "area\nmm²", "speedup\nper mm²")
    for col in (*columns, *extra):
        table.add_column(col, justify="left" if col == "accelerator" else "right", no_wrap=True)
    shares = Table(title="where the cycles went (share of multiplier-cycles)", box=box.SIMPLE_HEAD)
    shares.add_column("accelerator", no_wrap=True)
    for part in SLOT_PARTS:
        shares.add_column(part.replace("_", "\n"), justify="right", no_wrap=True)
    for r in rows:
        style = "bold" if r["accelerator"] == result.baseline else None
        partial = int(r["layers"]) < int(r["network_layers"])
        table.add_row(
            str(r["accelerator"]),
            Text(f"{int(r['layers'])}/{int(r['network_layers'])}", style="yellow" if partial else ""),
            f"{int(r['cycles']):,}",
            f"{r['speedup']:.3f}",
            f"{r['speedup_conv']:.3f}",
            f"{r['utilization']:.3f}",
            f"{r['effectual_utilization']:.3f}",
            f"{r['imbalance']:.3f}",
            f"{r['energy_pj'] / 1e9:,.3f}",
            f"{r['latency_s'] * 1e3:.3f}",
            f"{r['area_mm2']:.3g}",
            f"{r['speedup_per_mm2']:.3g}",
            style=style,
        )
        shares.add_row(str(r["accelerator"]), *(f"{r[f'share_{p}']:.3f}" for p in SLOT_PARTS), style=style)
    out = console if console.is_terminal else Console(width=160)  # pipes get whole names
    out.print(table)
    out.print(shares)
    console.print(
        Text(
            f"speedup = {result.baseline} cycles / cycles (baseline in bold), over the layers both ran; "
            "conv speedup: the same without fully connected layers; layers: run natively / network"
        )
    )


@app.command("validate-papers")
def validate_papers(
    figure: Annotated[
        list[str] | None, typer.Option("--figure", help="Figure id (repeatable); default: every figure")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Model family, e.g. eyeriss_v2 (repeatable)")
    ] = None,
    fast: Annotated[
        bool, typer.Option(help="Only the figures that take seconds (the test suite's set)")
    ] = False,
    out: Annotated[Path, typer.Option(help="Output folder for validation.csv and validation.md")] = Path(
        "validation-results"
    ),
    update_docs: Annotated[
        Path | None,
        typer.Option(help="Also rewrite the generated table of this page (docs/validation.md); all figures"),
    ] = None,
) -> None:
    """Run the set-up of every published figure (validation/figures.yaml) and print model against paper:
    error, committed tolerance, pass or out of tolerance, and which figures are in-sample."""
    from accelsim.errors import ConfigError
    from accelsim.report.outputs import check_output_folder
    from accelsim.validate import (
        PAGE_BEGIN,
        STATUS_OUT,
        STATUS_PASS,
        TABLE_FILES,
        cells,
        load_shipped,
        needed_runs,
        records,
        run_figures,
        select,
        summary,
        update_page,
        write_tables,
    )

    figures = select(load_shipped(), figure or [], model or [])
    if fast:
        figures = [f for f in figures if f.cost == "fast"]
    check_output_folder(out, files=TABLE_FILES, what="--out")  # before any work
    if update_docs is not None:
        if figure or model or fast:
            raise ConfigError("--update-docs rewrites the whole table: give no --figure, --model or --fast")
        if not update_docs.is_file() or PAGE_BEGIN not in update_docs.read_text(encoding="utf-8"):
            raise ConfigError(f"--update-docs: {update_docs} is not a page with a generated validation table")
    runs = needed_runs(figures)
    with _progress() as bar:
        task = bar.add_task("figures' runs", total=len(runs))
        table = run_figures(figures, progress=lambda _run: bar.advance(task))
    shown = Table(title="published figures: model against paper")
    widest = max((len(str(i)) for i in table.id), default=6)
    shown.add_column("figure", no_wrap=True, min_width=widest)  # ids stay whole, to copy into --figure
    for col in ("paper", "model", "error", "tolerance", "status"):
        shown.add_column(col, justify="left" if col == "status" else "right")
    for row in records(table):
        c = cells(row)
        style = {STATUS_PASS: "green", STATUS_OUT: "red"}.get(str(row["status"]), "dim")
        shown.add_row(
            c["figure"], c["paper"], c["model"], c["error"], c["tolerance"], Text(c["status"], style=style)
        )
    console.print(shown)
    console.print(Text(summary(table)))
    paths = write_tables(table, out)
    if update_docs is not None:
        update_page(update_docs, table)
        paths.append(update_docs)
    console.print(Text(f"wrote {', '.join(str(p) for p in paths)}"))


def _progress() -> Progress:
    """The progress bar of every long command (on stderr, gone when done; only on a terminal, so that a
    pipe or a log gets the messages alone)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal)


def _compare_progress(bar: Progress, net: Network, configs: int) -> Callable[[str, str | None], None]:
    """Show which accelerator (of how many) and which layer `compare` is simulating."""
    layers = len(net.compute_layers)
    task = bar.add_task(f"compare on {net.name}", total=configs * layers)
    started: list[str] = []

    def step(accelerator: str, layer: str | None) -> None:
        if layer is None:
            started.append(accelerator)
            where = f"{accelerator} ({len(started)}/{configs})"
            bar.update(task, completed=(len(started) - 1) * layers, description=where)
        else:
            bar.update(task, advance=1, description=f"{accelerator} ({len(started)}/{configs}): {layer}")

    return step


def _print_layers(result: RunResult) -> None:
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in result.layers.to_dict("records")]
    totals: dict[str, Any] = {str(k): v for k, v in result.totals.items()}
    title = f"{totals['accelerator']} on {totals['network']} (profile {result.provenance['profile']}"
    title += f", batch {totals['batch']})" if totals.get("batch", 1) > 1 else ")"
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


def run_cli(args: Sequence[str] | None = None) -> int:
    """Run the command line on `args` (default: the process's); returns the exit code.

    Bad input becomes one message on stderr and exit code 2, never a traceback.
    """
    try:
        code = app(args=None if args is None else list(args), prog_name="accelsim", standalone_mode=False)
    except AccelsimError as e:
        errors.print(Text("error: ", style="bold red") + Text(str(e)), highlight=False)
        return 2
    except typer.Abort:  # Ctrl-C outside a command's own handler
        errors.print("aborted")
        return 130
    except typer.TyperException as e:  # usage errors: unknown option, missing argument
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:
            errors.print(Text(f"error: {e}"))
        return 2
    return code if isinstance(code, int) else 0


def main() -> None:
    """Entry point: bad input becomes a message and exit code 2, never a traceback."""
    sys.exit(run_cli())


if __name__ == "__main__":
    main()
