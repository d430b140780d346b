"""Templates that draw (vault.train.drawn) and layouts written as data (layouts.compose) draw what the Python
they replaced drew, in the same order: the generated data depend on it."""

import random

from vault.train import drawn
from vault.train.layouts import compose


def test_fields_draw_left_to_right_as_an_f_string_does():
    r1, r2 = random.Random(1), random.Random(1)
    got = drawn.fill("{int 1 9}-{letter ABC}-{hex 4}-{float 1 2:.2f}-{unit%20+1:02d}", r1, {"unit": 37}, {})
    want = f"{r2.randint(1, 9)}-{r2.choice('ABC')}-{r2.randrange(16 ** 4):04x}-{r2.uniform(1, 2):.2f}-{37 % 20 + 1:02d}"
    assert got == want and r1.random() == r2.random()


def test_pick_builds_every_alternative_first_and_a_chance_only_its_branch():
    r1, r2 = random.Random(2), random.Random(2)
    got = drawn.fill("{pick a{int 1 9}|b}{?0.5 x{int 1 9}|y}", r1, {}, {})
    want = r2.choice([f"a{r2.randint(1, 9)}", "b"]) + (f"x{r2.randint(1, 9)}" if r2.random() < 0.5 else "y")
    assert got == want and r1.random() == r2.random()


def test_a_format_keeps_values_returns_early_and_drops_optional_lines():
    steps = ({"n": "{int 1 5}"}, {"if": 0.0, "lines": ("never",)},
             {"lines": ("{n}", {"line": "{gone}"}, {"if": 1.0, "line": "{upper city}"})})
    rng = random.Random(3)
    n = str(random.Random(3).randint(1, 5))
    assert drawn.run(steps, rng, {"city": "Oslo", "gone": ""}, {}) == [n, "OSLO"]


class _G:
    def __init__(self, seed):
        self.rng = random.Random(seed)


def test_compose_builds_parts_in_order():
    pools = {"s": ("one.", "two.", "three.")}
    part = ({"keep": {"k": {"one": ("x", "y")}}}, {"chance": {0.5: "<", 1: ">"}},
            {"sents": ("s", 1, 2)}, {"kept": "k"}, {"repeat": {"times": (0, 2), "each": {"int": (1, 9)},
                                                             "join": ",", "before": " "}})
    g, r = _G(4), random.Random(4)
    k = r.choice(("x", "y"))
    mark = "<" if r.random() < 0.5 else ">"
    sents = " ".join(r.sample(list(pools["s"]), max(1, min(r.randint(1, 2), 3))))
    nums = [str(r.randint(1, 9)) for _ in range(r.randint(0, 2))]
    assert compose(g, part, pools) == mark + sents + k + (" " + ",".join(nums) if nums else "")
    assert g.rng.random() == r.random()
