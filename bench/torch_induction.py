"""An independent PyTorch peer of mechlab's `induction` preset (issue 12 item 7), to tell a bug in
mechlab from a property of the setup, and to screen configurations faster than the CPU path.

Same everything, rebuilt from mechlab's definitions rather than from its code:
- data: `engine/data/induction.ts` (`<bos>`, L random ids with L uniform in [ceil(seq_len/2),
  seq_len], the same L again, `<pad>`; the next token is the target at positions 0..2L-1), the
  pool drawn from mechlab's generator (xoshiro128** seeded by splitmix64, the Python copy in
  fixtures/make_random.py), the first floor(frac_train * n_seqs) rows train;
- minibatches: `sampleBatches` (one generator per step seeded (seed * 0x9e3779b97f4a7c15 + step)
  mod 2^53, `size` rows with replacement, each scored position weighing 1 / (scored positions in
  the batch));
- initial weights: `initParams` (every W_* normal(0, init) drawn in TransformerLens' state_dict
  order from Rng(seed), rounded to f32; biases 0, LayerNorm w 1, b 0), so a run starts from the
  exact weights mechlab starts from;
- model: TransformerLens' attention-only HookedTransformer (LayerNorm before attention with w and
  b, eps 1e-5, ln_final, scores / sqrt(d_head), causal mask; "standard" positions added to the
  residual stream, or "shortformer" ones added to ln1's output for queries and keys only);
- optimiser: torch.optim.AdamW on every parameter (betas 0.9, 0.98, eps 1e-8, mechlab's defaults),
  the lr of update t being lr * (t - 1) / warmup during the warmup (LambdaLR as mechlab's);
- head detectors: TransformerLens' `detect_head` ("mul"), as `mechlab analyze`: 10 sequences of
  min(n_ctx // 2, 50) ids from Rng(0).nextUint32() % n_tokens, repeated once, no BOS.

Usage: /usr/bin/python3 bench/torch_induction.py [--ln LN|none] [--n-tokens 20] ... (--help).
Prints, every --eval-every steps, the train loss (mean over the minibatch), the best layer-0
previous-token and layer-1 induction scores (all heads' in brackets), and the held-out loss on
positions 0 .. ceil(seq_len/2)-1 (first half) and seq_len .. 2 seq_len-1 (repeated half); then one
JSON line of the final figures. `--losses-at S1,S2,...` prints the mean loss over every training row
at those steps (mechlab's `train/loss` metric) to compare with a mechlab run's metrics.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_random import Rng  # noqa: E402  (mechlab's generator, independently written)

IGNORE = -1


def args_of():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a = p.add_argument
    a("--n-tokens", type=int, default=20)
    a("--seq-len", type=int, default=20)
    a("--n-seqs", type=int, default=4000)
    a("--frac-train", type=float, default=0.9)
    a("--data-seed", type=int, default=0)
    a("--ln", choices=["LN", "none"], default="LN")
    a("--pos", choices=["standard", "shortformer"], default="standard")
    a("--d-model", type=int, default=64)
    a("--n-heads", type=int, default=2)
    a("--d-head", type=int, default=32)
    a("--init", type=float, default=0.1)
    a("--seed", type=int, default=0)
    a("--lr", type=float, default=4e-3)
    a("--weight-decay", type=float, default=0.01)
    a("--beta2", type=float, default=0.98)
    a("--warmup", type=int, default=100)
    a("--batch", type=int, default=64)
    a("--steps", type=int, default=1500)
    a("--eval-every", type=int, default=100)
    a("--threads", type=int, default=1)
    a("--losses-at", default="", help="comma-separated steps: full train-set loss there")
    return p.parse_args()


def induction_pool(n_tokens, seq_len, n_seqs, data_seed):
    """`inductionTask`'s tokens and targets [N, 1 + 2 seq_len]."""
    T = 1 + 2 * seq_len
    rng = Rng(data_seed)
    lo = (seq_len + 1) // 2
    tokens = np.full((n_seqs, T), n_tokens + 1, dtype=np.int64)
    targets = np.full((n_seqs, T), IGNORE, dtype=np.int64)
    for n in range(n_seqs):
        L = lo + rng.int(seq_len - lo + 1)
        seg = [rng.int(n_tokens) for _ in range(L)]
        tokens[n, 0] = n_tokens
        tokens[n, 1 : 1 + L] = seg
        tokens[n, 1 + L : 1 + 2 * L] = seg
        targets[n, : 2 * L] = tokens[n, 1 : 1 + 2 * L]
    return tokens, targets


def batch_rows(seed, step, size, n_train):
    """`sampleBatches`' rows of one step (one group, so the weights are 1 / scored positions)."""
    rng = Rng((seed * 0x9E3779B97F4A7C15 + step) % (1 << 53))
    return [rng.int(n_train) for _ in range(size)]


class Model(torch.nn.Module):
    """TransformerLens' attention-only model with mechlab's `initParams`."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        V, U, C, D = cfg["d_vocab"], cfg["d_vocab_out"], cfg["n_ctx"], cfg["d_model"]
        H, E, Lyr = cfg["n_heads"], cfg["d_head"], cfg["n_layers"]
        rng = Rng(cfg["seed"])
        params = {}

        def normal(name, shape):
            n = int(np.prod(shape))
            vals = np.array([rng.normal() for _ in range(n)], dtype=np.float64) * cfg["init"]
            params[name] = torch.tensor(vals.astype(np.float32).reshape(shape))

        ln = cfg["ln"] == "LN"
        normal("W_E", [V, D])
        normal("W_pos", [C, D])
        for l in range(Lyr):
            if ln:
                params[f"ln1_w{l}"] = torch.ones(D)
                params[f"ln1_b{l}"] = torch.zeros(D)
            for w in "QKV":
                normal(f"W_{w}{l}", [H, D, E])
            normal(f"W_O{l}", [H, E, D])
            for w in "QKV":
                params[f"b_{w}{l}"] = torch.zeros(H, E)
            params[f"b_O{l}"] = torch.zeros(D)
        if ln:
            params["lnf_w"] = torch.ones(D)
            params["lnf_b"] = torch.zeros(D)
        normal("W_U", [D, U])
        params["b_U"] = torch.zeros(U)
        self.p = torch.nn.ParameterDict({k: torch.nn.Parameter(v) for k, v in params.items()})
        self.register_buffer("mask", torch.full((C, C), float("-inf")).triu(1))

    def norm(self, x, w, b):
        if self.cfg["ln"] != "LN":
            return x
        return F.layer_norm(x, (x.shape[-1],), self.p[w], self.p[b], eps=1e-5)

    def forward(self, tokens, patterns=None):
        p, T = self.p, tokens.shape[1]
        shortformer = self.cfg["pos"] == "shortformer"
        pos = p["W_pos"][:T]  # [T, D]
        x = F.embedding(tokens, p["W_E"]) + (0 if shortformer else pos)  # [B, T, D]
        B, H, E = tokens.shape[0], self.cfg["n_heads"], self.cfg["d_head"]

        def heads(x, w, b):  # [B, T, D] @ [H, D, E] + [H, E] -> [B, H, T, E]
            flat = w.permute(1, 0, 2).reshape(w.shape[1], H * E)
            return (x @ flat + b.reshape(H * E)).view(B, T, H, E).transpose(1, 2)

        for l in range(self.cfg["n_layers"]):
            h = self.norm(x, f"ln1_w{l}", f"ln1_b{l}")  # [B, T, D]
            hqk = h + pos if shortformer else h
            q = heads(hqk, p[f"W_Q{l}"], p[f"b_Q{l}"])
            k = heads(hqk, p[f"W_K{l}"], p[f"b_K{l}"])
            v = heads(h, p[f"W_V{l}"], p[f"b_V{l}"])
            scores = q @ k.transpose(-1, -2) / math.sqrt(E) + self.mask[:T, :T]
            pattern = scores.softmax(-1)  # [B, H, T, T]
            if patterns is not None:
                patterns.append(pattern.detach())
            z = (pattern @ v).transpose(1, 2).reshape(B, T, H * E)  # [B, T, H·E]
            x = x + z @ p[f"W_O{l}"].reshape(H * E, -1) + p[f"b_O{l}"]
        x = self.norm(x, "lnf_w", "lnf_b")
        return x @ p["W_U"] + p["b_U"]  # [B, T, U]


def detector_tokens(n_tokens, half, batch=10, seed=0):
    rng = Rng(seed)
    out = np.zeros((batch, 2 * half), dtype=np.int64)
    for b in range(batch):
        for i in range(half):
            out[b, i] = out[b, half + i] = rng.next_uint32() % n_tokens
    return torch.tensor(out)


def detect(model, tokens):
    """[L][H] previous-token and induction scores, TransformerLens' `detect_head` ("mul")."""
    patterns = []
    with torch.no_grad():
        model(tokens, patterns)
    B, T = tokens.shape
    q = torch.arange(T)[:, None]
    k = torch.arange(T)[None, :]
    prev = (k == q - 1).float().expand(B, T, T)
    tk, tq = tokens[:, None, :], tokens[:, :, None]  # key token, query token
    shifted = torch.cat([torch.full((B, 1), -1), tokens[:, :-1]], 1)[:, None, :]  # token k-1
    ind = ((shifted == tq) & (k >= 1) & (k - 1 != q) & (k <= q)).float()
    out = {}
    for name, det in (("previous_token", prev), ("induction", ind)):
        out[name] = [
            ((pat * det[:, None]).sum((-1, -2)) / pat.sum((-1, -2))).mean(0).tolist()
            for pat in patterns
        ]
    return out


def halves(model, tokens, targets, seq_len):
    """Held-out loss per position, averaged over the first half's and the repeated half's."""
    with torch.no_grad():
        logits = model(tokens)
    loss = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=IGNORE, reduction="none")
    scored = (targets != IGNORE).float()
    per_pos = (loss * scored).sum(0) / scored.sum(0).clamp(min=1)
    first = per_pos[: (seq_len + 1) // 2].mean().item()
    repeat = per_pos[seq_len : 2 * seq_len].mean().item()
    return first, repeat


def full_loss(model, tokens, targets):
    with torch.no_grad():
        logits = model(tokens)
    return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=IGNORE).item()


def main():
    a = args_of()
    torch.set_num_threads(a.threads)
    tok_np, tgt_np = induction_pool(a.n_tokens, a.seq_len, a.n_seqs, a.data_seed)
    n_train = math.floor(a.frac_train * a.n_seqs)
    tokens, targets = torch.tensor(tok_np), torch.tensor(tgt_np)
    cfg = {
        "d_vocab": a.n_tokens + 2, "d_vocab_out": a.n_tokens, "n_ctx": 1 + 2 * a.seq_len,
        "d_model": a.d_model, "n_heads": a.n_heads, "d_head": a.d_head, "n_layers": 2,
        "ln": a.ln, "pos": a.pos, "init": a.init, "seed": a.seed,
    }  # fmt: skip
    model = Model(cfg)
    opt = torch.optim.AdamW(
        model.parameters(), lr=a.lr, betas=(0.9, a.beta2), eps=1e-8, weight_decay=a.weight_decay
    )
    det_tokens = detector_tokens(a.n_tokens, min(cfg["n_ctx"] // 2, 50))
    losses_at = {int(s) for s in a.losses_at.split(",") if s}
    t0 = time.time()
    result = {}
    for step in range(a.steps + 1):
        if step in losses_at:
            print(json.dumps({"step": step, "train/loss": full_loss(model, tokens[:n_train], targets[:n_train])}))
        if step % a.eval_every == 0 or step == a.steps:
            d = detect(model, det_tokens)
            first, repeat = halves(model, tokens[n_train:], targets[n_train:], a.seq_len)
            prev0, ind1 = max(d["previous_token"][0]), max(d["induction"][1])
            result = {
                "step": step, "prev0": prev0, "ind1": ind1, "first": first, "repeat": repeat,
                "ratio": repeat / first, "prev0_heads": d["previous_token"][0],
                "ind1_heads": d["induction"][1], "time_s": time.time() - t0,
            }  # fmt: skip
            fmt = lambda xs: "[" + " ".join(f"{x:.2f}" for x in xs) + "]"  # noqa: E731
            print(
                f"step {step:5d} | prev0 {prev0:.3f} {fmt(d['previous_token'][0])} | ind1 "
                f"{ind1:.3f} {fmt(d['induction'][1])} | first {first:.3f} repeat {repeat:.3f} "
                f"| {time.time() - t0:6.1f} s",
                flush=True,
            )
        if step == a.steps:
            break
        rows = batch_rows(a.seed, step, a.batch, n_train)
        bt, btg = tokens[rows], targets[rows]
        t = step + 1
        for g in opt.param_groups:
            g["lr"] = a.lr * min((t - 1) / a.warmup, 1) if a.warmup > 0 else a.lr
        logits = model(bt)
        loss = F.cross_entropy(logits.transpose(1, 2), btg, ignore_index=IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
