"""The speed yardstick of the sparse models: count every valid product of a network with popcounts.

A sparse accelerator model has to know, at least, how many weight x activation products are valid
(both operands non-zero) in every output window of every filter. The fastest way to learn that with
numpy is to pack the channel axis of both masks into 64-bit words and, for every kernel tap, AND each
filter's word with each output position's word and popcount the result: MACs / 64 word operations.
`popcount_seconds` times exactly that on a network's seeded masks (mask generation excluded, as in the
models' warm runs they are compared with) and checks the total against `effectual_macs`.

Run it alone to print the bound of a network:  python benchmarks/lower_bound.py vgg16 pruned
Other benchmarks import `popcount_seconds` and print their time as a ratio to it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from accelsim.api import resolve_network
from accelsim.workload.instance import LayerWorkload
from accelsim.workload.masks import OperandMasks
from accelsim.workload.sparsity import SparsityProfile, load_profile


def _packed(bits: np.ndarray) -> np.ndarray:
    """Bool array (..., c) -> uint64 words (..., ceil(c / 64)), channel axis packed."""
    pad = (-bits.shape[-1]) % 64
    if pad:
        bits = np.concatenate([bits, np.zeros((*bits.shape[:-1], pad), dtype=bool)], axis=-1)
    return np.packbits(bits, axis=-1, bitorder="little").view(np.uint64)


def valid_products(work: LayerWorkload, masks: OperandMasks) -> int:
    """Valid products of one layer, counted window by window with packed-word popcounts."""
    layer = work.layer
    p, (eh, ew), st, oh, ow = layer.pad, layer.pad_end, layer.stride, layer.out_h, layer.out_w
    acts = np.pad(masks.activations != 0, ((0, 0), (p, p + eh), (p, p + ew)))
    weights = masks.weights != 0
    total = 0
    cg, kg = layer.c_per_group, layer.k_per_group
    for g in range(layer.groups):
        a = acts[g * cg : (g + 1) * cg].transpose(1, 2, 0)  # (H, W, c): channels innermost
        w = weights[g * kg : (g + 1) * kg].transpose(2, 3, 0, 1)  # (r, s, k, c)
        a_words = _packed(a)
        w_words = _packed(w)
        for i in range(layer.r):
            for j in range(layer.s):
                window = a_words[i : i + st * (oh - 1) + 1 : st, j : j + st * (ow - 1) + 1 : st]
                window = window.reshape(oh * ow, -1)
                both = w_words[i, j][:, None, :] & window[None, :, :]  # (k, positions, words)
                total += int(np.bitwise_count(both).sum(dtype=np.int64))
    return total


def network_workloads(network: str, profile: str, seed: int) -> list[LayerWorkload]:
    """The compute layers of a network as workloads (masks not yet generated)."""
    net = resolve_network(network)
    prof: SparsityProfile = load_profile(net.name, profile)
    return [LayerWorkload(net.name, layer, prof, seed) for layer in net.layers if layer.is_compute]


def popcount_seconds(network: str, profile: str, seed: int = 0) -> tuple[float, int]:
    """(seconds to count every valid product of the network, that count); masks generated beforehand."""
    works = network_workloads(network, profile, seed)
    masks = [w.masks for w in works]
    t0 = time.perf_counter()
    total = sum(valid_products(w, m) for w, m in zip(works, masks, strict=True))
    seconds = time.perf_counter() - t0
    expected = sum(w.effectual_macs for w in works)
    if total != expected:
        raise AssertionError(f"popcount count {total} != effectual_macs {expected}")
    return seconds, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", nargs="?", default="vgg16")
    parser.add_argument("profile", nargs="?", default="pruned")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    seconds, total = popcount_seconds(args.network, args.profile, args.seed)
    print(f"{args.network}/{args.profile}: {total:,} valid products counted in {seconds:.2f} s")


if __name__ == "__main__":
    main()
