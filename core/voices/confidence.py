"""How sure a word decision is, and when to say "no good match" instead of naming a word.

A clip's scores are the cosines between its encoding and every type centroid. Two numbers carry
the decision's reliability: the best cosine (how close the clip is to any word at all) and the
margin to the second best (how clearly it is that word rather than another). `Calibration` maps
them to a probability that the first word is right (logistic regression, fitted on held-out real
speech), and declares "no good match" when the best cosine is below what nearly every right
answer on that held-out speech reached (`no_match_below`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.errors import WordbridgeError


@dataclass(frozen=True)
class Calibration:
    """p(right) = sigmoid(w_best·best + w_margin·margin + bias); `no_match_below` on `best`."""

    w_best: float = 0.0
    w_margin: float = 0.0
    bias: float = 0.0
    no_match_below: float = -1.0
    fitted_on: str = ""

    def probability(self, best, margin) -> np.ndarray:
        """Calibrated probability that the first word is right (array or scalar inputs)."""
        z = self.w_best * np.asarray(best, dtype=np.float64) + self.w_margin * np.asarray(margin, dtype=np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def no_match(self, best) -> np.ndarray:
        """True where the clip is farther from every word than right answers are."""
        return np.asarray(best) < self.no_match_below

    def to_dict(self) -> dict:
        """Plain dict (stored in the encoder's config)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Calibration | None":
        """Rebuild from `to_dict` output; None stays None."""
        if not data:
            return None
        try:
            return cls(**{k: (str(v) if k == "fitted_on" else float(v)) for k, v in data.items()})
        except (TypeError, ValueError) as exc:
            raise WordbridgeError(f"stored confidence calibration is malformed ({exc})") from None


def best_and_margin(sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(best cosine, best − second best) of each row of a `[n, V]` similarity matrix (V ≥ 2)."""
    sims = np.asarray(sims, dtype=np.float32)
    if sims.ndim != 2 or sims.shape[1] < 2:
        raise WordbridgeError(f"need scores against at least two words, got shape {sims.shape}")
    top2 = -np.partition(-sims, 1, axis=1)[:, :2]
    return top2[:, 0], top2[:, 0] - top2[:, 1]


def fit_calibration(best: np.ndarray, margin: np.ndarray, right: np.ndarray, fitted_on: str,
                    keep_rate: float = 0.98, iters: int = 50, l2: float = 1e-3) -> Calibration:
    """Fit the logistic map by Newton's method (3 parameters) and the no-match threshold: the best
    cosine that `keep_rate` of the right answers reach. Needs right and wrong examples."""
    best, margin = np.asarray(best, np.float64), np.asarray(margin, np.float64)
    y = np.asarray(right, dtype=np.float64)
    if y.size < 10 or y.min() == y.max():
        raise WordbridgeError("calibration needs at least 10 clips with both right and wrong answers")
    x = np.stack([best, margin, np.ones_like(best)], axis=1)
    w = np.zeros(3)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(3)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    threshold = float(np.quantile(best[y > 0], 1.0 - keep_rate))
    return Calibration(float(w[0]), float(w[1]), float(w[2]), threshold, fitted_on)


def reliability(prob: np.ndarray, right: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error and per-bin (mean probability, share right, count)."""
    prob, right = np.asarray(prob, np.float64), np.asarray(right, np.float64)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(prob, edges) - 1, 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            table.append([round(float(prob[sel].mean()), 4), round(float(right[sel].mean()), 4), int(sel.sum())])
            ece += sel.mean() * abs(prob[sel].mean() - right[sel].mean())
    return {"ece": round(float(ece), 4), "bins": table}
