"""Scaling rules for per-action energies: node and voltage ([STILLMAKER17]), SRAM geometry ([ACCELERGY19]).

Node scaling follows Stillmaker & Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration 58 (2017), as encoded in Accelergy-Project/hwcomponents
`hwcomponents/scaling/techscaling.py`: the energy of an operation at a table node is a·Vdd² + b·Vdd + c.
Between table nodes the energy is interpolated linearly in the node, between the two neighbouring
table nodes. Accelergy's `_get_technology_node_index` interpolates the other way round (28 nm lands
two thirds of the way towards 20 nm) and makes intermediate nodes non-monotonic; this module does not.
"""

from __future__ import annotations

from accelsim.errors import ConfigError

STILLMAKER_COEFFICIENTS: dict[int, tuple[float, float, float]] = {
    130: (7.171, -6.709, 2.904),
    90: (4.762, -4.781, 2.092),
    65: (3.755, -4.398, 1.975),
    45: (1.103, -0.362, 0.2767),
    32: (0.9559, -0.7823, 0.471),
    20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024),
    14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}
"""Node (nm) -> (a, b, c) of energy = a·Vdd² + b·Vdd + c ([STILLMAKER17])."""

MIN_NODE_NM = min(STILLMAKER_COEFFICIENTS)
"""Smallest node the scaling equations cover (7 nm)."""
MAX_NODE_NM = max(STILLMAKER_COEFFICIENTS)
"""Largest node the scaling equations cover (130 nm)."""

_NODES = sorted(STILLMAKER_COEFFICIENTS)


def _polynomial(node: int, vdd: float) -> float:
    a, b, c = STILLMAKER_COEFFICIENTS[node]
    return a * vdd * vdd + b * vdd + c


def node_energy(node_nm: float, vdd: float) -> float:
    """Relative energy of one operation at `node_nm` and `vdd` (arbitrary units; only ratios mean anything).

    Raises ConfigError for a node outside 7..130 nm or a non-positive voltage.
    """
    if not MIN_NODE_NM <= node_nm <= MAX_NODE_NM:
        raise ConfigError(
            f"technology node {node_nm} nm is outside the range of the node-scaling equations "
            f"({MIN_NODE_NM}..{MAX_NODE_NM} nm, Stillmaker & Baas; [STILLMAKER17])"
        )
    if vdd <= 0:
        raise ConfigError(f"supply voltage must be > 0 V, got {vdd}")
    if node_nm in STILLMAKER_COEFFICIENTS:
        energy = _polynomial(int(node_nm), vdd)
    else:
        lower = max(n for n in _NODES if n < node_nm)
        upper = min(n for n in _NODES if n > node_nm)
        e_lower, e_upper = _polynomial(lower, vdd), _polynomial(upper, vdd)
        energy = e_lower + (e_upper - e_lower) * (node_nm - lower) / (upper - lower)
    if energy <= 0:
        raise ConfigError(f"node-scaling polynomial is not positive at {node_nm} nm and {vdd} V")
    return energy


def node_factor(from_nm: float, to_nm: float, vdd: float = 0.8) -> float:
    """Factor that scales a dynamic energy from node `from_nm` to node `to_nm` at a fixed `vdd`."""
    return node_energy(to_nm, vdd) / node_energy(from_nm, vdd)


def energy_factor(from_nm: float, from_vdd: float, to_nm: float, to_vdd: float) -> float:
    """Factor that scales a dynamic energy from (`from_nm`, `from_vdd`) to (`to_nm`, `to_vdd`).

    With equal voltages this is `node_factor`; a voltage change follows the same per-node polynomial.
    """
    return node_energy(to_nm, to_vdd) / node_energy(from_nm, from_vdd)


def sram_depth_factor(depth: float, ref_depth: float, exponent: float) -> float:
    """Access-energy factor of an SRAM `depth` words deep against one `ref_depth` deep, same port width.

    CACTI rule: energy ∝ depth^0.78 [repo: hwcomponents scalefuncs.py `cacti_depth_energy`] [ACCELERGY19].
    """
    if depth <= 0 or ref_depth <= 0:
        raise ValueError(f"SRAM depths must be > 0, got {depth} and {ref_depth}")
    return (depth / ref_depth) ** exponent


def sram_width_factor(bits: float, ref_bits: float, fixed_fraction: float) -> float:
    """Access-energy factor of a `bits`-wide SRAM port against a `ref_bits`-wide one, same depth.

    CACTI rule: energy ∝ (1 - f)·w/w0 + f with f = 0.3 [repo: hwcomponents-cacti] [ACCELERGY19].
    """
    if bits <= 0 or ref_bits <= 0:
        raise ValueError(f"SRAM port widths must be > 0, got {bits} and {ref_bits}")
    return (1.0 - fixed_fraction) * bits / ref_bits + fixed_fraction


def sram_access_factor(
    size_kib: float,
    port_bits: int,
    ref_size_kib: float,
    ref_port_bits: int,
    depth_exponent: float,
    width_fixed_fraction: float,
) -> float:
    """Energy of one full-port access of an SRAM (`size_kib`, `port_bits`) relative to the reference SRAM.

    Depth is capacity over port width; both the depth and the width rule apply.
    """
    if size_kib <= 0:
        raise ValueError(f"SRAM size must be > 0 KiB, got {size_kib}")
    depth = size_kib * 8192 / port_bits
    if depth < 1:
        raise ValueError(f"an SRAM of {size_kib} KiB holds less than one {port_bits}-bit word")
    ref_depth = ref_size_kib * 8192 / ref_port_bits
    return sram_depth_factor(depth, ref_depth, depth_exponent) * sram_width_factor(
        port_bits, ref_port_bits, width_fixed_fraction
    )
