"""Extrapolate a partial learning curve with a weighted ensemble of parametric curve models.

The approach of Domhan, Springenberg & Hutter (IJCAI 2015), as NNI's curve-fitting assessor applies it:

1. fit each parametric family below to the observed points by least squares (``scipy.optimize.curve_fit``);
2. keep the families that fit (root-mean-square error at most twice the best family's, or 1% of the curve's
   scale) and whose predictions at the target are sane: finite, and near the consensus of the others (within
   three robust standard deviations, from the median absolute deviation, of the median prediction);
3. sample ensemble weights by Metropolis-Hastings (a random walk on log-weights, so weights stay positive) under
   a Gaussian likelihood of the observed points (noise variance profiled out) and a prior that keeps the
   combined curve increasing from the first observed point to the target;
4. predict the mean of the sampled ensembles at the target.

``predict_final`` returns None when fewer than ``MIN_MODELS`` families survive: the curve is too short or too
odd to extrapolate. Everything is deterministic for a given ``seed``. numpy and scipy are imported here, so import
this module only when a prediction is needed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from scipy import optimize

MIN_MODELS = 4          # fewer surviving families than this: no prediction
MCMC_CHAINS = 10
MCMC_STEPS = 150
MCMC_BURN_IN = 50
MCMC_STEP_SIZE = 0.5    # proposal spread on the log-weights
LOG_WEIGHT_PRIOR_SD = 2.0


@dataclass(frozen=True)
class CurveFamily:
    name: str
    func: Callable[..., np.ndarray]
    initial: Callable[[np.ndarray, np.ndarray], Tuple[float, ...]]   # (x, y) -> a starting guess


def _shape(x, y):
    """Common quantities for starting guesses: first and last value, a positive span, the middle x."""
    first, last = float(y[0]), float(y[-1])
    span = max(abs(last - first), 1e-3 * max(abs(last), 1.0))
    return first, last, span, float(np.median(x))


def _init_vap(x, y):
    if np.all(y > 0):     # log y = a + b/x + c log x is linear in (a, b, c)
        design = np.column_stack([np.ones_like(x), 1.0 / x, np.log(x)])
        coef, *_ = np.linalg.lstsq(design, np.log(y), rcond=None)
        return tuple(float(c) for c in coef)
    return (0.0, -0.5, 0.0)


def _init_pow3(x, y):
    first, last, span, _ = _shape(x, y)
    return (last + 0.1 * span, last + 0.1 * span - first, 0.5)


def _init_linear(x, y):
    a, b = np.polyfit(x, y, 1)
    return (float(a), float(b))


def _init_logx_linear(x, y):
    a, b = np.polyfit(np.log(x), y, 1)
    return (float(a), float(b))


def _init_hill(x, y):
    first, last, span, mid = _shape(x, y)
    return (last + 0.1 * span, 1.0, mid)


def _init_log_power(x, y):
    first, last, span, mid = _shape(x, y)
    return (last + 0.1 * span, float(np.log(mid)), -1.0)


def _init_pow4(x, y):
    first, last, span, _ = _shape(x, y)
    c = last + 0.1 * span
    return (1.0, 1.0 / max(c - first, 1e-6), 0.0, c)


def _init_mmf(x, y):
    first, last, span, mid = _shape(x, y)
    return (last + 0.1 * span, first - 0.1 * span, 1.0 / mid, 1.0)


def _init_exp4(x, y):
    first, last, span, mid = _shape(x, y)
    c = last + 0.1 * span
    a = 1.0 / mid
    return (c, a, float(np.log(max(c - first, 1e-6))) + a, 1.0)


def _init_ilog2(x, y):
    first, last, span, _ = _shape(x, y)
    c = last + 0.1 * span
    return (c, (c - first) * float(np.log(x[0] + 1.0)))


def _init_saturating(x, y):   # weibull and janoschek: (asymptote, start, rate, shape)
    first, last, span, mid = _shape(x, y)
    return (last + 0.1 * span, first - 0.1 * span, 1.0 / mid, 1.0)


FAMILIES: Tuple[CurveFamily, ...] = (
    CurveFamily("vap", lambda x, a, b, c: np.exp(a + b / x + c * np.log(x)), _init_vap),
    CurveFamily("pow3", lambda x, c, a, alpha: c - a * x ** (-alpha), _init_pow3),
    CurveFamily("linear", lambda x, a, b: a * x + b, _init_linear),
    CurveFamily("logx_linear", lambda x, a, b: a * np.log(x) + b, _init_logx_linear),
    CurveFamily("hill", lambda x, theta, eta, kappa: theta * x ** eta / (kappa ** eta + x ** eta), _init_hill),
    CurveFamily("log_power", lambda x, a, b, c: a / (1.0 + (x / np.exp(b)) ** c), _init_log_power),
    CurveFamily("pow4", lambda x, alpha, a, b, c: c - (a * x + b) ** (-alpha), _init_pow4),
    CurveFamily("mmf", lambda x, alpha, beta, kappa, delta:
                alpha - (alpha - beta) / (1.0 + (kappa * x) ** delta), _init_mmf),
    CurveFamily("exp4", lambda x, c, a, b, alpha: c - np.exp(-a * x ** alpha + b), _init_exp4),
    CurveFamily("ilog2", lambda x, c, a: c - a / np.log(x + 1.0), _init_ilog2),
    CurveFamily("weibull", lambda x, alpha, beta, kappa, delta:
                alpha - (alpha - beta) * np.exp(-(kappa * x) ** delta), _init_saturating),
    CurveFamily("janoschek", lambda x, a, beta, k, delta:
                a - (a - beta) * np.exp(-k * x ** delta), _init_saturating),
)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)


def _n_params(family: CurveFamily) -> int:
    return family.func.__code__.co_argcount - 1


def fit_families(x: np.ndarray, y: np.ndarray) -> Dict[str, np.ndarray]:
    """Least-squares parameters of every family that can be fitted (more points than parameters, converged,
    finite on the observed points)."""
    fitted = {}
    for family in FAMILIES:
        if len(x) <= _n_params(family):
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                p0 = family.initial(x, y)
                params, _ = optimize.curve_fit(family.func, x, y, p0=p0, maxfev=50 * (len(p0) + 1))
            except (RuntimeError, ValueError, TypeError, FloatingPointError, ZeroDivisionError,
                    OverflowError, np.linalg.LinAlgError, optimize.OptimizeWarning):
                continue
            if np.all(np.isfinite(params)) and np.all(np.isfinite(family.func(x, *params))):
                fitted[family.name] = params
    return fitted


def _evaluate(name: str, params: np.ndarray, x) -> np.ndarray:
    family = FAMILIES[FAMILY_NAMES.index(name)]
    with np.errstate(all="ignore"):
        return np.asarray(family.func(np.asarray(x, dtype=float), *params), dtype=float)


def select_families(x: np.ndarray, y: np.ndarray, fitted: Dict[str, np.ndarray], target: float):
    """Names, observed-point predictions (k x n) and target predictions (k) of the families that fit and agree."""
    if not fitted:
        return [], np.empty((0, len(x))), np.empty(0)
    names = list(fitted)
    on_points = np.array([_evaluate(n, fitted[n], x) for n in names])
    at_target = np.array([float(_evaluate(n, fitted[n], [target])[0]) for n in names])
    rmse = np.sqrt(np.mean((on_points - y) ** 2, axis=1))
    scale = max(float(np.max(np.abs(y))), 1e-12)
    fit_ok = np.isfinite(at_target) & (rmse <= max(2.0 * float(np.min(rmse)), 0.01 * scale))
    if not fit_ok.any():
        return [], np.empty((0, len(x))), np.empty(0)
    median = float(np.median(at_target[fit_ok]))
    spread = 1.4826 * float(np.median(np.abs(at_target[fit_ok] - median)))   # robust standard deviation
    window = max(3.0 * spread, 1e-3 * scale)
    keep = fit_ok & (np.abs(at_target - median) <= window)
    return [n for n, k in zip(names, keep) if k], on_points[keep], at_target[keep]


def _log_posterior(log_weights: np.ndarray, on_points: np.ndarray, at_first: np.ndarray, at_target: np.ndarray,
                   y: np.ndarray) -> np.ndarray:
    """Per chain (a row of unnormalised log-weights, chains x k): Gaussian log-likelihood of the observed points
    with the noise variance profiled out, plus a N(0, LOG_WEIGHT_PRIOR_SD^2) prior on each log-weight; -inf where
    the combined curve does not increase from the first observed point to the target."""
    weights = _normalise(log_weights)
    combined = weights @ on_points
    sigma_sq = np.maximum(np.mean((combined - y) ** 2, axis=1), 1e-12)
    log_lik = -0.5 * len(y) * (np.log(2 * np.pi * sigma_sq) + 1.0)
    log_prior = -0.5 * np.sum((log_weights / LOG_WEIGHT_PRIOR_SD) ** 2, axis=1)
    rising = weights @ at_first < weights @ at_target
    return np.where(rising, log_lik + log_prior, -np.inf)


def _normalise(log_weights: np.ndarray) -> np.ndarray:
    w = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def sample_prediction(on_points: np.ndarray, at_first: np.ndarray, at_target: np.ndarray, y: np.ndarray,
                      rng: np.random.Generator) -> float:
    """Mean prediction at the target over Metropolis-Hastings samples of the ensemble weights (a Gaussian
    random walk on log-weights, so weights stay positive; chains start from equal weights)."""
    k = len(at_target)
    log_weights = np.zeros((MCMC_CHAINS, k))
    current = _log_posterior(log_weights, on_points, at_first, at_target, y)
    if not np.isfinite(current[0]):
        # equal weights already break the prior (the ensemble falls): no sampling, the plain average predicts
        return float(np.mean(at_target))
    kept = []
    for step in range(MCMC_STEPS):
        proposal = log_weights + rng.normal(0.0, MCMC_STEP_SIZE, size=log_weights.shape)
        candidate = _log_posterior(proposal, on_points, at_first, at_target, y)
        accept = np.log(rng.random(MCMC_CHAINS)) < candidate - current
        log_weights = np.where(accept[:, None], proposal, log_weights)
        current = np.where(accept, candidate, current)
        if step >= MCMC_BURN_IN:
            kept.append(_normalise(log_weights) @ at_target)
    return float(np.mean(kept))


def predict_final(steps: Sequence[float], values: Sequence[float], target: float, seed: int = 0) -> Optional[float]:
    """Predicted value at x = ``target`` from points ``(steps[i], values[i])`` (x >= 1, finite values), or None
    when the curve cannot be extrapolated with confidence."""
    x = np.asarray(steps, dtype=float)
    y = np.asarray(values, dtype=float)
    if len(x) < 2 or np.any(x <= 0) or not np.all(np.isfinite(y)):
        return None
    fitted = fit_families(x, y)
    names, on_points, at_target = select_families(x, y, fitted, target)
    if len(names) < MIN_MODELS:
        return None
    at_first = np.array([float(_evaluate(n, fitted[n], [x[0]])[0]) for n in names])
    prediction = sample_prediction(on_points, at_first, at_target, y, np.random.default_rng(seed))
    return prediction if np.isfinite(prediction) else None
