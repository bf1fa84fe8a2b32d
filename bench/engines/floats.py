"""Plain Python floats with hand-written forward and backward: the lower bound for any engine."""

from __future__ import annotations

from bench import workloads
from bench.harness import Engine


class FloatsChain:
    """The chain on floats; backward multiplies the local derivatives in reverse."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.value = workloads.build_chain(workloads.CHAIN_START, n)
        self.grad = 0.0

    def backward(self) -> None:
        g = 1.0
        local = workloads.chain_multipliers()[::-1]
        for _ in range(self.n // len(local)):
            for d in local:
                g = d * g  # d out/d in of x*c is c, of x+c is 1
        self.grad = g

    def result(self) -> tuple[float, float]:
        return self.value, self.grad


class FloatsMLP:
    """MLP(2, [16, 16, 1]) with ReLU hidden layers, the demo loss, and its gradient by hand."""

    def __init__(self, flat: list[float], steps: int) -> None:
        self.steps = steps
        self.xs, self.ys = workloads.make_moons()
        self.set_params(flat)
        self._scores: list[float] = []

    def set_params(self, flat: list[float]) -> None:
        layers = workloads.split_params(flat)
        self.w = [[list(w) for w, _ in layer] for layer in layers]
        self.b = [[b for _, b in layer] for layer in layers]
        self.zero_grad()

    def zero_grad(self) -> None:
        self.gw = [[[0.0] * len(w) for w in layer] for layer in self.w]
        self.gb = [[0.0] * len(layer) for layer in self.b]

    def _activations(self, x: tuple[float, float]) -> list[list[float]]:
        """Outputs of every layer for one point, the input first."""
        acts = [list(x)]
        last = len(self.w) - 1
        for li, (ws, bs) in enumerate(zip(self.w, self.b, strict=True)):
            a = acts[-1]
            out = []
            for w, b in zip(ws, bs, strict=True):
                z = b
                for wi, ai in zip(w, a, strict=True):
                    z += wi * ai
                out.append(z if li == last or z > 0 else 0.0)
            acts.append(out)
        return acts

    def forward(self) -> tuple[float, list[list[list[float]]], list[float]]:
        acts = [self._activations(x) for x in self.xs]
        self._scores = [a[-1][0] for a in acts]
        margins = [max(0.0, 1.0 - yi * si) for yi, si in zip(self.ys, self._scores, strict=True)]
        data_loss = sum(margins) * (1.0 / len(margins))
        reg_loss = workloads.ALPHA * sum(p * p for layer in self.w for w in layer for p in w)
        reg_loss += workloads.ALPHA * sum(b * b for layer in self.b for b in layer)
        return data_loss + reg_loss, acts, margins

    def loss_value(self, loss: tuple[float, list[list[list[float]]], list[float]]) -> float:
        return loss[0]

    def accuracy(self) -> float:
        return workloads.accuracy(self.ys, self._scores)

    def backward(self, loss: tuple[float, list[list[list[float]]], list[float]]) -> None:
        _, all_acts, margins = loss
        inv_n = 1.0 / len(margins)
        for acts, margin, yi in zip(all_acts, margins, self.ys, strict=True):
            if margin <= 0.0:
                continue  # relu(1 - y*score) is flat here
            # d loss/d score = (1/n) * -y
            delta = [-yi * inv_n]
            for li in range(len(self.w) - 1, -1, -1):
                a_in = acts[li]
                ws, gws, gbs = self.w[li], self.gw[li], self.gb[li]
                d_in = [0.0] * len(a_in)
                for j, dz in enumerate(delta):
                    if dz == 0.0:
                        continue
                    gbs[j] += dz
                    w, gw = ws[j], gws[j]
                    for i, ai in enumerate(a_in):
                        gw[i] += dz * ai
                        d_in[i] += dz * w[i]
                if li > 0:
                    # d relu(z)/dz = 1 where the output is positive
                    delta = [d if a > 0.0 else 0.0 for d, a in zip(d_in, a_in, strict=True)]
        # d ALPHA*p*p/dp = 2*ALPHA*p
        two_alpha = 2.0 * workloads.ALPHA
        for ws, gws, bs, gbs in zip(self.w, self.gw, self.b, self.gb, strict=True):
            for w, gw in zip(ws, gws, strict=True):
                for i, wi in enumerate(w):
                    gw[i] += two_alpha * wi
            for j, bj in enumerate(bs):
                gbs[j] += two_alpha * bj

    def update(self, k: int) -> None:
        lr = workloads.demo_lr(k, self.steps)
        for ws, gws, bs, gbs in zip(self.w, self.gw, self.b, self.gb, strict=True):
            for w, gw in zip(ws, gws, strict=True):
                for i, g in enumerate(gw):
                    w[i] -= lr * g
            for j, g in enumerate(gbs):
                bs[j] -= lr * g

    def grads(self) -> list[float]:
        flat: list[float] = []
        for gws, gbs in zip(self.gw, self.gb, strict=True):
            for gw, gb in zip(gws, gbs, strict=True):
                flat.extend(gw)
                flat.append(gb)
        return flat


def make_engine() -> Engine:
    """Floats: the chain and the MLP, no graph at all."""
    return Engine(
        name="floats",
        version="hand-written forward and backward",
        chain=FloatsChain,
        model=FloatsMLP,
    )
