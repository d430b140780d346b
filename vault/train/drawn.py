"""Templates whose fields draw from a random stream: the address formats of vault/train/data/addresses.yaml,
the generated hard negatives and the like.

A template is text with fields in braces, filled left to right, each field drawing when it is reached, so
that a template draws exactly what the f-string it stands for drew, in the same order (the generated data,
and so the shipped models' recipe, depend on the order of the draws). Fields:

    {NAME}              a value of the context (a number may be followed by *N or *NAME, %N, +N, :FORMAT,
                        applied in that order: {unit%20+1:02d})
    {int A B}           a number from A to B ({int A B:FORMAT} formatted); {float A B:FORMAT} any number
                        between; {hex N} N hexadecimal digits
    {letter ABC}        one of the letters
    {pick X|Y|Z}        one of the alternatives, each filled first (as a Python list of f-strings is built
                        before one is chosen)
    {?P X|?Q Y|Z}       one draw r: X if r < P, else Y if r < Q, else Z (nothing where no branch is left)
    {upper NAME}        the value in capitals
    {CALL ARG}          a function of the context (`calls`): CALL(ARG) is the text

A format is a list of steps, run in order:

    NAME: TEMPLATE      the template filled, kept as NAME
    NAME: [T, ...]      every template filled, then one of them chosen, kept as NAME
    if: P               with `lines`: those lines (and nothing after) if a draw is below P
    lines: [T, ...]     the lines of the result; an entry {line: T, if: P} is a line only where its draw is
                        below P (drawn where it stands; no `if`: always) and T comes out non-empty
"""

from __future__ import annotations

import random
import re
from typing import Callable

_REF = re.compile(r"(\w+)(?:\*(\w+))?(?:%(\d+))?(?:\+(\d+))?(?::(.+))?")


def _close(text: str, start: int) -> int:
    """The index of the brace that closes the one at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise ValueError(f"unclosed field in {text!r}")


def _split(text: str) -> list[str]:
    """`text` cut at each "|" outside a field."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def fill(template: str, rng: random.Random, env: dict, calls: dict[str, Callable[[str], str]]) -> str:
    out, i = [], 0
    while (j := template.find("{", i)) >= 0:
        k = _close(template, j)
        out += [template[i:j], _field(template[j + 1:k], rng, env, calls)]
        i = k + 1
    return "".join(out) + template[i:]


def _field(field: str, rng: random.Random, env: dict, calls: dict) -> str:
    if field.startswith("?"):
        r = rng.random()
        for branch in _split(field):
            if not branch.startswith("?"):
                return fill(branch, rng, env, calls)
            chance, _, text = branch[1:].partition(" ")
            if r < float(chance):
                return fill(text, rng, env, calls)
        return ""
    head, _, arg = field.partition(" ")
    if head == "pick":
        return rng.choice([fill(x, rng, env, calls) for x in _split(arg)])
    if head in ("int", "float", "hex"):
        arg, _, spec = arg.partition(":")
        if head == "hex":  # N hexadecimal digits
            return format(rng.randrange(16 ** int(arg)), f"0{arg}x")
        low, high = arg.split()
        value = rng.randint(int(low), int(high)) if head == "int" else rng.uniform(float(low), float(high))
        return format(value, spec)
    if head == "letter":
        return rng.choice(arg)
    if head == "upper":
        return env[arg].upper()
    if head in calls:
        return calls[head](arg)
    name, times, mod, plus, spec = _REF.fullmatch(field).groups()
    value = env[name]
    if times:
        value = value * (int(env[times]) if times in env else int(times))
    if mod:
        value %= int(mod)
    if plus:
        value += int(plus)
    return format(value, spec or "")


def run(steps: tuple, rng: random.Random, env: dict, calls: dict) -> list[str]:
    """The lines a format's steps make (see the module's docstring); `env` gains the values they keep."""
    for step in steps:
        if "lines" in step:
            if "if" in step and not rng.random() < step["if"]:
                continue
            return _lines(step["lines"], rng, env, calls)
        (name, template), = step.items()
        if name in calls:  # a field {NAME} would call the function, never read the value
            raise ValueError(f"a value named as a function: {name}")
        if isinstance(template, tuple):
            env[name] = rng.choice([fill(t, rng, env, calls) for t in template])
        else:
            env[name] = fill(template, rng, env, calls)
    raise ValueError("a format ends with its lines")


def _lines(entries: tuple, rng: random.Random, env: dict, calls: dict) -> list[str]:
    out = []
    for entry in entries:
        if isinstance(entry, str):
            out.append(fill(entry, rng, env, calls))
        elif "if" not in entry or rng.random() < entry["if"]:
            text = fill(entry["line"], rng, env, calls)
            if text:
                out.append(text)
    return out
