"""Graduating to PyTorch: to_torch and from_torch keep the architecture and every weight, and
a network trained on both sides follows the same losses."""

from __future__ import annotations

import sys

import pytest

from micrograd_like import MLP, Value
from micrograd_like.data import make_moons
from micrograd_like.losses import hinge, l2_penalty
from micrograd_like.nn import Dropout, Layer, Neuron, Sequential
from micrograd_like.ops import get_op
from micrograd_like.optim import SGD
from micrograd_like.torch_bridge import from_torch, to_torch

torch = pytest.importorskip("torch")


def _names(module: object) -> list[str]:
    return [type(m).__name__ for m in module]  # type: ignore[attr-defined]


def _weights(module: object) -> list[float]:
    return [x for p in module.parameters() for x in p.detach().flatten().tolist()]  # type: ignore[attr-defined]


def test_an_mlp_becomes_linear_layers_and_activations_in_float64() -> None:
    m = MLP(2, [4, 3, 1], activation="tanh", rng=0)
    t = m.to_torch()
    assert isinstance(t, torch.nn.Module)
    assert _names(t) == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [(lin.in_features, lin.out_features) for lin in t[::2]] == [(2, 4), (4, 3), (3, 1)]
    assert all(p.dtype == torch.float64 for p in t.parameters())
    # PyTorch's parameter order (weight rows, then bias, layer by layer) holds our numbers
    first = t[0]
    assert first.weight[2, 1].item() == m.layers[0].neurons[2].w[1].data
    assert first.bias[3].item() == m.layers[0].neurons[3].b.data
    for x in ([0.5, -1.0], [2.0, 0.25], [-3.0, 1.5]):
        assert t(torch.tensor(x, dtype=torch.float64)).item() == pytest.approx(
            m(x).data, rel=1e-13, abs=1e-15
        )


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (Neuron(3, nonlin=False, rng=1), ["Linear"]),
        (Neuron(3, "sigmoid", rng=1), ["Linear", "Sigmoid"]),
        (Layer(3, 2, "silu", rng=1), ["Linear", "SiLU"]),
        (Layer(3, 2, get_op("leaky_relu").bind(0.2), rng=1), ["Linear", "LeakyReLU"]),
        (
            MLP(3, [5, 1], activation="elu", rng=1, dropout=0.25),
            ["Linear", "ELU", "Dropout", "Linear"],
        ),
        (
            Sequential(Layer(3, 4, "softplus", rng=1), Dropout(0.1), Layer(4, 2, rng=2)),
            ["Linear", "Softplus", "Dropout", "Linear", "ReLU"],
        ),
    ],
)
def test_each_kind_of_module_maps_and_comes_back(module: object, names: list[str]) -> None:
    t = to_torch(module)  # type: ignore[arg-type]
    assert _names(t) == names
    back = from_torch(t)
    # every weight exactly, in the same order (names follow the new module's structure)
    assert [p.data for p in back.parameters()] == [p.data for p in module.parameters()]  # type: ignore[attr-defined]
    assert _weights(back.to_torch()) == _weights(t)
    t.eval()
    x = [0.3, -0.7, 1.1]
    ours = back.eval().outputs(x)
    theirs = t(torch.tensor(x, dtype=torch.float64)).tolist()
    assert [v.data for v in ours] == pytest.approx(theirs, rel=1e-13, abs=1e-15)


def test_a_torch_network_round_trips_through_an_mlp() -> None:
    torch.manual_seed(0)
    t = torch.nn.Sequential(
        torch.nn.Linear(2, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 1),
    )  # float32, as PyTorch makes it: every float32 is a float64 exactly
    m = MLP.from_torch(t)
    assert repr(m).splitlines()[0] == "MLP(2 -> 8 -> 8 -> 1; 105 parameters)"
    assert [p.data for p in m.parameters()] != []
    assert sorted(_weights(m.to_torch())) == sorted(_weights(t))
    assert _weights(m.to_torch()) == _weights(t)
    assert m.to_torch()[0].weight.dtype == torch.float64


def test_modes_are_carried_both_ways() -> None:
    m = MLP(2, [4, 1], rng=0, dropout=0.5).eval()
    assert not m.to_torch().training
    t = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Dropout(0.2), torch.nn.Linear(3, 1)
    ).eval()
    back = MLP.from_torch(t)
    assert not back.training and back.dropout is not None and back.dropout.p == 0.2


def test_train_side_by_side_and_the_losses_agree_every_step() -> None:
    X, y = make_moons(40, noise=0.1, seed=3, signed=True)
    model = MLP(2, [8, 8, 1], rng=5)
    twin = model.to_torch()
    opt = SGD(model.parameters(), lr=0.1)
    topt = torch.optim.SGD(twin.parameters(), lr=0.1)
    tx = torch.tensor(X, dtype=torch.float64)
    ty = torch.tensor(y, dtype=torch.float64)
    ours, theirs = [], []
    for _ in range(15):
        loss = hinge([model(x) for x in X], y) + l2_penalty(model.parameters(), alpha=1e-3)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ours.append(loss.data)
        scores = twin(tx).squeeze(1)
        tloss = torch.relu(1 - ty * scores).mean() + 1e-3 * sum(
            (p * p).sum() for p in twin.parameters()
        )
        topt.zero_grad()
        tloss.backward()
        topt.step()
        theirs.append(tloss.item())
    assert ours[-1] < ours[0]
    for a, b in zip(ours, theirs, strict=True):
        assert abs(a - b) <= 1e-12
    back = MLP.from_torch(twin)
    assert back.state_dict() == pytest.approx(model.state_dict(), rel=1e-12, abs=1e-13)


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (
            MLP(2, [3, 1], activation="sin", rng=0),
            r"MLP\.to_torch: the activation 'sin' has no torch",
        ),
        (Layer(2, 2, "abs", rng=0), r"Layer\.to_torch: the activation 'abs'"),
    ],
)
def test_what_has_no_torch_counterpart_is_named(module: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        to_torch(module)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: torch.nn.Sequential(torch.nn.Conv1d(1, 1, 2)), r"module 0, Conv1d, has no"),
        (lambda: torch.nn.Linear(2, 3, bias=False), "Linear without a bias"),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()),
            r"module 2, Tanh, must directly follow a Linear",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)),
            "a Linear with 3 outputs feeds one with 4 inputs",
        ),
        (lambda: torch.nn.Sequential(torch.nn.ReLU()), "must directly follow a Linear"),
        (lambda: torch.nn.Sequential(torch.nn.Dropout(0.1)), "holds no Linear layer"),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softplus(beta=2)),
            r"Softplus\(beta=2",
        ),
    ],
)
def test_torch_modules_without_a_counterpart_are_named(build: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        from_torch(build())  # type: ignore[operator]


def test_a_torch_net_of_another_shape_is_a_sequential_not_an_mlp() -> None:
    t = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Linear(3, 3),
        torch.nn.Tanh(),
        torch.nn.Linear(3, 1),
    )
    s = from_torch(t)
    assert isinstance(s, Sequential) and isinstance(s([1.0, 2.0]), Value)
    with pytest.raises(ValueError, match=r"MLP\.from_torch: the module is not an MLP"):
        MLP.from_torch(t)
    with pytest.raises(TypeError, match=r"from_torch: expected a torch\.nn\.Module, got list"):
        from_torch([1, 2])


def test_a_missing_torch_is_an_import_error_that_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    with pytest.raises(ImportError, match=r"MLP\.to_torch: PyTorch is not installed.*\[torch\]"):
        MLP(2, [1], rng=0).to_torch()
    with pytest.raises(ImportError, match=r"from_torch: PyTorch is not installed"):
        MLP.from_torch(object())
