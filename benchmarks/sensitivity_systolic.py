"""How much the systolic baseline's results depend on its assumed parameters (docs/assumptions.md).

VGG16 dense on the default config, varying one assumption at a time: DRAM bandwidth, operand SRAM
size, energy table and precision. Prints network cycles, DRAM traffic and energy per image.
"""

from __future__ import annotations

import accelsim
from accelsim.api import resolve_config


def variant(**changes):  # type: ignore[no-untyped-def]
    spec, _ = resolve_config("systolic_ws_32x32")
    nested = {k: getattr(spec, k).model_copy(update=v) for k, v in changes.items() if isinstance(v, dict)}
    flat = {k: v for k, v in changes.items() if not isinstance(v, dict)}
    return spec.model_copy(update={**nested, **flat})


def row(label: str, spec) -> str:  # type: ignore[no-untyped-def]
    t = accelsim.simulate(spec, "vgg16").totals
    return (
        f"| {label} | {int(t['cycles']):,} | {t['stall_cycles']:,.0f} | {t['dram_bytes'] / 1e6:,.0f} "
        f"| {t['energy_pj'] / 1e6:,.0f} | {t['energy_dram_pj'] / t['energy_pj']:.2f} |"
    )


def main() -> None:
    print("| variant | cycles | stall cycles | DRAM MB | energy uJ | DRAM share |")
    print("|---|---|---|---|---|---|")
    print(row("default (unlimited DRAM, 64 KiB SRAMs, accelergy_40nm, int8)", variant()))
    for bw in (32.0, 12.8, 4.0):
        print(row(f"DRAM {bw} B/cycle", variant(dram={"bandwidth_bytes_per_cycle": bw})))
    for kib in (32, 256, 1024, 4096):
        mem = {"ifmap_sram_kib": kib, "filter_sram_kib": kib, "ofmap_sram_kib": kib}
        print(row(f"SRAMs {kib} KiB each", variant(memory=mem)))
    for table in ("horowitz_45nm", "eyeriss_65nm"):
        print(row(f"energy table {table}", variant(technology={"energy_table": table})))
    print(row("16-bit operands", variant(precision={"weight_bits": 16, "act_bits": 16})))


if __name__ == "__main__":
    main()
