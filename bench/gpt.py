"""A tiny character-level GPT and its training step, written the way a learner writes it.

One attention layer with four heads, RMS norm, a ReLU MLP, softmax cross-entropy and Adam, on
made-up words from a seeded generator. Every number goes through the scalar class it is given,
with plain operators only (``+ * ** / -``, ``exp``, ``log``, ``relu``, Python's ``sum`` over
generators and ``max`` over ``.data``), so the same program runs on any micrograd-style Value:
the benchmark swaps the class and nothing else. Sized like karpathy's microgpt (4,192
parameters, tens of thousands of graph nodes per step); the code is this project's own.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

LETTERS = "abcdefghijklmnopqrstuvwxyz"
END = len(LETTERS)  # the token that starts and ends every word
VOCAB = len(LETTERS) + 1
WIDTH = 16  # embedding width
HEADS = 4
HEAD_WIDTH = WIDTH // HEADS
CONTEXT = 16  # longest sequence the position table covers
HIDDEN = 4 * WIDTH
WORD_SEED = 2024
PARAM_SEED = 7
INIT_STD = 0.08
N_WORDS = 500
# Adam, with the learning rate falling linearly to zero over TRAIN_STEPS
LR = 0.01
BETA1 = 0.85
BETA2 = 0.99
ADAM_EPS = 1e-8
TRAIN_STEPS = 1000
# the benchmark times this many consecutive steps (words) from the initial weights
TIMED_STEPS = 6

# name -> (rows, columns) of every weight matrix, in parameter order
SHAPES: dict[str, tuple[int, int]] = {
    "tokens": (VOCAB, WIDTH),
    "positions": (CONTEXT, WIDTH),
    "query": (WIDTH, WIDTH),
    "key": (WIDTH, WIDTH),
    "value": (WIDTH, WIDTH),
    "mix": (WIDTH, WIDTH),
    "up": (HIDDEN, WIDTH),
    "down": (WIDTH, HIDDEN),
    "readout": (VOCAB, WIDTH),
}
N_PARAMS = sum(r * c for r, c in SHAPES.values())


def make_words(n: int = N_WORDS, seed: int = WORD_SEED) -> list[str]:
    """n pronounceable made-up words (2 to 4 syllables, 3 to 12 letters), in a seeded order."""
    rng = random.Random(seed)
    onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh", "tr"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
    codas = ["", "", "", "n", "r", "s", "l"]
    words = []
    for _ in range(n):
        syllables = rng.randint(2, 4)
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables - 1))
        words.append((word + rng.choice(vowels) + rng.choice(codas))[: CONTEXT - 4])
    return words


def init_weights(seed: int = PARAM_SEED) -> list[float]:
    """Every weight, flat in SHAPES order (row by row), drawn from N(0, INIT_STD^2)."""
    rng = random.Random(seed)
    return [rng.gauss(0.0, INIT_STD) for _ in range(N_PARAMS)]


def encode(word: str) -> list[int]:
    """The word's tokens with END on both sides: the model predicts each next token."""
    return [END, *(LETTERS.index(c) for c in word), END]


# ----------------------------------------------------------------------------- the model


def matvec(rows: Sequence[Sequence[Any]], x: Sequence[Any]) -> list[Any]:
    """rows @ x, one dot product per row."""
    return [sum(w * xi for w, xi in zip(row, x, strict=True)) for row in rows]


def rms_norm(x: Sequence[Any]) -> list[Any]:
    """x divided by its root mean square (plus a small epsilon)."""
    mean_square = sum(xi * xi for xi in x) / len(x)
    inv = (mean_square + 1e-5) ** -0.5
    return [xi * inv for xi in x]


def softmax(logits: Sequence[Any]) -> list[Any]:
    """Probabilities e^z / sum e^z; the largest logit is subtracted first (as a plain number)."""
    top = max(z.data for z in logits)
    exps = [(z - top).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


class Gpt:
    """The model's weights as matrices of Values of one scalar class, and its forward pass."""

    def __init__(self, value_type: Callable[[float], Any], weights: Sequence[float]) -> None:
        if len(weights) != N_PARAMS:
            raise ValueError(f"Gpt: expected {N_PARAMS} weights, got {len(weights)}")
        self.params = [value_type(w) for w in weights]
        self.w: dict[str, list[list[Any]]] = {}
        start = 0
        for name, (rows, cols) in SHAPES.items():
            self.w[name] = [
                self.params[start + r * cols : start + (r + 1) * cols] for r in range(rows)
            ]
            start += rows * cols

    def next_logits(self, token: int, pos: int, keys: list[Any], values: list[Any]) -> list[Any]:
        """Logits of the token after `token` at `pos`; appends this position's key and value."""
        w = self.w
        x = [t + p for t, p in zip(w["tokens"][token], w["positions"][pos], strict=True)]
        # attention block: each head looks at every position so far, this one included
        skip = x
        h = rms_norm(x)
        q = matvec(w["query"], h)
        keys.append(matvec(w["key"], h))
        values.append(matvec(w["value"], h))
        heads = []
        for head in range(HEADS):
            lo, hi = head * HEAD_WIDTH, (head + 1) * HEAD_WIDTH
            scores = [
                sum(qi * ki for qi, ki in zip(q[lo:hi], k[lo:hi], strict=True)) / HEAD_WIDTH**0.5
                for k in keys
            ]
            weights = softmax(scores)
            for j in range(lo, hi):
                heads.append(sum(a * v[j] for a, v in zip(weights, values, strict=True)))
        x = [a + b for a, b in zip(matvec(w["mix"], heads), skip, strict=True)]
        # MLP block
        skip = x
        h = [u.relu() for u in matvec(w["up"], rms_norm(x))]
        x = [a + b for a, b in zip(matvec(w["down"], h), skip, strict=True)]
        return matvec(w["readout"], x)

    def loss(self, word: str) -> Any:
        """Mean cross-entropy of predicting each next token of the word."""
        tokens = encode(word)
        n = min(CONTEXT, len(tokens) - 1)
        keys: list[Any] = []
        values: list[Any] = []
        losses = []
        for pos in range(n):
            probs = softmax(self.next_logits(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return sum(losses) / n


class Adam:
    """Adam on the parameters' .data and .grad (plain floats), with a linearly falling rate."""

    def __init__(self, params: Sequence[Any]) -> None:
        self.params = list(params)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self, k: int) -> None:
        """Update with step k's gradients (k counts from 0), then reset them to zero."""
        lr = LR * (1.0 - k / TRAIN_STEPS)
        fix1 = 1.0 - BETA1 ** (k + 1)
        fix2 = 1.0 - BETA2 ** (k + 1)
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = BETA1 * m[i] + (1.0 - BETA1) * g
            v[i] = BETA2 * v[i] + (1.0 - BETA2) * g * g
            p.data -= lr * (m[i] / fix1) / ((v[i] / fix2) ** 0.5 + ADAM_EPS)
            p.grad = 0.0


def train_step(model: Gpt, opt: Adam, word: str, k: int) -> Any:
    """One training step on one word: forward, loss, backward, Adam; returns the loss node."""
    loss = model.loss(word)
    loss.backward()
    opt.step(k)
    return loss


def inputs_digest() -> str:
    """A short hash of the words, weights and settings, to show every engine started the same."""
    text = repr((make_words(), init_weights(), SHAPES, LR, BETA1, BETA2, ADAM_EPS, TIMED_STEPS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
