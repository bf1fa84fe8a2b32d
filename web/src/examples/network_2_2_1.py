# The 2-2-1 network of notebook 1: sigmoid neurons,
# binary cross-entropy, target y = 1.
from micrograd_like import Value
from micrograd_like.losses import bce

start = {
    "w11": 0.15,
    "w21": -0.2,
    "w12": 0.25,
    "w22": 0.2,
    "b1": 0.35,
    "b2": -0.35,
    "wo1": -0.3,
    "wo2": 0.5,
    "bo": 0.1,
}
p = {name: Value(v, label=name) for name, v in start.items()}
x1, x2 = Value(0.5, label="x1"), Value(-0.5, label="x2")

z1 = p["w11"] * x1 + p["w21"] * x2 + p["b1"]
z2 = p["w12"] * x1 + p["w22"] * x2 + p["b2"]
h1, h2 = z1.sigmoid(), z2.sigmoid()
zo = p["wo1"] * h1 + p["wo2"] * h2 + p["bo"]
y_pred = zo.sigmoid()
L = bce([y_pred], [1.0])
for v, name in [
    (z1, "z1"),
    (z2, "z2"),
    (h1, "h1"),
    (h2, "h2"),
    (zo, "zo"),
    (y_pred, "y_pred"),
    (L, "L"),
]:
    v.label = name

L.backward()
print(f"loss {L.data:.6f}")
for name, v in p.items():
    print(f"dL/d{name:<4}= {v.grad:+.6f}")
L
