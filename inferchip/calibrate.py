"""Fit the performance model's efficiency factors to the measured benchmark rows.

What is fitted (a numpy grid search: deterministic, no per-row parameters):

- per chip family with >= MIN_ROWS_TWO_FACTORS fitted rows: compute_efficiency and
  memory_efficiency (achieved fractions of dense peak FLOPS and of peak memory bandwidth
  when streaming weights);
- per family with MIN_ROWS_ONE_FACTOR .. MIN_ROWS_TWO_FACTORS - 1 rows: compute_efficiency
  only, memory_efficiency from its kind;
- per chip kind (gpu, asic, npu, ...): both, over every fitted row of that kind; a kind
  with fewer rows takes the fit over all rows;
- shared by all chips: attention_efficiency (achieved fraction of peak bandwidth when
  decode attention reads the KV cache), link_efficiency and host_link_efficiency
  (achieved fractions of scale-up link and of PCIe bandwidth in tensor-parallel
  all-reduces), step_overhead_ms (fixed
  time per forward step), and tail_spread (the p99 tail of the time per output token,
  perf.prefill_tail_ms), tried in a second stage beside the best first-stage combination
  because it acts on the latency-bound (Server, Interactive) rows only. The flat Server
  throughput factor is retired (1.0): bounded rows are predicted from their bounds.

Loss: sum over fitted rows of ln(predicted / measured)^2 (least squares in log space:
each group's geometric-mean ratio goes to 1 and a lone outlier cannot pull one row of
a small family to a 2x error), plus a small pull towards typical values (PRIOR_*) that
only breaks ties between grid points the data cannot tell apart. Rows measured on
power-capped systems (MLPerf "MaxQ") are validated but not fitted: the catalog's TDP is
not their operating point.

Leave-one-out: for every fitted row the whole selection (shared factors among the first
stage and the tail candidates, families and kinds, including a family falling back to its kind when it loses a row) is
redone without that row, and the row is predicted from the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from inferchip.catalog import KINDS

# Sustained share of dense peak compute. The grid stops at 0.8: no chip sustains more of its
# peak over a whole serving step (GEMMs, attention, norms, sampling). An assumption, not a
# spec. Evidence: uncapped, the MLPerf v4.x fit put NVIDIA Ada at 1.0, compensating for its
# GPT-J rows, and over-predicted the v5.1 L40S llama-3.1-8b rows 1.6-2.1x (time split).
COMPUTE_GRID = np.round(np.geomspace(0.05, 1.0, 41), 4)
COMPUTE_GRID = COMPUTE_GRID[COMPUTE_GRID <= 0.8]
# Streaming reads reach at most ~90 % of peak HBM bandwidth (refresh, page and bank
# overheads): the grid stops at 0.906 rather than letting a fit claim the full peak. It starts
# at 0.609: tuned decode kernels stream well over 60 % of peak (an assumption). Evidence: from
# 0.5, the MLPerf v4.x fit put Hopper at 0.5 (it trades memory for compute efficiency almost
# freely on its rows) and predicted the v5.1 H200 Llama-3.1-405B Interactive row 0.19x.
MEMORY_GRID = np.round(np.geomspace(0.5, 1.0, 8)[:-1], 4)
MEMORY_GRID = MEMORY_GRID[MEMORY_GRID >= 0.6]
# Shared factors: wider grids (links 0.15-0.95, overhead 0.5-4 ms) put the optimum inside
# these, each with a point on either side, except the scale-up link: its fit sits at the
# 0.95 cap (an efficiency stays below 1; NVSwitch in-network reduction moves less data than
# the ring formula assumes, which reads as ~1 here). Attention stops at 0.35, an assumption:
# with the affine step (2026-12) a grid to 0.9 lets the GPT-J rows (four beams reading an
# 870-token prompt's cache each) pull it to 0.9: in-sample 11.2 -> 10.9 % median, but the
# time split 12.5 -> 13.8 %, worst 1.75x -> 2.39x (L40S Llama-3.1-8B Server).
ATTENTION_GRID = (0.25, 0.3, 0.35)
LINK_EFFICIENCY_GRID = (0.65, 0.8, 0.95)
HOST_LINK_EFFICIENCY_GRID = (0.15, 0.2, 0.25, 0.35)
STEP_OVERHEAD_GRID_MS = (1.5, 2.0, 3.0)
# Fixed-work networks (ResNet, BERT) are fitted apart from LLM decoding (WORKLOAD_CLASSES):
# their batches are one kernel sequence with no KV cache, collectives or p99 tail, so
# only their own step overhead is shared across chips; a launch-bound CNN/encoder batch
# costs well under the millisecond an LLM step's scheduler adds.
FIXED_STEP_OVERHEAD_GRID_MS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
WORKLOAD_CLASSES = ("llm", "fixed")
# The flat Server throughput factor is retired: Server and Interactive rows are predicted
# from their p99 bounds (perf.prefill_tail_ms). Kept as a one-point grid of 1.0.
SERVER_FACTOR_GRID = np.array([1.0])
# p99 tail spread h (perf.prefill_tail_ms), fitted on the Server rows; 0 = no tail. With the
# chunked-prefill cap (2026-12) a grid to 1,280 moves the fit on every MLPerf row to 640 and
# the v4.x-only fit to the top, 1,280: time split 12.5 -> 12.2 % median, within 25 %
# 92.5 -> 92 %, in-sample within 25 % 87.5 -> 85 %. A fit at the grid's edge is not trusted,
# so the grid stays at 320.
TAIL_SPREAD_GRID = (0.0, 20.0, 40.0, 80.0, 160.0, 320.0)
# Not identifiable from throughput at MLPerf batch sizes (hundreds of sequences share
# it), so it stays an assumption: ~10 us per all-reduce launch, the order of NCCL's
# small-message latency on NVLink.
COMM_LATENCY_MS_PER_LAYER = 0.01
MIN_ROWS_TWO_FACTORS = 4
MIN_ROWS_ONE_FACTOR = 2
PRIOR_COMPUTE_EFFICIENCY, PRIOR_MEMORY_EFFICIENCY, PRIOR_WEIGHT = 0.5, 0.8, 0.01
SERVER_SCENARIOS = ("Server", "Interactive")
MISSING_LOG_RATIO = 3.0  # charged when a trial cannot predict a row at all (~20x)


def power_capped(frame: pd.DataFrame) -> np.ndarray:
    """Rows measured on a power-capped (MLPerf MaxQ) configuration."""
    return frame["system"].astype(str).str.contains("maxq", case=False).to_numpy()


@dataclass(frozen=True)
class Trials:
    """The grid of per-group (compute, memory) efficiency pairs, trial-major."""

    compute: np.ndarray
    memory: np.ndarray

    @classmethod
    def grid(cls) -> Trials:
        c, m = np.meshgrid(COMPUTE_GRID, MEMORY_GRID, indexing="ij")
        return cls(c.ravel(), m.ravel())

    @property
    def prior(self) -> np.ndarray:
        return PRIOR_WEIGHT * (np.log(self.compute / PRIOR_COMPUTE_EFFICIENCY) ** 2
                               + np.log(self.memory / PRIOR_MEMORY_EFFICIENCY) ** 2)


@dataclass(frozen=True)
class Shared:
    """One combination of the factors every chip shares."""

    attention_efficiency: float
    link_efficiency: float
    host_link_efficiency: float
    step_overhead_ms: float
    tail_spread: float = 0.0


def shared_grid() -> list[Shared]:
    """The first-stage grid (no tail); `run` adds the TAIL_SPREAD_GRID beside the best of it."""
    return [Shared(a, k, h, s) for s in STEP_OVERHEAD_GRID_MS for k in LINK_EFFICIENCY_GRID
            for h in HOST_LINK_EFFICIENCY_GRID for a in ATTENTION_GRID]


def log_ratio_matrix(frame: pd.DataFrame, assumptions: dict[str, object], trials: Trials,
                     shared: list[Shared]) -> np.ndarray:
    """ln(predicted / measured) for every (shared combination, trial, row): [G, P, R],
    NaN where the model predicts nothing."""
    from inferchip.validate import predict

    n_trials, n_rows = len(trials.compute), len(frame)
    big = pd.concat([frame] * n_trials, ignore_index=True)
    big["compute_efficiency"] = np.repeat(trials.compute, n_rows)
    big["memory_efficiency"] = np.repeat(trials.memory, n_rows)
    big["comm_overhead_ms_per_layer"] = COMM_LATENCY_MS_PER_LAYER
    measured = frame["throughput_per_accelerator"].to_numpy(float)
    bounded = np.tile(frame["scenario"].isin(SERVER_SCENARIOS).to_numpy(), n_trials)
    out, untailed = [], {}
    for combo in shared:
        base = (combo.attention_efficiency, combo.link_efficiency, combo.host_link_efficiency, combo.step_overhead_ms)
        big["attention_efficiency"] = combo.attention_efficiency
        big["link_efficiency"] = combo.link_efficiency
        big["host_link_efficiency"] = combo.host_link_efficiency
        big["step_overhead_ms"] = combo.step_overhead_ms
        if combo.tail_spread == 0.0 or base not in untailed:
            big["tail_spread"] = 0.0
            untailed[base] = predict(big, assumptions)["predicted_per_accelerator"].to_numpy(float)
        predicted = untailed[base]
        if combo.tail_spread > 0.0:  # the tail acts on bounded (Server, Interactive) rows only
            part = big[bounded].reset_index(drop=True).assign(tail_spread=combo.tail_spread)
            predicted = predicted.copy()
            predicted[bounded] = predict(part, assumptions)["predicted_per_accelerator"].to_numpy(float)
        out.append(np.log(predicted.reshape(n_trials, n_rows) / measured[None, :]))
    return np.stack(out)


@dataclass(frozen=True)
class Groups:
    """Row membership: family and kind indices, and each family's kind."""

    family: np.ndarray  # [R] index into family_names
    kind: np.ndarray  # [R] index into kind_names
    family_names: list[str]
    kind_names: list[str]
    family_kind: np.ndarray  # [F] kind index of each family

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Groups:
        fam = frame["family"].fillna("").astype(str).str.lower().to_numpy()
        kind = frame["chip_kind"].fillna("").astype(str).str.lower().to_numpy()
        family_names, family_idx = np.unique(fam, return_inverse=True)
        kind_names, kind_idx = np.unique(kind, return_inverse=True)
        family_kind = np.array([kind_idx[np.flatnonzero(family_idx == f)[0]] for f in range(len(family_names))])
        return cls(family_idx, kind_idx, list(family_names), list(kind_names), family_kind)


@dataclass
class GroupFit:
    """The trial each group chose (-1: no own fit) and the trial of every row."""

    family: np.ndarray  # [F]
    kind: np.ndarray  # [K]
    all_rows: int
    row_trial: np.ndarray  # [R]
    loss: float


def fit_groups(loss: np.ndarray, fit: np.ndarray, groups: Groups, trials: Trials) -> GroupFit:
    """Choose a trial per family / kind / all for the rows in `fit`, given the loss of
    every (trial, row) [P, R]; every row, fitted or not, takes the trial of its most
    specific group that has a fit. Vectorized over trials and groups."""
    weight = fit.astype(float)
    prior = trials.prior
    fam_onehot = np.eye(len(groups.family_names))[groups.family] * weight[:, None]
    kind_onehot = np.eye(len(groups.kind_names))[groups.kind] * weight[:, None]
    fam_count, kind_count = fam_onehot.sum(axis=0), kind_onehot.sum(axis=0)
    all_trial = int(np.argmin(loss @ weight + prior))
    kind_sums = loss @ kind_onehot + prior[:, None]
    kind_trial = np.where(kind_count >= MIN_ROWS_TWO_FACTORS, np.argmin(kind_sums, axis=0), all_trial)
    fam_sums = loss @ fam_onehot + prior[:, None]
    two = np.argmin(fam_sums, axis=0)
    same_memory = trials.memory[:, None] == trials.memory[kind_trial[groups.family_kind]][None, :]
    one = np.argmin(np.where(same_memory, fam_sums, np.inf), axis=0)
    fam_trial = np.where(fam_count >= MIN_ROWS_TWO_FACTORS, two, np.where(fam_count >= MIN_ROWS_ONE_FACTOR, one, -1))
    row_trial = np.where(fam_trial[groups.family] >= 0, fam_trial[groups.family], kind_trial[groups.kind])
    total = float(loss[row_trial, np.arange(loss.shape[1])] @ weight)
    return GroupFit(fam_trial, kind_trial, all_trial, row_trial, total)


@dataclass
class Selection:
    shared: int  # index into shared_grid()
    server: int  # index into SERVER_FACTOR_GRID
    groups: GroupFit


def _losses(lr: np.ndarray, server_rows: np.ndarray):
    """(shared index, server index, shifted log ratios, loss matrix) for every combination."""
    for g in range(lr.shape[0]):
        for s, factor in enumerate(SERVER_FACTOR_GRID):
            shifted = np.nan_to_num(lr[g] + np.log(factor) * server_rows[None, :], nan=MISSING_LOG_RATIO)
            yield g, s, shifted, shifted ** 2


def select(lr: np.ndarray, fits: list[np.ndarray], server_rows: np.ndarray, groups: Groups,
           trials: Trials) -> list[Selection]:
    """For each fitted-row mask in `fits`: the shared combination, Server factor and group
    trials with the least total loss (ties: the first in grid order)."""
    best: list[Selection | None] = [None] * len(fits)
    for g, s, _, loss in _losses(lr, server_rows):
        for i, fit in enumerate(fits):
            fitted = fit_groups(loss, fit, groups, trials)
            if best[i] is None or fitted.loss < best[i].groups.loss - 1e-12:
                best[i] = Selection(g, s, fitted)
    return [b for b in best if b is not None]


@dataclass
class Calibration:
    """A fit: factor rows for data/calibration.csv and per-row in-sample / LOO errors."""

    factors: pd.DataFrame
    rows: pd.DataFrame
    shared: Shared
    server_factor: float


def run(frame: pd.DataFrame, assumptions: dict[str, object], kinds: list[str] | None = None,
        leave_one_out: bool = True) -> Calibration:
    """Fit the factors to the rows of a validation frame (validate.validation_frame),
    separately per workload class (llm, fixed): each class gets its own family and kind
    efficiencies (factor rows carry `workload`), and its own shared factors (fixed work:
    the step overhead only; the others are copied from the llm fit and unused by it)."""
    classes = frame["kind"].astype(str).to_numpy()
    parts, rows, shared, server = [], [], {}, {}
    for klass in WORKLOAD_CLASSES:
        at = np.flatnonzero(classes == klass)
        if not len(at):
            continue
        sub = frame.iloc[at].reset_index(drop=True)
        grid = shared_grid() if klass == "llm" else _fixed_grid(shared.get("llm"))
        result = _run_class(sub, assumptions, kinds, leave_one_out, grid, klass)
        parts.append(result.factors.assign(workload=klass))
        rows.append(result.rows.set_axis(at))
        shared[klass], server[klass] = result.shared, result.server_factor
    all_rows = pd.concat(rows).sort_index() if rows else frame.iloc[:0]
    factors = pd.concat(parts + [_summary_rows(all_rows)], ignore_index=True)
    first = shared.get("llm") or next(iter(shared.values()), shared_grid()[0])
    return Calibration(factors, all_rows, first, server.get("llm", float(SERVER_FACTOR_GRID[0])))


def _fixed_grid(llm: Shared | None) -> list[Shared]:
    base = llm or shared_grid()[0]
    return [replace(base, step_overhead_ms=s, tail_spread=0.0) for s in FIXED_STEP_OVERHEAD_GRID_MS]


def _run_class(frame: pd.DataFrame, assumptions: dict[str, object], kinds: list[str] | None,
               leave_one_out: bool, combos: list[Shared], klass: str) -> Calibration:
    """One workload class's fit (see run)."""
    trials = Trials.grid()
    lr = log_ratio_matrix(frame, assumptions, trials, combos)
    predictable = np.isfinite(lr).any(axis=(0, 1))
    fit = predictable & ~power_capped(frame)
    server_rows = frame["scenario"].isin(SERVER_SCENARIOS).to_numpy()
    groups = Groups.of(frame)
    # Second stage: the p99 tail spread, tried beside the best untailed shared combination
    # (it acts on the bounded rows only and barely interacts with the other shared factors)
    base = select(lr, [fit], server_rows, groups, trials)[0].shared
    tailed = [replace(combos[base], tail_spread=t) for t in TAIL_SPREAD_GRID if t > 0] if klass == "llm" else []
    combos = combos + tailed
    if tailed:
        lr = np.concatenate([lr, log_ratio_matrix(frame, assumptions, trials, tailed)])
    held_out = list(np.flatnonzero(fit)) if leave_one_out else []
    masks = [fit] + [fit & (np.arange(len(frame)) != r) for r in held_out]
    selections = select(lr, masks, server_rows, groups, trials)
    chosen = selections[0]
    server_factor = float(SERVER_FACTOR_GRID[chosen.server])
    rows_idx = np.arange(len(frame))

    def predicted_log_ratio(sel: Selection, r: np.ndarray) -> np.ndarray:
        return lr[sel.shared, sel.groups.row_trial[r], r] + np.log(SERVER_FACTOR_GRID[sel.server]) * server_rows[r]

    in_sample = predicted_log_ratio(chosen, rows_idx)
    loo = in_sample.copy()
    for r, sel in zip(held_out, selections[1:], strict=True):
        loo[r] = predicted_log_ratio(sel, np.array([r]))[0]
    scope = np.where(chosen.groups.family[groups.family] >= 0,
                     "family " + np.array(groups.family_names, dtype=object)[groups.family],
                     "kind " + np.array(groups.kind_names, dtype=object)[groups.kind])
    rows = frame[["accelerator", "model", "scenario", "kind", "family", "chip_kind"]].assign(
        fitted=fit, predictable=predictable, scope=scope,
        log_ratio=np.where(predictable, in_sample, np.nan), loo_log_ratio=np.where(predictable, loo, np.nan))
    factors = _factor_rows(chosen, groups, trials, rows, combos[chosen.shared], server_factor,
                           kinds or list(KINDS), klass)
    return Calibration(factors, rows, combos[chosen.shared], server_factor)


def _median_abs(logs: np.ndarray) -> float:
    logs = logs[np.isfinite(logs)]
    return float(np.median(np.abs(np.expm1(logs)))) if len(logs) else float("nan")


def _factor_rows(chosen: Selection, groups: Groups, trials: Trials, rows: pd.DataFrame, shared: Shared,
                 server_factor: float, kinds: list[str], klass: str = "llm") -> pd.DataFrame:
    fitted_count = int(rows["fitted"].sum())
    if klass == "llm":
        shared_note = (f"llm rows only; attention_efficiency, link_efficiency, host_link_efficiency, step_overhead_ms "
                       f"and tail_spread shared, fitted over all {fitted_count} fitted llm rows; comm_overhead_ms_per_layer "
                       f"{COMM_LATENCY_MS_PER_LAYER} ms assumed (not identifiable at MLPerf batch sizes)")
    else:
        shared_note = (f"{klass} rows only; step_overhead_ms shared, fitted over all {fitted_count} fitted {klass} "
                       "rows; attention, link and tail factors copied from the llm fit (not used by fixed work)")
    out = []

    def add(scope: str, key: str, trial: int, members: np.ndarray, how: str) -> None:
        part = rows[members & rows["predictable"].to_numpy()]
        out.append({
            "scope": scope, "key": key, "compute_efficiency": float(trials.compute[trial]),
            "memory_efficiency": float(trials.memory[trial]), "attention_efficiency": shared.attention_efficiency,
            "step_overhead_ms": shared.step_overhead_ms, "comm_overhead_ms_per_layer": COMM_LATENCY_MS_PER_LAYER,
            "link_efficiency": shared.link_efficiency, "host_link_efficiency": shared.host_link_efficiency,
            "tail_spread": shared.tail_spread, "fit_rows": int((members & rows["fitted"].to_numpy()).sum()),
            "fit_median_abs_error": _median_abs(part["log_ratio"].to_numpy(float)),
            "loo_median_abs_error": _median_abs(part["loo_log_ratio"].to_numpy(float)),
            "source": f"fitted to data/benchmarks.csv (its MLPerf Inference rows): {how}; {shared_note}",
        })

    fit_kind = rows["chip_kind"].fillna("").str.lower().to_numpy()
    for k in kinds:
        members = fit_kind == k
        index = groups.kind_names.index(k) if k in groups.kind_names else -1
        own = index >= 0 and int((members & rows["fitted"].to_numpy()).sum()) >= MIN_ROWS_TWO_FACTORS
        if own:
            add("kind", k, int(chosen.groups.kind[index]), members, f"both efficiencies over the {k} rows")
        else:
            add("kind", k, chosen.groups.all_rows, members,
                f"fewer than {MIN_ROWS_TWO_FACTORS} fitted {k} rows: the fit over all rows")
    fit_family = rows["family"].fillna("").str.lower().to_numpy()
    for index, name in enumerate(groups.family_names):
        trial = int(chosen.groups.family[index])
        if trial < 0:
            continue
        members = fit_family == name
        count = int((members & rows["fitted"].to_numpy()).sum())
        how = ("both efficiencies over the family's rows" if count >= MIN_ROWS_TWO_FACTORS
               else "compute_efficiency over the family's rows, memory_efficiency from its kind")
        add("family", name, trial, members, how)
    if klass != "llm":
        return pd.DataFrame(out)
    scenario_rows = [{"scope": "scenario", "key": "Offline", "scenario_throughput_factor": 1.0,
                      "source": "definition: the Offline scenario (no latency bound) is the reference"}]
    server_fitted = int((rows["fitted"] & rows["scenario"].isin(SERVER_SCENARIOS)).sum())
    for name in SERVER_SCENARIOS:
        scenario_rows.append({
            "scope": "scenario", "key": name, "scenario_throughput_factor": server_factor, "fit_rows": server_fitted,
            "source": "retired flat factor (1.0): the scenario's TTFT/TPOT bounds are applied at p99 by the model "
                      "itself (mean step time + z99 x sqrt(tail_spread x (batch - 1)) x prefill share), as compare does"})
    return pd.concat([pd.DataFrame(out), pd.DataFrame(scenario_rows)], ignore_index=True)


def _summary_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """scope=fit rows: in-sample and leave-one-out error per class and over all rows."""
    summary = []
    for name in ("llm", "fixed", "all"):
        members = rows["predictable"] & ((rows["kind"] == name) if name != "all" else True)
        part = rows[members]
        summary.append({"scope": "fit", "key": name, "fit_rows": int(part["fitted"].sum()),
                        "fit_median_abs_error": _median_abs(part["log_ratio"].to_numpy(float)),
                        "loo_median_abs_error": _median_abs(part["loo_log_ratio"].to_numpy(float)),
                        "source": f"error statistics over the {len(part)} predictable {name} rows "
                                  "(in-sample and leave-one-out)"})
    return pd.DataFrame(summary)


CSV_COLUMNS = ("scope", "key", "workload", "compute_efficiency", "memory_efficiency", "attention_efficiency", "step_overhead_ms",
               "comm_overhead_ms_per_layer", "link_efficiency", "host_link_efficiency", "tail_spread",
               "scenario_throughput_factor",
               "fit_rows",
               "fit_median_abs_error", "loo_median_abs_error", "source")


def to_csv_text(factors: pd.DataFrame) -> str:
    """data/calibration.csv text: fixed columns, numbers at 4 significant digits, empty
    for not applicable; byte-identical for the same fit."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    columns = {c: (factors[c].tolist() if c in factors else [None] * len(factors)) for c in CSV_COLUMNS}
    for i in range(len(factors)):
        cells = []
        for c in CSV_COLUMNS:
            value = columns[c][i]
            if isinstance(value, float | np.floating):
                cells.append("" if not np.isfinite(value) else
                             (str(int(value)) if c == "fit_rows" else f"{float(value):.4g}"))
            else:
                cells.append("" if value is None else str(value))
        writer.writerow(cells)
    return buffer.getvalue()
