"""Pallas kernels of the hot operations (GPU; tested on the CPU with ``interpret=True``)."""
