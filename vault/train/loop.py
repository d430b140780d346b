"""The wall-clock training loop that both training recipes share: the causal pair's (recipe.train) and the
encoder oracle's (oracle_encoder.train).

A run trains for a time budget rather than a number of steps, so that a recipe's figures say how long it took
on the machine at hand: epochs of shuffled batches until the budget is spent, a progress line every few steps
and a checkpoint every three minutes and at the end, from which a stopped run continues.
"""

from __future__ import annotations

import random
import time
from typing import Callable

import torch

CHECKPOINT_EVERY_S = 180


def batches_by_length(lengths: list[int], tokens_per_batch: int) -> list[list[int]]:
    """Example indices in batches of similar length (shortest first), each about `tokens_per_batch` tokens
    long counted as its longest member's length times its size."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    out, cur = [], []
    for i in order:
        cur.append(i)
        if len(cur) * lengths[i] >= tokens_per_batch:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def restore(saved: dict, model: torch.nn.Module, opt: torch.optim.Optimizer, prefix: str = "") -> dict:
    """Model and optimiser as a checkpoint left them; returns the run's state (step, elapsed, log) to go on
    from."""
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["opt"])
    state = saved["state"]
    print(f"{prefix}resuming at step {state['step']}, {state['elapsed'] / 60:.1f} min done", flush=True)
    return state


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor, params) -> None:
    """One update from `loss`, its gradients over `params` clipped to norm 1."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()


def run_for(budget_s: float, state: dict, batches: list[list[int]], rng: random.Random,
            train_step: Callable[[list[int], float], torch.Tensor], save: Callable[[], None], *,
            log_every: int, prefix: str = "") -> None:
    """Train until `budget_s` seconds have gone, counting the `state["elapsed"]` of earlier runs.

    Each epoch goes through `batches` in `rng`'s order; `train_step(batch, elapsed)` makes one update and
    returns its loss. `state` counts the steps, keeps a (step, minutes, loss) entry every `log_every` steps
    (printed after `prefix`) and the elapsed seconds, which are brought up to date before each `save()`:
    every three minutes and at the end."""
    started, last_save = time.time() - state["elapsed"], time.time()

    def checkpoint():
        state["elapsed"] = time.time() - started
        save()

    while time.time() - started < budget_s:
        rng.shuffle(batches)
        for batch in batches:
            elapsed = time.time() - started
            if elapsed >= budget_s:
                break
            loss = train_step(batch, elapsed)
            state["step"] += 1
            if state["step"] % log_every == 0:
                state["log"].append((state["step"], round(elapsed / 60, 2), round(loss.item(), 4)))
                print(f"{prefix}step {state['step']} {elapsed / 60:.1f} min loss {loss.item():.4f}", flush=True)
            if time.time() - last_save > CHECKPOINT_EVERY_S:
                checkpoint()
                last_save = time.time()
    checkpoint()
