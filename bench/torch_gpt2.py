"""The PyTorch peer of `deno task bench --part gpt2`: Hugging Face's GPT-2 forward written in plain
PyTorch (float32, Conv1D weights [in, out], c_attn packing Q|K|V, tied lm_head), loaded from the
same folder mechlab imports, timed the same way on torch.set_num_threads(THREADS): loading the
folder, a forward over 64 tokens (median of 5 after a warm-up), and greedy tokens per second with a
key-value cache from a one-token prompt.

Usage: /usr/bin/python3 bench/torch_gpt2.py DIR NEW_TOKENS THREADS. Prints one JSON line:
{"load_s", "forward64_ms", "tokens_per_s", "tokens", "threads", "peak_mb"} (peak_mb: the process's
peak resident memory, ru_maxrss).
"""

import json
import math
import pathlib
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "fixtures"))
from read_safetensors import load  # noqa: E402  (numpy only; `safetensors` is not installed)

folder, new_tokens, threads = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)

t0 = time.perf_counter()
cfg = json.loads((folder / "config.json").read_text())
_, _, tensors = load(folder / "model.safetensors")
sd = {k.removeprefix("transformer."): torch.from_numpy(a.copy()) for k, (_, _, a) in tensors.items()}
load_s = time.perf_counter() - t0
L, D, H, eps = cfg["n_layer"], cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
E = D // H
head = sd.get("lm_head.weight", sd["wte.weight"])


def block(x, i, cache):
    """One block on x [T, D] at the positions after the cache's; appends this T's k, v to it."""
    p = f"h.{i}."
    a = F.layer_norm(x, (D,), sd[p + "ln_1.weight"], sd[p + "ln_1.bias"], eps)
    q, k, v = (a @ sd[p + "attn.c_attn.weight"] + sd[p + "attn.c_attn.bias"]).split(D, -1)
    k = torch.cat([cache[0], k]) if cache else k
    v = torch.cat([cache[1], v]) if cache else v
    T, S = q.shape[0], k.shape[0]
    heads = lambda t: t.view(t.shape[0], H, E).transpose(0, 1)  # [H, T, E]
    scores = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(E)  # [H, T, S]
    mask = torch.ones(T, S, dtype=torch.bool).triu(S - T + 1)
    z = (scores.masked_fill(mask, float("-inf")).softmax(-1) @ heads(v)).transpose(0, 1)
    x = x + z.reshape(T, D) @ sd[p + "attn.c_proj.weight"] + sd[p + "attn.c_proj.bias"]
    m = F.layer_norm(x, (D,), sd[p + "ln_2.weight"], sd[p + "ln_2.bias"], eps)
    m = F.gelu(m @ sd[p + "mlp.c_fc.weight"] + sd[p + "mlp.c_fc.bias"], approximate="tanh")
    return x + m @ sd[p + "mlp.c_proj.weight"] + sd[p + "mlp.c_proj.bias"], (k, v)


@torch.no_grad()
def forward(tokens, caches):
    start = caches[0][0].shape[0] if caches[0] else 0
    x = sd["wte.weight"][tokens] + sd["wpe.weight"][start : start + len(tokens)]
    for i in range(L):
        x, caches[i] = block(x, i, caches[i])
    return F.layer_norm(x, (D,), sd["ln_f.weight"], sd["ln_f.bias"], eps) @ head.T


tokens = torch.arange(64) * 97 % cfg["vocab_size"]
forward(tokens, [None] * L)
times = []
for _ in range(5):
    t = time.perf_counter()
    forward(tokens, [None] * L)
    times.append((time.perf_counter() - t) * 1000)

caches, out = [None] * L, [1]
logits = forward(torch.tensor([1]), caches)
t = time.perf_counter()
for _ in range(new_tokens):
    out.append(int(logits[-1].argmax()))
    logits = forward(torch.tensor([out[-1]]), caches)
seconds = time.perf_counter() - t
print(json.dumps({
    "load_s": load_s, "forward64_ms": statistics.median(times),
    "tokens_per_s": new_tokens / seconds, "tokens": out[1:], "threads": threads,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
