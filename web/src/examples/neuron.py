# A neuron: o = tanh(x1*w1 + x2*w2 + b), micrograd's example.
# Ctrl+Enter runs it; step through backprop on the right.
from micrograd_like import Value

x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")

n = x1 * w1 + x2 * w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"
o.backward()

for v in (x1, w1, x2, w2, b):
    print(f"do/d{v.label} = {v.grad:+.4f}")
o  # the last line's Value is drawn and stepped through
