"""Writes a random GPT-2 of GPT-2 small's shape (124M parameters: 12 layers, n_embd 768, 12 heads,
vocab 50,257, n_positions 1,024) in Hugging Face's layout, for `deno task bench --part gpt2`: the
import, the forward and sampling cost what they cost on the real file (same shapes, same dtype),
without downloading it. Weights as fixtures/make_tiny_gpt2.py draws them; no lm_head (tied).

Run from the repository root: python3 bench/make_random_gpt2.py OUT_DIR
"""

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "fixtures"))
from make_tiny_gpt2 import BASE, draw, write_safetensors  # noqa: E402

GPT2_SMALL = {**BASE, "n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024,
              "vocab_size": 50257, "activation_function": "gelu_new", "n_inner": None}


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    sd = draw(GPT2_SMALL, {"seed": 0, "lm_head": False})
    (out / "config.json").write_text(json.dumps(GPT2_SMALL, indent=2) + "\n")
    write_safetensors(out / "model.safetensors", {"transformer." + k: v for k, v in sd.items()})


if __name__ == "__main__":
    main()
