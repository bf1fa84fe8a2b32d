"""Cross-engine correctness: the same inputs must give the same losses, gradients and chains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TOL = 1e-9
# Who serves as the reference, first available wins.
REFERENCE_ORDER = ("floats", "mgl", "mg", "torch_scalar", "torch_batched")
# tasks whose result holds a chain's output value and gradient
CHAIN_TASKS = ("chain", "chain_paused", "chain_raised", "chain_raised_gcoff", "deep", "deep_paused")


@dataclass(frozen=True)
class Finding:
    """One comparison; a failed fatal one makes run.py exit non-zero, a failed other one warns."""

    engine: str
    what: str
    detail: str
    ok: bool
    fatal: bool = True


def _ok(result: Any) -> bool:
    return isinstance(result, dict) and "error" not in result


def _close(a: float, b: float, tol: float = TOL) -> bool:
    """Equal within tol, absolutely for small numbers and relatively for large ones."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def find(run: dict[str, Any], task: str) -> Any:
    """The result of the first spec of this task (`task` or `task:N`) in one engine's run."""
    for spec, result in run.get("results", {}).items():
        if spec.split(":")[0] == task:
            return result
    return None


def _reference(runs: dict[str, Any], task: str) -> tuple[str, dict[str, Any]] | None:
    for key in REFERENCE_ORDER:
        result = find(runs.get(key, {}), task)
        if _ok(result):
            return key, result
    return None


def check_mlp(runs: dict[str, Any]) -> list[Finding]:
    """Step-0 loss, gradient norm and every gradient against the reference engine."""
    ref = _reference(runs, "mlp_check")
    if ref is None:
        return []
    ref_key, r = ref
    findings = []
    for key, run in runs.items():
        m = find(run, "mlp_check")
        if not _ok(m) or key == ref_key:
            continue
        problems = []
        if m["inputs_digest"] != r["inputs_digest"]:
            problems.append(f"inputs digest {m['inputs_digest']} != {r['inputs_digest']}")
        if not _close(m["loss"], r["loss"]):
            problems.append(f"loss {m['loss']!r} != {r['loss']!r}")
        if not _close(m["grad_norm"], r["grad_norm"]):
            problems.append(f"grad norm {m['grad_norm']!r} != {r['grad_norm']!r}")
        worst = max(abs(a - b) for a, b in zip(m["grads"], r["grads"], strict=True))
        if worst > TOL:
            problems.append(f"largest gradient difference {worst:.3g}")
        detail = "; ".join(problems) or f"largest gradient difference {worst:.1e}"
        findings.append(Finding(key, f"MLP step 0 vs {ref_key}", detail, not problems))
    return findings


def check_chains(runs: dict[str, Any]) -> list[Finding]:
    """Chain output and d out/d x against the first engine that finished the same chain."""
    by_n: dict[int, list[tuple[str, str, dict[str, Any]]]] = {}
    for key in sorted(runs, key=lambda k: REFERENCE_ORDER.index(k) if k in REFERENCE_ORDER else 99):
        for spec, result in runs[key].get("results", {}).items():
            if spec.split(":")[0] in CHAIN_TASKS and _ok(result) and "grad" in result:
                by_n.setdefault(result["n"], []).append((key, spec, result))
    findings = []
    for _, results in sorted(by_n.items()):
        ref_key, ref_spec, ref = results[0]
        for key, spec, result in results[1:]:
            same = _close(result["value"], ref["value"]) and _close(result["grad"], ref["grad"])
            detail = f"value {result['value']!r}, grad {result['grad']!r}"
            if not same:
                detail += f" != {ref['value']!r}, {ref['grad']!r}"
            findings.append(Finding(key, f"{spec} vs {ref_key} {ref_spec}", detail, same))
    return findings


def check_demo(runs: dict[str, Any]) -> list[Finding]:
    """After the demo: same accuracy and, loosely (ReLU kinks amplify rounding), the same loss."""
    ref = _reference(runs, "mlp_demo")
    if ref is None:
        return []
    ref_key, r = ref
    findings = []
    for key, run in runs.items():
        m = find(run, "mlp_demo")
        if not _ok(m) or key == ref_key:
            continue
        same = m["final_accuracy"] == r["final_accuracy"] and _close(
            m["final_loss"], r["final_loss"], 1e-6
        )
        detail = f"final loss {m['final_loss']!r}, accuracy {m['final_accuracy']}"
        if not same:
            detail += f" vs {r['final_loss']!r}, {r['final_accuracy']}"
        findings.append(Finding(key, f"demo end vs {ref_key}", detail, same, fatal=False))
    return findings


# The GPT's losses over its timed steps: bit for bit where two engines do the same float
# operations in the same order, and never further apart than this (relative) where a local
# derivative is rounded in another order (the lean Value stores k x^(k-1) and multiplies by g
# later; micrograd_like's rule computes (g k) x^(k-1)): the Adam steps carry such last-bit
# differences into the next losses.
GPT_TOL = 1e-12


def _bits(a: list[float], b: list[float]) -> tuple[int, float]:
    """How many pairs differ at all, and the largest relative difference."""
    diffs = [abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a, b, strict=True)]
    return sum(x != y for x, y in zip(a, b, strict=True)), max(diffs, default=0.0)


def check_gpt(runs: dict[str, Any]) -> list[Finding]:
    """The microgpt-style step: every engine's losses and step-0 gradients against the lean
    Value's (bit for bit, or within GPT_TOL with the number of differing values said)."""
    ref = find(runs.get("lean", {}), "gpt_check")
    if not _ok(ref):
        return []
    findings = []
    for key, run in runs.items():
        m = find(run, "gpt_check")
        if key == "lean" or not _ok(m):
            continue
        problems = []
        if m["inputs_digest"] != ref["inputs_digest"]:
            problems.append(f"inputs digest {m['inputs_digest']} != {ref['inputs_digest']}")
        n_loss, worst_loss = _bits(m["losses"], ref["losses"])
        n_grad, worst_grad = _bits(m["grads"], ref["grads"])
        if worst_loss > GPT_TOL or worst_grad > GPT_TOL:
            problems.append(f"differ by up to {max(worst_loss, worst_grad):.1e} (> {GPT_TOL:g})")
        same = "bit for bit" if not n_loss else f"{n_loss} differ, by up to {worst_loss:.1e}"
        detail = (
            f"{len(m['losses'])} losses {same} (last {m['losses'][-1]!r}); step-0 gradients: "
            + ("all bit for bit" if not n_grad else f"{n_grad} differ, by up to {worst_grad:.1e}")
        )
        findings.append(
            Finding(key, "GPT steps vs lean", "; ".join([*problems, detail]), not problems)
        )
    return findings


def check_replay(runs: dict[str, Any]) -> list[Finding]:
    """The compiled replay's step-0 loss and gradients: bit for bit the engine's own."""
    run = runs.get("mgl", {})
    replay, engine = find(run, "mlp_replay"), find(run, "mlp_check")
    if not _ok(replay) or not _ok(engine):
        return []
    n_grad = sum(a != b for a, b in zip(replay["grads"], engine["grads"], strict=True))
    same = replay["loss"] == engine["loss"] and not n_grad
    detail = f"loss {replay['loss']!r}; {len(replay['grads'])} gradients, {n_grad} differ"
    return [Finding("mgl", "compiled replay vs backward(), MLP step 0", detail, same)]


def check_all(runs: dict[str, Any]) -> list[Finding]:
    """Every check; any Finding with ok=False means the engines disagree."""
    checks = (check_mlp, check_chains, check_demo, check_gpt, check_replay)
    return [finding for check in checks for finding in check(runs)]
