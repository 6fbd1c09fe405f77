"""What one catalog server is: how many accelerators it holds and how much power it draws.

One rule for a blank `devices_per_server`, used by every consumer -- sizing
(`perf.candidate_base`, the dataflow pipeline's server hops), costing and power
(`compare`, `purchase`), `validate`, `explain` and the software facts -- so a row is
never sized as if its chips shared a server and costed as if each were alone.
Pure, vectorized (scalars or arrays).
"""

from __future__ import annotations

import numpy as np

from inferchip.units import W_PER_KW

# A blank devices_per_server: one accelerator per server, the smallest unit the catalog
# can vouch for (a card in its own host). Sizing then rounds a replica to whole chips
# rather than to a power of two inside a server nobody described.
DEFAULT_DEVICES_PER_SERVER = 1.0


def devices_per_server(devices_per_server):
    """Accelerators per server [count] = the catalog's devices_per_server; blank, not a
    number or below 1 -> DEFAULT_DEVICES_PER_SERVER (1)."""
    dps = np.asarray(devices_per_server, dtype=float)
    return np.where(np.isfinite(dps) & (dps >= 1.0), dps, DEFAULT_DEVICES_PER_SERVER)


def is_default(devices_per_server) -> np.ndarray:
    """True where devices_per_server is blank (or invalid) and the default rule applies."""
    dps = np.asarray(devices_per_server, dtype=float)
    return ~(np.isfinite(dps) & (dps >= 1.0))


def server_power_kw(listed_kw, devices, tdp_w, host_power_fraction):
    """Maximum wall power of one server [kW] = the catalog's server_power_kw (`listed_kw`),
    else devices per server [count] x TDP [W] x (1 + host power fraction) / 1,000, the
    blank rule applied to `devices`."""
    listed = np.asarray(listed_kw, dtype=float)
    derived = (devices_per_server(devices) * np.asarray(tdp_w, dtype=float)
               * (1.0 + np.asarray(host_power_fraction, dtype=float)) / W_PER_KW)
    return np.where(np.isfinite(listed), listed, derived)
