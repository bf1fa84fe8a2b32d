"""Check results as tables: plain text, Jupyter HTML, and the error that lists what failed."""

from __future__ import annotations

import html
import math
from typing import Generic, TypeVar

from micrograd_like._differences import (
    FAILING,
    KINK,
    MISMATCH,
    OK,
    UNCHECKABLE,
    UNRESOLVED,
    VERDICT_COLOURS,
    Check,
    Tolerance,
)

__all__ = ["TABLE_ROWS", "GradcheckError", "Report", "fmt_err", "fmt_num"]

TABLE_ROWS = 100  # a longer table shows only the checks that are not ok


class GradcheckError(AssertionError):
    """Raised by ``raise_if_failed`` when an analytic derivative disagrees with finite
    differences, or could not be verified by them.

    It is an ``AssertionError`` because a failed check is a failed assertion about the code
    under test: pytest reports it as a test failure with the full message, which lists every
    mismatch with its numerical and analytical value, and every derivative that could not be
    checked with the reason.
    """


def fmt_num(x: float) -> str:
    """A value as tables show it: 10 significant digits."""
    return f"{x:.10g}"


def fmt_err(x: float) -> str:
    """An error as tables show it: 2 significant digits, in exponent form."""
    return f"{x:.1e}"


def _verdict_text(c: Check) -> str:
    if c.one_sided is None:
        return c.verdict
    left, right = c.one_sided
    return f"{c.verdict} (slopes {fmt_num(left)} | {fmt_num(right)})"


C = TypeVar("C", bound=Check)


class Report(Generic[C]):
    """What both results share: truthiness, mismatches, the table as text and HTML, raising."""

    checks: list[C]
    _tol: Tolerance
    _columns: tuple[str, ...] = ("derivative",)
    _what = "derivative"

    def __bool__(self) -> bool:
        return not any(c.verdict in FAILING for c in self.checks)

    def mismatches(self) -> list[C]:
        """Every check whose analytic and numeric values disagree, in table order."""
        return [c for c in self.checks if c.verdict == MISMATCH]

    def kinks(self) -> list[C]:
        """Every check at a point where the function is not differentiable."""
        return [c for c in self.checks if c.verdict == KINK]

    def unverified(self) -> list[C]:
        """Every derivative finite differences could not verify, right or wrong, in table order.

        Their verdict is :data:`UNRESOLVED` (the step is below the float resolution at the
        point, or rounding noise is as large as the derivative: a larger ``eps`` may do) or
        :data:`UNCHECKABLE` (``check_graph``: a node on the way to the output has no forward to
        re-evaluate). Any of them makes the result falsy.
        """
        return [c for c in self.checks if c.verdict in (UNRESOLVED, UNCHECKABLE)]

    def _title(self) -> str:
        raise NotImplementedError

    def _cells(self, c: C) -> list[str]:
        return [c.label]

    def _notes(self) -> list[str]:
        return []

    def _mismatch_heading(self, c: C) -> str:
        return f"mismatch for {c.label}"

    def summary(self) -> str:
        """One line: passed or failed, how many derivatives, where, with which tolerances."""
        n = len(self.checks)
        order = (MISMATCH, UNRESOLVED, UNCHECKABLE, OK, KINK)
        counts = [(sum(c.verdict == v for c in self.checks), v) for v in order]
        head = "passed" if self else "FAILED" if self.mismatches() else "NOT VERIFIED"
        what = self._what + ("" if n == 1 else "s")
        tally = ", ".join(f"{k} {v}" for k, v in counts if k)
        return f"{self._title()} {head}: {n} {what}, {tally} ({self._tol.text()})"

    def _shown(self) -> list[C]:
        if len(self.checks) <= TABLE_ROWS:
            return self.checks
        return [c for c in self.checks if c.verdict != OK]

    def _rows(self, shown: list[C]) -> list[list[str]]:
        return [
            [
                *self._cells(c),
                fmt_num(c.analytic),
                fmt_num(c.numeric),
                fmt_err(c.abs_err),
                fmt_err(c.rel_err),
                _verdict_text(c),
            ]
            for c in shown
        ]

    def _headers(self) -> list[str]:
        return [*self._columns, "analytic", "numeric", "abs err", "rel err", "verdict"]

    def __str__(self) -> str:
        shown = self._shown()
        rows, hidden = self._rows(shown), len(self.checks) - len(shown)
        table = [self._headers(), *rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines = [self.summary(), *self._notes()]
        lines += [
            "  ".join(s.ljust(w) for s, w in zip(r, widths, strict=True)).rstrip() for r in table
        ]
        if hidden:
            lines.append(f"... and {hidden} more with verdict ok")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.summary()}>"

    def _repr_html_(self) -> str:
        """The table as HTML for Jupyter, every cell escaped, each row coloured by its verdict."""
        esc = html.escape
        shown = self._shown()
        rows, hidden = self._rows(shown), len(self.checks) - len(shown)
        head = "".join(f"<th>{esc(h)}</th>" for h in self._headers())
        body = "".join(
            f'<tr style="background:{VERDICT_COLOURS[c.verdict]};color:#1f2328">'
            + "".join(f"<td>{esc(s)}</td>" for s in row)
            + "</tr>"
            for c, row in zip(shown, rows, strict=True)
        )
        notes = "".join(f"<p>{esc(n)}</p>" for n in self._notes())
        more = f"<p>... and {hidden} more with verdict ok</p>" if hidden else ""
        return (
            f"<div><p><b>{esc(self.summary())}</b></p>{notes}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</div>"
        )

    def _unverified_reason(self, c: C) -> str:
        if c.verdict == UNCHECKABLE:
            return "a node between it and the output has no forward to re-evaluate (see above)"
        if math.isnan(c.numeric):
            return (
                f"the step eps={self._tol.eps:g} is below the float resolution at the point "
                "(x + eps == x); use a larger eps, about 1e-6 times |x|"
            )
        return (
            f"rounding noise of the difference would excuse an error of {fmt_err(c.allowed)}, "
            "ten times the tolerance and more than 1% of the derivative; the step is too "
            "small for the size of the numbers: use a larger eps, about 1e-6 times |x|"
        )

    def raise_if_failed(self) -> None:
        """Raise :class:`GradcheckError` listing every mismatch and every derivative that could
        not be verified; do nothing if the check passed."""
        if self:
            return
        lines = [self.summary(), *self._notes()]
        for c in self.unverified():
            lines.append(f"{c.label} {c.verdict}: {self._unverified_reason(c)}")
        for c in self.mismatches():
            lines.append(f"{self._mismatch_heading(c)}:")
            lines.append(f"  numerical:  {c.numeric!r}")
            lines.append(f"  analytical: {c.analytic!r}")
            if c.one_sided is not None:
                left, right = c.one_sided
                lines.append(
                    f"  (not differentiable here: one-sided slopes {left!r} and {right!r}, "
                    "and the analytical value is not between them)"
                )
            else:
                lines.append(
                    f"  (abs err {fmt_err(c.abs_err)} > allowed {fmt_err(c.allowed)}:"
                    " atol + rtol * |numerical| + rounding noise of the difference)"
                )
        raise GradcheckError("\n".join(lines))
