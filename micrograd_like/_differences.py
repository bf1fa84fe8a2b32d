"""Finite differences and their verdicts: one analytic derivative against a central difference.

The comparison of one derivative (:func:`check_derivative`): the central difference
``(f(x+h) - f(x-h)) / 2h`` (error ``h^2 f'''/6``) is compared with the analytic value within
``atol + rtol * |numeric|`` plus the rounding noise of the difference. Before that, the
one-sided slopes ``(f(x+h) - f(x)) / h`` and ``(f(x) - f(x-h)) / h`` are compared: at a smooth
point they differ by ``h f''(x)``, which shrinks with ``h``; at a kink (``relu`` or ``abs`` at
0) they differ by the jump in the derivative, which does not. Only a gap that survives a ten
times smaller step, well above rounding noise, is a kink, and even then the analytic value
must lie between the two slopes (a subgradient), so a wrong derivative at a smooth point is
never excused as a kink. Where the step is at or below the float spacing at the point, or the
rounding noise is as large as the derivative, agreement proves nothing: the verdict is then
:data:`UNRESOLVED`, never :data:`OK`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from micrograd_like._validate import real

__all__ = [
    "DOMAIN_ERRORS",
    "FAILING",
    "KINK",
    "MISMATCH",
    "OK",
    "UNCHECKABLE",
    "UNRESOLVED",
    "VERDICT_COLOURS",
    "Check",
    "Estimate",
    "Tolerance",
    "abs_rel_errors",
    "check_derivative",
    "make_check",
    "read_tolerance",
    "with_context",
]

OK = "ok"
MISMATCH = "mismatch"
KINK = "not differentiable here"
# the step is below the float resolution at the point, or rounding swamps the derivative
UNRESOLVED = "cannot be checked at this step"
# check_graph: a node between this one and the output has no forward to re-evaluate
UNCHECKABLE = "not checkable"
# verdicts that make a result falsy: the derivative is wrong, or could not be verified
FAILING = (MISMATCH, UNRESOLVED, UNCHECKABLE)
# each verdict's fill in tables and diagrams: light, with dark text, in light and dark themes
VERDICT_COLOURS = {
    OK: "#d3f9d8",
    MISMATCH: "#ffc9c9",
    KINK: "#ffe8cc",
    UNRESOLVED: "#e5dbff",
    UNCHECKABLE: "#e9ecef",
}

# what an op raises outside its domain, at a shifted point or in a backward pass
DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
# f(x), f(x+h), f(x-h) each carry a few ulps of rounding; a one-sided slope can therefore be
# off by about this times max|f| / h without any error in f
_ROUNDING = 8 * 2.0**-52
_SHRINK = 10.0  # the second, finer step is h / _SHRINK
# A pass may rest on rounding allowance beyond the tolerance only up to _LOOSEN times the
# tolerance or _RESOLUTION of the derivative, whichever is larger; past both the difference
# cannot tell a right derivative from a 50% wrong one
_LOOSEN = 10.0
_RESOLUTION = 0.01
# the function along one coordinate: phi(t) is f with that coordinate moved by t
Phi = Callable[[float], float]


@dataclass(frozen=True)
class Tolerance:
    """The step and tolerances of one check: ``eps``, ``atol`` and ``rtol``, validated."""

    eps: float
    atol: float
    rtol: float

    def allowed(self, reference: float) -> float:
        """The tolerance for a derivative of size ``reference``: ``atol + rtol * |reference|``."""
        return self.atol + self.rtol * abs(reference)

    def text(self) -> str:
        """The settings as the summary line shows them."""
        return f"eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}"


def read_tolerance(where: str, eps: object, atol: object, rtol: object) -> Tolerance:
    """Validate the settings given to ``where`` (finite, eps > 0, atol and rtol >= 0)."""
    return Tolerance(
        real(eps, f"{where}: eps", above=0.0),
        real(atol, f"{where}: atol", at_least=0.0),
        real(rtol, f"{where}: rtol", at_least=0.0),
    )


@dataclass(frozen=True)
class Check:
    """One analytic derivative next to its finite-difference estimate, and the verdict.

    ``label`` names the derivative (``df/dx``, ``d²f/dx dy``). ``abs_err`` is
    ``|analytic - numeric|`` and ``rel_err`` is that over ``|numeric|``. ``verdict`` is
    :data:`OK`, :data:`MISMATCH`, :data:`KINK`, :data:`UNRESOLVED` or :data:`UNCHECKABLE`; for
    a kink ``one_sided`` holds the left and right slopes (``None`` otherwise) and ``numeric``
    is the central difference between them. ``allowed`` is the largest ``abs_err`` that
    passes: ``atol + rtol * |numeric|`` plus the rounding noise of the central difference
    itself (a few ulps of ``f`` over the step), so a check never demands more precision than
    finite differences can give. Where that noise exceeds ten times the tolerance and 1% of the
    derivative (a step near the float spacing at the point, ``eps=1e-16`` or ``|x| >= 1e10``
    with the default step), agreement proves nothing and the verdict is :data:`UNRESOLVED`
    ("cannot be checked at this step"); a step that vanishes (``x + eps == x``) gives it too,
    with ``numeric`` NaN. A disagreement beyond even that noise is still a mismatch.
    """

    label: str
    analytic: float
    numeric: float
    abs_err: float
    rel_err: float
    verdict: str
    one_sided: tuple[float, float] | None
    allowed: float


def abs_rel_errors(analytic: float, numeric: float) -> tuple[float, float]:
    """``|analytic - numeric|`` and that over ``|numeric|`` (0 or inf where ``numeric`` is 0)."""
    abs_err = abs(analytic - numeric)
    if numeric != 0.0:
        return abs_err, abs_err / abs(numeric)
    return abs_err, 0.0 if abs_err == 0.0 else math.inf


def _slopes(phi: Phi, x0: float, f0: float, h: float) -> tuple[float, float, float, float] | None:
    """Left and right slopes, the central difference, and the rounding noise of a slope.

    The steps are the ones the floats actually take: ``x0 + h`` rounds to a neighbour of
    ``x0``, so the step up is ``(x0 + h) - x0`` (exact) and the step down likewise; dividing
    by ``h`` instead would be wrong by up to a factor of two where ``h`` is near the float
    spacing at ``x0``. ``None`` if a step vanishes (``x0 + h == x0``).
    """
    up, down = (x0 + h) - x0, x0 - (x0 - h)
    if not (up > 0.0 and down > 0.0):
        return None
    fm, fp = phi(-down), phi(up)
    noise = _ROUNDING * max(abs(f0), abs(fm), abs(fp)) / min(up, down)
    return (f0 - fm) / down, (fp - f0) / up, (fp - fm) / (up + down), noise


class Estimate(NamedTuple):
    """What :func:`check_derivative` finds: the numeric value, the verdict and its allowance."""

    numeric: float
    verdict: str
    sides: tuple[float, float] | None  # the one-sided slopes at a kink
    allowed: float  # the largest |analytic - numeric| that passes


def check_derivative(analytic: float, phi: Phi, x0: float, f0: float, tol: Tolerance) -> Estimate:
    """Compare ``analytic`` with the finite-difference estimate of d phi / dt at t = 0.

    ``phi(t)`` is the function with one coordinate, ``x0`` at the point, moved by ``t``;
    ``f0 = phi(0)``.
    """
    coarse = _slopes(phi, x0, f0, tol.eps)
    if coarse is None:  # x0 + eps == x0: no difference can be formed at all
        return Estimate(math.nan, UNRESOLVED, None, math.inf)
    left, right, numeric, noise = coarse
    gap = right - left
    fine = None
    if abs(gap) > tol.allowed(max(abs(left), abs(right))) + 2.0 * noise:
        # the slopes part: curvature (the gap is h f'' and shrinks with h), a kink within h
        # of the point (the finer step no longer sees it), or a kink at the point itself
        fine = _slopes(phi, x0, f0, tol.eps / _SHRINK)
    if fine is not None:
        left, right, numeric, noise = fine
        fine_gap = right - left
        if (
            abs(fine_gap) > tol.allowed(max(abs(left), abs(right))) + 2.0 * noise
            and fine_gap * gap > 0.0
            and abs(fine_gap) > 0.5 * abs(gap)
        ):
            # the jump stays as the step shrinks: not differentiable here. The analytic value
            # must still be a subgradient, between the one-sided slopes.
            lo, hi = min(left, right), max(left, right)
            inside = lo - tol.allowed(lo) <= analytic <= hi + tol.allowed(hi)
            allowed = tol.allowed(numeric) + 0.5 * noise
            return Estimate(numeric, KINK if inside else MISMATCH, (left, right), allowed)
    estimate = _judge(analytic, numeric, noise, tol)
    if fine is not None and estimate.verdict == UNRESOLVED:
        # the finer step (taken to look for a kink) has ten times the rounding noise; with no
        # kink found, the ordinary step may still resolve the derivative
        estimate = _judge(analytic, coarse[2], coarse[3], tol)
    return estimate


def _judge(analytic: float, numeric: float, noise: float, tol: Tolerance) -> Estimate:
    """The verdict on ``analytic`` next to a central difference ``numeric`` at a smooth point."""
    # the central difference carries half a one-sided slope's rounding noise
    rounding = 0.5 * noise
    allowed = tol.allowed(numeric) + rounding
    if not abs(analytic - numeric) <= allowed:  # True for NaN
        return Estimate(numeric, MISMATCH, None, allowed)
    # Agreement only counts if the difference resolves the derivative: where the step is near
    # the float spacing at the point (or f is huge next to its change), rounding alone could
    # excuse an error as large as the derivative. A pass that rests on far more rounding
    # allowance than the tolerance asked for and than _RESOLUTION of the derivative proves
    # nothing.
    if rounding > max(
        _LOOSEN * tol.allowed(numeric), _RESOLUTION * max(abs(numeric), abs(analytic))
    ):
        return Estimate(numeric, UNRESOLVED, None, allowed)
    return Estimate(numeric, OK, None, allowed)


def make_check(label: str, analytic: float, e: Estimate) -> Check:
    """The :class:`Check` of derivative ``label``: its analytic value next to the estimate."""
    return Check(
        label,
        analytic,
        e.numeric,
        *abs_rel_errors(analytic, e.numeric),
        e.verdict,
        e.sides,
        e.allowed,
    )


def with_context(where: str, run: Callable[[], Any], what: str) -> Any:
    """Return ``run()``; a domain error in it becomes one ``ValueError`` naming ``where`` and
    ``what`` failed (an op evaluated at a shifted point, or a backward pass)."""
    try:
        return run()
    except DOMAIN_ERRORS as err:
        raise ValueError(f"{where}: {what}: {type(err).__name__}: {err}") from err
