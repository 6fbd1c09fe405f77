"""Fleet sizing and rack density. Pure, vectorized (scalars or Series)."""

from __future__ import annotations

import numpy as np

from inferchip.units import SECONDS_PER_DAY

# The scenario keys the replica count reads besides a replica's capacity (replicas_needed of
# peak_queries_per_s): the traffic. A candidate's operating point never reads them, so
# compare shares candidates across them and costgrid groups the sizer's inputs by them.
DEMAND_KEYS = ("queries_per_day", "peak_to_average", "utilisation_target")


def peak_queries_per_s(queries_per_day, peak_to_average):
    """Peak load [queries/s] = queries per day / 86,400 x peak-to-average."""
    return queries_per_day / SECONDS_PER_DAY * peak_to_average


def replicas_needed(peak_qps, qps_per_replica, utilisation_target):
    """Model copies [count] = ceil(peak / (per-replica capacity x utilisation target)), at least 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.ceil(peak_qps / (qps_per_replica * utilisation_target))
    return np.maximum(r, 1.0)


def servers_needed(accelerators, devices_per_server):
    """Servers [count] = ceil(accelerators / devices per server)."""
    return np.ceil(accelerators / devices_per_server)


def servers_per_rack(server_power_kw, server_rack_units, rack_power_budget_kw, rack_units_usable):
    """Servers in one rack [count] = min(floor(budget kW / server kW), floor(usable U / server U)),
    at least 1 (a server larger than the budget takes a rack of its own); an unknown
    dimension does not limit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        by_power = np.floor(rack_power_budget_kw / server_power_kw)
        by_space = np.floor(rack_units_usable / server_rack_units)
    by_power = np.where(np.isnan(by_power), np.inf, by_power)
    by_space = np.where(np.isnan(by_space), np.inf, by_space)
    n = np.minimum(by_power, by_space)
    n = np.where(np.isinf(n), np.nan, n)
    return np.maximum(n, 1.0)


def racks_needed(servers, servers_in_rack):
    """Racks [count] = ceil(servers / servers per rack)."""
    return np.ceil(servers / servers_in_rack)
