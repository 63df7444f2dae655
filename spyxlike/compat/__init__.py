"""The seed systems' own spellings, as thin adapters over spyxlike's core API.

``spyxlike.compat.slayer``: SLAYER PyTorch (``import spyxlike.compat.slayer as snn``);
``spyxlike.compat.evspikesim``: EvSpikeSim (``import spyxlike.compat.evspikesim as sim``).
The core stays snake_case; these modules only rename and adapt arguments.
"""
