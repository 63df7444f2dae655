"""Pallas kernels of the hot operations (selected with ``impl="pallas"``).

Each kernel is tested against the op's pure-JAX reference on the CPU with
``interpret=True``; on a GPU it compiles for real.
"""
