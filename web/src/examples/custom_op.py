# A custom op: softsign(x) = x / (1 + |x|), its derivative
# written in Value arithmetic; gradcheck compares the first and
# second derivatives with finite differences.
from micrograd_like import Value, define_op, gradcheck

softsign = define_op(
    "softsign",
    1,
    lambda x: x / (1 + abs(x)),
    # d/dx x/(1+|x|) = 1/(1+|x|)^2
    lambda m, g, out, x: (g / (1 + abs(x)) ** 2,),
    symbol="softsign",
)

x = Value(0.5, label="x")
w = Value(-1.5, label="w")
y = softsign(x * w) * 2
y.label = "y"
y.backward()
print(f"y = {y.data:.6f}, dy/dx = {x.grad:.6f}, dy/dw = {w.grad:.6f}")

check = gradcheck(lambda a, b: softsign(a * b) * 2, [0.5, -1.5], order=2)
print(check.summary())
y
