"""Sweeps: a spec -> validated points with stable ids -> Dask workers -> a result store that resumes.

`accelsim.sweep.executor` (which imports Dask) is not imported here; use it to run points.
"""

from accelsim.config.sweep_spec import SweepSpec, load_sweep
from accelsim.sweep.points import SweepPoint, expand, point_id
from accelsim.sweep.store import combine, finished

__all__ = ["SweepPoint", "SweepSpec", "combine", "expand", "finished", "load_sweep", "point_id"]
