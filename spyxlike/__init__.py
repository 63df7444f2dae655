"""spyxlike: one functional JAX/Haiku library for spiking neural networks."""

__version__ = "0.1.0"
