"""The PyTorch peer of `deno task bench --part tinygpt`: trains the `tinygpt` shape (TransformerLens'
layout: learned positions, pre-LayerNorm blocks, separate Q/K/V, GELU MLP, final LayerNorm, an
unembedding with a bias) on the same random tokens as mechlab, for the same steps, with AdamW and
the loss at every position, on torch.set_num_threads(THREADS), in float32.

Usage: /usr/bin/python3 bench/torch_tinygpt.py TOKENS_FILE STEPS BATCH N_CTX D_VOCAB N_LAYERS
D_MODEL N_HEADS D_MLP THREADS. TOKENS_FILE holds int32 little-endian [STEPS, BATCH, N_CTX + 1]:
each window's first N_CTX tokens are the input, its last N_CTX the targets. Prints one JSON line:
{"tokens_per_s", "ms_per_step", "loss_first", "loss_last", "threads"}; the first step is a warm-up
and is not timed.
"""

import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

(path, steps, batch, n_ctx, d_vocab, n_layers, d_model, n_heads, d_mlp, threads) = sys.argv[1:11]
steps, batch, n_ctx, d_vocab = int(steps), int(batch), int(n_ctx), int(d_vocab)
n_layers, d_model, n_heads, d_mlp = int(n_layers), int(d_model), int(n_heads), int(d_mlp)
torch.set_num_threads(int(threads))
torch.manual_seed(0)
d_head = d_model // n_heads
windows = torch.from_numpy(
    np.fromfile(path, dtype="<i4").reshape(steps, batch, n_ctx + 1).astype(np.int64)
)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d_model)
        self.qkv = torch.nn.Linear(d_model, 3 * d_model)
        self.out = torch.nn.Linear(d_model, d_model)
        self.ln2 = torch.nn.LayerNorm(d_model)
        self.mlp_in = torch.nn.Linear(d_model, d_mlp)
        self.mlp_out = torch.nn.Linear(d_mlp, d_model)

    def forward(self, x, mask):
        B, T, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, n_heads, d_head).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d_head) + mask[:T, :T]
        z = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d_model)
        x = x + self.out(z)
        return x + self.mlp_out(F.gelu(self.mlp_in(self.ln2(x))))


class TinyGpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(d_vocab, d_model)
        self.pos = torch.nn.Embedding(n_ctx, d_model)
        self.blocks = torch.nn.ModuleList(Block() for _ in range(n_layers))
        self.ln_final = torch.nn.LayerNorm(d_model)
        self.unembed = torch.nn.Linear(d_model, d_vocab)
        mask = torch.full((n_ctx, n_ctx), float("-inf")).triu(1)
        self.register_buffer("mask", mask)

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos.weight[: tokens.shape[1]]
        for block in self.blocks:
            x = block(x, self.mask)
        return self.unembed(self.ln_final(x))


model = TinyGpt()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)


def step(s):
    window = windows[s]
    logits = model(window[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, d_vocab), window[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


loss_first = step(0)
t0 = time.perf_counter()
for s in range(1, steps):
    loss_last = step(s)
seconds = time.perf_counter() - t0
timed = steps - 1
print(
    json.dumps(
        {
            "tokens_per_s": timed * batch * n_ctx / seconds,
            "ms_per_step": 1000 * seconds / timed,
            "loss_first": loss_first,
            "loss_last": loss_last,
            "threads": torch.get_num_threads(),
        }
    )
)
