# A small MLP: MLP(2, [4, 4, 1]) trained for 20 steps on 8 points
# of XOR, then the graph of its loss on two points.
from micrograd_like.data import make_xor
from micrograd_like.losses import hinge, l2_penalty
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD

X, y = make_xor(8, noise=0.05, seed=0, signed=True)
model = MLP(2, [4, 4, 1], rng=1)
opt = SGD(model.parameters(), lr=0.1)
print(model)

for k in range(20):
    scores = [model.scalar(x) for x in X]
    loss = hinge(scores, y) + l2_penalty(model.parameters(), alpha=1e-4)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if k % 5 == 0 or k == 19:
        print(f"step {k + 1:2d}: loss {loss.data:.4f}")

# the graph of the loss on two points: small enough to step through
loss = hinge([model.scalar(x) for x in X[:2]], y[:2])
loss.label = "loss"
loss
