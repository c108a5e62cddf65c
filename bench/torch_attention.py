"""The PyTorch CPU peer of `deno task bench --part attention` (bench/attention_bench.ts).

Causal attention as the textbook writes it, materialising [B, H, T, T]: scores = scale * q k^T,
masked to -inf above the diagonal, softmax, times v. On the CPU, in f32, with 2 threads (the
development machine's cores). torch 1.13 has no F.scaled_dot_product_attention (2.0 added it),
so the naive form is the only one; where a later torch has it, it is timed too.

Usage: python3 bench/torch_attention.py '[[B, T, H, E], ...]'
Prints one JSON line: {"device": ..., "cases": [{"naive": [fwd_ms, step_ms], "sdpa": ...}, ...]}.
Forward is timed under no_grad; a step is the forward with autograd and the backward from a
fixed dz. Each time is the median of 3 runs of enough repetitions to last 0.2 s.
"""

import json
import math
import sys
import time

import torch
import torch.nn.functional as F

THREADS = 2


def naive(q, k, v):
    """q, k, v: [B, H, T, E] -> z [B, H, T, E]."""
    T = q.shape[2]
    scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(q.shape[-1]))  # [B, H, T, T]
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    pattern = scores.masked_fill(mask, float("-inf")).softmax(-1)  # [B, H, T, T]
    return pattern @ v


def sdpa(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def median_ms(f):
    def run(reps):
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        return time.perf_counter() - t0

    run(1)
    reps = 1
    while run(reps) < 0.2 and reps < 4096:
        reps *= 2
    return sorted(run(reps) / reps for _ in range(3))[1] * 1e3


def times(attend, B, T, H, E):
    gen = torch.Generator().manual_seed(0)
    # [B, T, H, E] as mechlab's hook_q, viewed [B, H, T, E] as torch's attention takes it.
    q, k, v, dz = (torch.randn(B, T, H, E, generator=gen).transpose(1, 2) for _ in range(4))
    for t in (q, k, v):
        t.requires_grad_(True)

    def forward():
        with torch.no_grad():
            attend(q, k, v)

    def step():
        for t in (q, k, v):
            t.grad = None
        attend(q, k, v).backward(dz)

    return [median_ms(forward), median_ms(step)]


def main():
    torch.set_num_threads(THREADS)
    kinds = {"naive": naive}
    if hasattr(F, "scaled_dot_product_attention"):
        kinds["sdpa"] = sdpa
    cases = [{name: times(f, *shape) for name, f in kinds.items()} for shape in json.loads(sys.argv[1])]
    device = f"torch {torch.__version__} on the CPU, {torch.get_num_threads()} threads"
    print(json.dumps({"device": device, "cases": cases}))


if __name__ == "__main__":
    main()
