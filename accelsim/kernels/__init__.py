"""numba kernels: exact cycle and action counts of work items; each has a golden reference."""
