"""Policy gates: `--fail-if 'FIELD OP VALUE'` conditions over result rows.

Grammar (parsed by a tiny tokenizer; nothing is ever passed to eval):

    condition := FIELD OP VALUE
    FIELD     := a result field name, e.g. cost_per_query_usd, meets_slo, accelerator
    OP        := ==  !=  <  <=  >  >=
    VALUE     := number (0.002, 2e-3, -5, 1_000) | true | false | "text" | 'text'

Numbers compare with number fields, true/false with true/false fields (== and !=
only), quoted text with text fields (== and != only, exact match). A missing
value (null, e.g. the cost of an infeasible chip) never satisfies a condition.
A gate holds when its condition is true for at least one selected row:
`best` = the first row of the ranking, `all` = every reported row.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import numpy as np

from inferchip.errors import UsageError, did_you_mean, short_repr

OPERATORS = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
GATE_ON = ("best", "all")
EXAMPLE = "e.g. --fail-if 'cost_per_query_usd > 0.002' or --fail-if 'meets_slo == false'"

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<number>[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"]*"|'[^']*')
""", re.VERBOSE)


@dataclass(frozen=True)
class Condition:
    """One parsed condition; `text` is how the user wrote it."""

    field: str
    op: str
    value: float | bool | str
    text: str


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, token, column) triples; kind is op, number, name or string."""
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            hint = " (unterminated quoted text)" if char in "\"'" else ""
            raise UsageError(f"--fail-if {short_repr(text, 60)}: unexpected {char!r} at column {position + 1}{hint}; "
                             f"expected FIELD OP VALUE, {EXAMPLE}")
        if match.lastgroup != "space":
            tokens.append((str(match.lastgroup), match.group(), position + 1))
        position = match.end()
    return tokens


def _value(kind: str, token: str) -> float | bool | str | None:
    if kind == "number":
        return float(token.replace("_", ""))
    if kind == "string":
        return token[1:-1]
    if kind == "name" and token.lower() in ("true", "false"):
        return token.lower() == "true"
    return None


def parse(text: str, field_types: dict[str, str]) -> Condition:
    """Parse and type-check one condition. `field_types` maps each field a gate may
    use to "number", "integer", "boolean" or "string" (see inferchip.schema)."""
    tokens = tokenize(text)
    shape = [kind for kind, _, _ in tokens]
    if len(tokens) != 3 or shape[0] != "name" or shape[1] != "op":
        raise UsageError(f"--fail-if {short_repr(text, 60)}: expected FIELD OP VALUE with OP one of "
                         f"{' '.join(OPERATORS)}, {EXAMPLE}")
    field, op = tokens[0][1], tokens[1][1]
    value = _value(shape[2], tokens[2][1])
    if value is None:
        raise UsageError(f"--fail-if {short_repr(text, 60)}: {tokens[2][1]!r} is not a value; write a number, true, false "
                         f"or quoted text such as \"NVIDIA H100 SXM\"")
    if field not in field_types:
        raise UsageError(f"--fail-if {short_repr(text, 60)}: unknown field '{field}'.{did_you_mean(field, list(field_types))}"
                         " Fields: see `inferchip schema compare` or docs/method.md#result-fields.")
    expected = field_types[field]
    given = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "number"
    wanted = "number" if expected == "integer" else expected
    if given != wanted:
        example = {"number": "a number such as 0.002", "boolean": "true or false",
                   "string": "quoted text such as \"NVIDIA H100 SXM\""}[wanted]
        raise UsageError(f"--fail-if {short_repr(text, 60)}: '{field}' is a {wanted} field; compare it with {example}")
    if wanted != "number" and op not in ("==", "!="):
        raise UsageError(f"--fail-if {short_repr(text, 60)}: '{field}' is a {wanted} field; use == or != with it")
    return Condition(field=field, op=op, value=value, text=text)


def holds(condition: Condition, frame) -> np.ndarray:
    """Per row of `frame` (a DataFrame with the condition's field): does it hold?
    Missing values (NaN / None) never hold."""
    column = frame[condition.field]
    compare = OPERATORS[condition.op]
    if isinstance(condition.value, str):
        values = column.to_numpy(dtype=object)
        known = column.notna().to_numpy()
        return known & compare(values.astype(str), condition.value)
    if isinstance(condition.value, bool):
        known = column.notna().to_numpy()
        return known & compare(column.fillna(False).to_numpy(dtype=bool), condition.value)
    values = column.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & compare(values, condition.value)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:.6g}"
    return repr(str(value))


def evaluate_gates(conditions: list[Condition], frame, gate_on: str, name_column: str = "accelerator",
                   shown: int = 5) -> list[dict[str, object]]:
    """Each condition's outcome over the selected rows of the ranked `frame`:
    {condition, gate_on, held, rows: [{accelerator, option (the row key), field value}]}."""
    from inferchip.document import clean_number

    selected = frame.head(1) if gate_on == "best" else frame
    out = []
    for condition in conditions:
        mask = holds(condition, selected)
        hits = selected[mask].head(shown)
        options = hits["option"].tolist() if "option" in hits else hits[name_column].tolist()
        examples = [{"accelerator": name, "option": option, "value": clean_number(value)}
                    for name, option, value in zip(hits[name_column].tolist(), options,
                                                   hits[condition.field].tolist(), strict=True)]
        out.append({"condition": condition.text, "field": condition.field, "gate_on": gate_on,
                    "held": bool(mask.any()), "rows_held": int(mask.sum()), "examples": examples})
    return out


def failure_message(outcomes: list[dict[str, object]]) -> str:
    """One line per gate that held, naming the rows; '' when none held."""
    lines = []
    for outcome in outcomes:
        if not outcome["held"]:
            continue
        examples = outcome["examples"]
        names = ", ".join(f"{e.get('option') or e['accelerator']} ({outcome['field']} = {_describe(e['value'])})" for e in examples)
        more = outcome["rows_held"] - len(examples)
        suffix = f" and {more} more" if more > 0 else ""
        lines.append(f"policy gate --fail-if '{outcome['condition']}' held (--gate-on {outcome['gate_on']}) "
                     f"for {names}{suffix}")
    return "\n".join(lines)
