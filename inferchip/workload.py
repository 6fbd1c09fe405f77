"""Read and validate a workload profile (TOML) into a frozen dataclass.

Validation collects every problem, each naming the file and the key."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from inferchip.data_files import DEFAULT_WORKLOAD, bundled_workloads
from inferchip.errors import InputError, NotFoundError, UsageError, did_you_mean, short_repr, shown
from inferchip.fleet import peak_queries_per_s
from inferchip.models import get_preset
from inferchip.tomlfile import read_toml
from inferchip.units import BYTES_PER_PRECISION, PRECISIONS, SECONDS_PER_DAY

SCHEMA_VERSION = 1
# Plausible magnitudes of a workload number: outside them a typo is likelier
# than a real service, and the cost arithmetic could overflow to inf.
MAX_MAGNITUDE = 1e15
MIN_MAGNITUDE = 1e-6
WHOLE_KEYS = ("layers", "kv_heads", "head_dim", "hidden", "kv_elems_per_token_per_layer", "experts",
              "experts_per_token", "attention_heads", "sliding_window_tokens", "sliding_window_layers")
# Optional architecture keys of [model] (MoE, attention kind, sliding-window layers).
ARCHITECTURE_MODEL_KEYS = ("experts", "experts_per_token", "attention", "attention_heads", "sliding_window_tokens",
                           "sliding_window_layers")

_TOP_KEYS = ("schema_version", "name", "kind", "description", "model", "traffic", "slo", "economics",
             "facility", "horizon")  # facility, horizon: read by `plan` (inferchip.plan_inputs)
_LLM_MODEL_KEYS = ("preset", "params_b", "active_params_b", "layers", "kv_heads", "head_dim",
                   "hidden", "kv_elems_per_token_per_layer", "precision", "kv_precision", *ARCHITECTURE_MODEL_KEYS)
_FIXED_MODEL_KEYS = ("preset", "gflops_per_query", "weights_mb", "activation_mb_per_query", "precision")
_TRAFFIC_KEYS = ("queries_per_day", "peak_queries_per_s", "peak_to_average", "input_tokens", "output_tokens",
                 "output_tokens_cv", "output_tokens_min")
_LLM_SLO_KEYS = ("ttft_ms", "tpot_ms")
_FIXED_SLO_KEYS = ("latency_ms",)

# Short names accepted by --set / --vary for workload keys.
WORKLOAD_KEY_SECTIONS: dict[str, str] = {
    **{k: "model" for k in _LLM_MODEL_KEYS + _FIXED_MODEL_KEYS if k not in ("preset", "attention")},
    **{k: "traffic" for k in _TRAFFIC_KEYS},
    **{k: "slo" for k in _LLM_SLO_KEYS + _FIXED_SLO_KEYS},
}


@dataclass(frozen=True)
class Workload:
    """A validated workload. Numbers in the units of their names."""

    name: str
    kind: str  # "llm" | "fixed"
    origin: str
    description: str = ""
    preset: str | None = None
    precision: str = "fp16"
    # llm
    params_b: float = 0.0
    active_params_b: float = 0.0
    layers: float = 0.0
    kv_elems_per_token_per_layer: float = 0.0
    hidden: float = 0.0
    kv_precision: str = "fp16"
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    ttft_ms: float = math.inf
    tpot_ms: float = math.inf
    # llm architecture (0 = absent: dense, standard attention, every layer global)
    experts: float = 0.0
    experts_per_token: float = 0.0
    mla: float = 0.0  # 1 = multi-head latent attention (model.attention = "mla")
    attention_heads: float = 0.0
    sliding_window_tokens: float = 0.0
    sliding_window_layers: float = 0.0
    output_tokens_cv: float = 0.0  # coefficient of variation of output tokens per query
    output_tokens_min: float = 0.0  # shortest output of any query [tokens]; 0 = not known
    # fixed
    gflops_per_query: float = 0.0
    weights_mb: float = 0.0
    activation_mb_per_query: float = 0.0
    latency_ms: float = math.inf
    # traffic
    queries_per_day: float = 0.0
    peak_to_average: float = 1.0
    economics: dict = field(default_factory=dict)
    facility: dict = field(default_factory=dict)  # [facility] as given; checked by inferchip.plan_inputs
    horizon: dict = field(default_factory=dict)  # [horizon] as given; checked by inferchip.plan_inputs

    @property
    def peak_queries_per_s(self) -> float:
        return float(peak_queries_per_s(self.queries_per_day, self.peak_to_average))

    def as_dict(self) -> dict[str, object]:
        """The workload as JSON-ready data (inf becomes None)."""
        common = {"name": self.name, "kind": self.kind, "preset": self.preset,
                  "precision": self.precision, "queries_per_day": self.queries_per_day,
                  "peak_to_average": self.peak_to_average,
                  "peak_queries_per_s": self.peak_queries_per_s}
        if self.kind == "llm":
            extra = {"params_b": self.params_b, "active_params_b": self.active_params_b,
                     "layers": self.layers, "kv_elems_per_token_per_layer": self.kv_elems_per_token_per_layer,
                     "hidden": self.hidden, "kv_precision": self.kv_precision,
                     "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                     "ttft_ms": self.ttft_ms, "tpot_ms": self.tpot_ms, "output_tokens_cv": self.output_tokens_cv,
                     "output_tokens_min": self.output_tokens_min,
                     "experts": self.experts, "experts_per_token": self.experts_per_token,
                     "attention": "mla" if self.mla else "gqa", "attention_heads": self.attention_heads,
                     "sliding_window_tokens": self.sliding_window_tokens,
                     "sliding_window_layers": self.sliding_window_layers}
        else:
            extra = {"gflops_per_query": self.gflops_per_query, "weights_mb": self.weights_mb,
                     "activation_mb_per_query": self.activation_mb_per_query,
                     "latency_ms": self.latency_ms}
        out = {**common, **extra}
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


class _Problems:
    """Problems as `file: key: message` lines; keys set by --set are named as such."""

    def __init__(self, origin: str, set_keys: dict[str, str] | None = None) -> None:
        self.origin = origin
        self.set_keys = set_keys or {}
        self.items: list[str] = []
        self.suggested: set[str] = set()  # keys a did-you-mean already pointed at

    def missing(self, key: str, message: str) -> None:
        """Report a missing key, unless a misspelt key was already matched to it."""
        if key not in self.suggested:
            self.add(key, message)

    def add(self, key: str, message: str) -> None:
        if key in self.set_keys:
            self.items.append(f"--set {self.set_keys[key]}: {message}")
        else:
            self.items.append(f"{self.origin}: {key}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError("\n".join(self.items))


def _unknown_keys(section: dict, allowed: tuple[str, ...], prefix: str, problems: _Problems) -> None:
    for key in section:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            if hint:
                problems.suggested.add(prefix + hint.split("'")[1])
            problems.add(f"{prefix}{shown(key)}", f"unknown key.{hint} Allowed: {', '.join(allowed)}")


def _number(section: dict, key: str, prefix: str, problems: _Problems, *, positive: bool = True,
            minimum: float | None = None) -> float | None:
    """The value of `key` as a float, or None (absent, or a problem was recorded)."""
    if key not in section:
        return None
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(prefix + key, f"must be a number (got {short_repr(value)}){_number_hint(value)}")
        return None
    number = _as_float(value)
    if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
        problems.add(prefix + key, f"must be a finite number below 1e15 (got {short_repr(value)})")
        return None
    if minimum is not None and number < minimum:
        problems.add(prefix + key, f"must be >= {minimum:g} (got {short_repr(value)})")
        return None
    if positive and number <= 0:
        problems.add(prefix + key, f"must be > 0 (got {short_repr(value)})")
        return None
    if 0 < abs(number) < MIN_MAGNITUDE:
        problems.add(prefix + key, f"{short_repr(value)} is implausibly small (below 1e-6); check the unit in the key name")
        return None
    if key in WHOLE_KEYS and not number.is_integer():
        problems.add(prefix + key, f"must be a whole number (got {short_repr(value)})")
        return None
    return number


def _as_float(value: int | float) -> float:
    """float(value), with integers too large for a float (TOML allows 10**400) as inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _number_hint(value: object) -> str:
    """A fix for the usual ways a number arrives as text or a table."""
    if isinstance(value, str):
        try:
            float(value.replace("_", ""))
        except ValueError:
            return ("; write a plain number: a dot for decimals, no units or thousands separators"
                    if any(ch.isdigit() for ch in value) else "")
        return f"; write it without quotes: {value.strip()}"
    if isinstance(value, bool):
        return "; write a number, not true/false"
    return ""


def _precision(section: dict, key: str, default: str, problems: _Problems) -> str:
    value = section.get(key, default)
    if value not in PRECISIONS:
        problems.add(f"model.{key}", f"must be one of {', '.join(PRECISIONS)} (got {short_repr(value)})")
        return default
    return value


def _table(raw: dict, key: str, problems: _Problems, required: bool) -> dict | None:
    """The section `[key]` as a dict; None (and a problem) when it is missing or not a table."""
    value = raw.get(key)
    if value is None:
        if required:
            if key not in problems.suggested:
                problems.add(f"[{key}]", f"missing section; add a [{key}] table"
                             " (`inferchip workloads init` writes a commented template)")
            return None
        return {}
    if not isinstance(value, dict):
        problems.add(key, f"must be a table (got {short_repr(value)}); write [{key}] on its own line"
                     " with its keys below it")
        return None
    return value


def apply_overrides(raw: dict, overrides: dict[str, object]) -> dict:
    """A copy of the raw profile with workload keys (short or dotted) replaced."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for key, value in overrides.items():
        section, _, short = key.rpartition(".")
        section = section or WORKLOAD_KEY_SECTIONS[short]
        if section == "traffic" and short in ("queries_per_day", "peak_queries_per_s"):
            out.setdefault("traffic", {}).pop("queries_per_day", None)
            out["traffic"].pop("peak_queries_per_s", None)
        out.setdefault(section, {})[short] = value
    return out


def is_workload_key(key: str) -> bool:
    section, _, short = key.rpartition(".")
    return short in WORKLOAD_KEY_SECTIONS and (not section or WORKLOAD_KEY_SECTIONS[short] == section
                                               or section in ("model", "traffic", "slo"))


def from_dict(raw: dict, origin: str, set_keys: dict[str, str] | None = None) -> Workload:
    """Validate a parsed profile. Raises InputError listing every problem.
    `set_keys` maps "section.key" to the key as given to --set, for messages."""
    problems = _Problems(origin, set_keys)
    _unknown_keys(raw, _TOP_KEYS, "", problems)
    version = raw.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        problems.add("schema_version", f"must be {SCHEMA_VERSION} (got {short_repr(version)}); this inferchip reads"
                     f" schema_version = {SCHEMA_VERSION} profiles")
    name = raw.get("name", Path(origin).stem)
    if not isinstance(name, str) or not name.strip():
        problems.add("name", f"must be a non-empty string in quotes (got {short_repr(name)})")
        name = Path(origin).stem
    elif any(ch in name for ch in "\r\n\t"):
        problems.add("name", "must be a single line of text")
    kind = raw.get("kind", "llm")
    if kind not in ("llm", "fixed"):
        problems.add("kind", f"must be 'llm' or 'fixed' (got {short_repr(kind)})")
        problems.raise_if_any()
    model_given = _table(raw, "model", problems, required=True)
    traffic_given = _table(raw, "traffic", problems, required=True)
    # A missing or malformed section is one problem, not one per key it lacks.
    model_ok, traffic_ok = model_given is not None, traffic_given is not None
    model, traffic = model_given or {}, traffic_given or {}
    slo = _table(raw, "slo", problems, required=False) or {}
    economics = _table(raw, "economics", problems, required=False) or {}
    facility = _table(raw, "facility", problems, required=False) or {}
    horizon = _table(raw, "horizon", problems, required=False) or {}
    description = raw.get("description", "")

    preset_name = model.get("preset")
    preset: dict[str, object] = {}
    if preset_name is not None:
        if not isinstance(preset_name, str) or not preset_name.isprintable():
            problems.add("model.preset", f"must be a preset name in quotes (got {short_repr(preset_name)})")
            model_ok = False  # the keys a preset would fill are not missing: the preset is
        else:
            preset = get_preset(preset_name, f"{origin}: model.preset")
            if preset.get("kind") != kind:
                problems.add("model.preset", f"'{preset_name}' is a {preset.get('kind')} model but kind = {short_repr(kind)};"
                             " change one of them")
                preset, model_ok = {}, False

    def model_number(key: str, **kw) -> float | None:
        value = _number(model, key, "model.", problems, **kw)
        if value is None and key not in model and preset.get(key) is not None:
            value = float(preset[key])  # type: ignore[arg-type]
        return value

    default_precision = str(preset.get("default_precision") or ("int8" if kind == "fixed" else "fp16"))
    precision = _precision(model, "precision", default_precision, problems)

    _unknown_keys(traffic, _TRAFFIC_KEYS if kind == "llm" else
                  tuple(k for k in _TRAFFIC_KEYS if "tokens" not in k), "traffic.", problems)
    peak_to_average = _number(traffic, "peak_to_average", "traffic.", problems, minimum=1.0)
    peak_to_average = 1.0 if peak_to_average is None else peak_to_average
    qpd = _number(traffic, "queries_per_day", "traffic.", problems)
    peak_qps = _number(traffic, "peak_queries_per_s", "traffic.", problems)
    if "queries_per_day" in traffic and "peak_queries_per_s" in traffic:
        problems.add("traffic", "give queries_per_day or peak_queries_per_s, not both; delete one")
    elif "queries_per_day" not in traffic and "peak_queries_per_s" not in traffic and traffic_ok:
        problems.missing("traffic.queries_per_day", "missing; add it (or peak_queries_per_s)")
    if qpd is None and peak_qps is not None:
        qpd = peak_qps * SECONDS_PER_DAY / peak_to_average

    fields: dict[str, object] = {}
    if kind == "llm":
        _unknown_keys(model, _LLM_MODEL_KEYS, "model.", problems)
        _unknown_keys(slo, _LLM_SLO_KEYS, "slo.", problems)
        params_b = model_number("params_b")
        active = model_number("active_params_b")
        layers = model_number("layers")
        kv_heads = model_number("kv_heads")
        head_dim = model_number("head_dim")
        hidden = model_number("hidden")
        kv_elems = model_number("kv_elems_per_token_per_layer")
        if kv_elems is None or ("kv_heads" in model or "head_dim" in model):
            if kv_heads is not None and head_dim is not None:
                kv_elems = 2.0 * kv_heads * head_dim
        for key, value in (("params_b", params_b), ("layers", layers)):
            if value is None and key not in model and model_ok:
                problems.missing(f"model.{key}", "missing; add it (or set model.preset)")
        if (kv_elems is None and model_ok
                and not any(k in model for k in ("kv_heads", "head_dim", "kv_elems_per_token_per_layer"))):
            problems.missing("model.kv_heads", "missing: give kv_heads and head_dim (or kv_elems_per_token_per_layer, or a preset)")
        if params_b is not None and active is not None and active > params_b:
            problems.add("model.active_params_b", f"must not exceed params_b ({active:g} > {params_b:g})")
        input_tokens = _number(traffic, "input_tokens", "traffic.", problems)
        output_tokens = _number(traffic, "output_tokens", "traffic.", problems)
        for key, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if value is None and key not in traffic and traffic_ok:
                problems.missing(f"traffic.{key}", "missing: add the mean tokens per query")
        # the shortest output of any query, where known (e.g. generation of a fixed length)
        output_min = _number(traffic, "output_tokens_min", "traffic.", problems)
        if output_min is not None and output_tokens is not None and output_min > output_tokens:
            problems.add("traffic.output_tokens_min", f"must not exceed output_tokens, the mean ({output_min:g} > "
                         f"{output_tokens:g}); leave it out when the shortest output is not known")
        ttft = _number(slo, "ttft_ms", "slo.", problems)
        tpot = _number(slo, "tpot_ms", "slo.", problems)
        arch = _architecture(model, preset, traffic, layers, problems, model_number)
        fields = dict(**arch,
            params_b=params_b or 0.0, active_params_b=active if active is not None else (params_b or 0.0),
            layers=layers or 0.0, kv_elems_per_token_per_layer=kv_elems or 0.0, hidden=hidden or 0.0,
            kv_precision=_precision(model, "kv_precision", "fp16", problems),
            input_tokens=input_tokens or 0.0, output_tokens=output_tokens or 0.0, output_tokens_min=output_min or 0.0,
            ttft_ms=ttft if ttft is not None else math.inf, tpot_ms=tpot if tpot is not None else math.inf,
        )
    else:
        _unknown_keys(model, _FIXED_MODEL_KEYS, "model.", problems)
        _unknown_keys(slo, _FIXED_SLO_KEYS, "slo.", problems)
        gflops = model_number("gflops_per_query")
        weights_mb = _number(model, "weights_mb", "model.", problems)
        if weights_mb is None and "weights_mb" not in model and preset.get("weights_mparams") is not None:
            weights_mb = float(preset["weights_mparams"]) * BYTES_PER_PRECISION[precision]  # type: ignore[arg-type]
        activation = model_number("activation_mb_per_query", positive=False, minimum=0.0)
        for key, value in (("gflops_per_query", gflops), ("weights_mb", weights_mb)):
            if value is None and key not in model and model_ok:
                problems.missing(f"model.{key}", "missing; add it (or set model.preset)")
        latency = _number(slo, "latency_ms", "slo.", problems)
        fields = dict(gflops_per_query=gflops or 0.0, weights_mb=weights_mb or 0.0,
                      activation_mb_per_query=activation or 0.0,
                      latency_ms=latency if latency is not None else math.inf)
    problems.raise_if_any()
    return Workload(name=str(name), kind=kind, origin=origin, description=str(description),
                    preset=str(preset.get("name")) if preset else None, precision=precision,
                    queries_per_day=float(qpd or 0.0), peak_to_average=peak_to_average,
                    economics=dict(economics), facility=dict(facility), horizon=dict(horizon),
                    **fields)  # type: ignore[arg-type]


def _architecture(model: dict, preset: dict, traffic: dict, layers: float | None, problems: _Problems,
                  model_number) -> dict[str, float]:
    """The optional architecture keys (validated; preset values where the profile is silent)
    and traffic.output_tokens_cv (preset: the dataset's spread)."""
    nonneg = {"positive": False, "minimum": 0.0}
    out = {k: model_number(k, **nonneg) or 0.0 for k in ARCHITECTURE_MODEL_KEYS if k != "attention"}
    attention = model.get("attention", preset.get("attention") or "gqa")
    if attention not in ("gqa", "mla"):
        problems.add("model.attention", f"must be 'gqa' (standard/grouped-query) or 'mla' (latent) (got {short_repr(attention)})")
    out["mla"] = 1.0 if attention == "mla" else 0.0
    if out["mla"] and not out["attention_heads"]:
        problems.add("model.attention_heads", "missing: MLA attention needs the number of query heads")
    if out["experts"] and not 0 < out["experts_per_token"] <= out["experts"]:
        problems.add("model.experts_per_token", f"must be between 1 and experts ({out['experts']:g}) for a MoE model")
    if out["experts_per_token"] and not out["experts"]:
        problems.add("model.experts", "missing: experts_per_token needs the number of routed experts")
    if out["sliding_window_layers"] and not out["sliding_window_tokens"]:
        problems.add("model.sliding_window_tokens", "missing: sliding_window_layers needs the window length in tokens")
    if layers is not None and out["sliding_window_layers"] > layers:
        problems.add("model.sliding_window_layers", f"must not exceed layers ({out['sliding_window_layers']:g} > {layers:g})")
    cv = _number(traffic, "output_tokens_cv", "traffic.", problems, **nonneg)
    out["output_tokens_cv"] = cv if cv is not None else float(preset.get("dataset_output_tokens_cv") or 0.0)
    return out


def resolve_path(name_or_path: str | None) -> Path:
    """A workload argument: a file path, or the name of a bundled profile; None = the default."""
    bundled = bundled_workloads()
    if name_or_path is None:
        return bundled[DEFAULT_WORKLOAD]
    path = Path(name_or_path)
    if path.exists():
        return path
    if name_or_path in bundled:
        return bundled[name_or_path]
    raise NotFoundError(f"{name_or_path}: no such file or bundled workload.{did_you_mean(name_or_path, list(bundled))}"
                        f" Bundled: {', '.join(bundled)}")


def load(name_or_path: str | None = None, overrides: dict[str, object] | None = None) -> Workload:
    """Read, override (--set workload keys) and validate a profile."""
    path = resolve_path(name_or_path)
    raw = read_toml(path)
    set_keys: dict[str, str] = {}
    if overrides:
        unknown = [k for k in overrides if not is_workload_key(k)]
        if unknown:
            raise UsageError(f"--set {unknown[0]}: not a workload key")
        rates = [k for k in overrides if k.rpartition(".")[2] in ("queries_per_day", "peak_queries_per_s")]
        if len(rates) > 1:
            raise UsageError(f"--set {rates[0]} and --set {rates[1]}: give queries_per_day or peak_queries_per_s, "
                             "not both (as in a profile's [traffic]); drop one")
        raw = apply_overrides(raw, overrides)
        for key in overrides:
            section, _, short = key.rpartition(".")
            set_keys[f"{section or WORKLOAD_KEY_SECTIONS[short]}.{short}"] = key
    return from_dict(raw, str(path), set_keys)
