"""
Tuning a plain Python function by ask and tell
==============================================

:class:`~harmonica_sklearn.HarmonicaOptimizer` runs the Harmonica algorithm
without scikit-learn's cross-validation: it proposes a batch of candidates
(``ask``), you score them however you like, and it learns from the scores
(``tell``). Here the "training run" is a synthetic, noisy function of seven
hyperparameters: three that matter (a learning rate, a width and an
activation, with an interaction between the width and dropout) and three that
do nothing.

Each candidate also carries a resource, the number of "epochs": with
``max_resources=27`` the spectral stages score their candidates after 9
epochs and successive halving promotes the best ones from 3 to 9 to 27. A
short run is noisier and scores lower, as a real one would. Learning rates
above 0.3 "diverge": the function returns NaN, which the optimizer treats as
a failed evaluation.

Run it with ``python examples/ask_tell_function.py`` (a few seconds; it warns about the NaN scores).
"""

import numpy as np
from scipy.stats import loguniform

from harmonica_sklearn import HarmonicaOptimizer

# %%
# The objective
# -------------
# Greater is better. The best setting is a learning rate near 0.01, a width
# of 64, ``activation="gelu"`` and the largest dropout (dropout helps the
# wide networks and hurts the narrow ones: an interaction). ``seed``,
# ``log_every`` and ``use_cache`` change nothing.

noise = np.random.default_rng(0)


def train(learning_rate, width, activation, dropout, seed, log_every, use_cache,
          epochs):
    if learning_rate > 0.3:
        return float("nan")  # diverged
    score = 1.0
    score -= 0.15 * (np.log10(learning_rate) + 2) ** 2
    score -= 0.05 * abs(np.log2(width) - 6)
    score += {"relu": 0.0, "gelu": 0.1, "tanh": -0.15}[activation]
    score += 0.1 * dropout if width >= 64 else -0.5 * dropout
    # A shorter run reaches less of its score, and is noisier.
    score *= 1 - 0.3 / epochs
    return score + noise.normal(0, 0.02 * np.sqrt(27 / epochs))


space = {
    "learning_rate": loguniform(1e-5, 1.0),
    "width": [8, 16, 32, 64, 128, 256],
    "activation": ["relu", "gelu", "tanh"],
    "dropout": [0.0, 0.1, 0.3, 0.5],
    # Dummies: they cannot change the score.
    "seed": [0, 1, 2, 3],
    "log_every": [10, 100],
    "use_cache": [True, False],
}

# %%
# The loop
# --------
# ``ask`` returns a list of dicts, one per candidate; with ``max_resources``
# set each holds the resource under the key named by ``resource``.
# ``tell`` takes the same list and one score per candidate. ``done``
# becomes True when the budget, ``n_iter=100`` evaluations at full resource
# (an evaluation at 9 epochs counts as 9/27 of one), is spent.
opt = HarmonicaOptimizer(
    space, n_iter=100, max_resources=27, resource="epochs", random_state=0
)
while not opt.done:
    batch = opt.ask()
    scores = [train(**candidate) for candidate in batch]
    opt.tell(batch, scores)

# %%
# The answer
# ----------
# ``best_params_`` is the best candidate evaluated at the full resource (27
# epochs), without the resource key; ``best_score_`` is its score.
print("best parameters:", opt.best_params_)
print(f"best score: {opt.best_score_:.4f}")
print(f"budget spent: {opt.budget_spent_:.1f} of n_iter=100 full evaluations")

# %%
# What it did
# -----------
# ``history_`` holds every evaluation in the order it was told; each knows
# its batch (phase, stage, rung, resource). After a spectral stage, the best
# candidate seen so far is evaluated at full resource (phase "confirm") when
# it beats the ones confirmed before, so the run holds an answer from its
# first stage on. The NaN scores made the optimizer warn after the stages
# that had them; they count as worse than every finite score.
from collections import Counter

batches = Counter(
    (e.batch.phase, e.batch.stage, e.resource) for e in opt.history_
)
for (phase, stage, epochs), n in batches.items():
    print(f"{phase:>9} stage {stage}: {n:3d} evaluations at {epochs:2d} epochs")
failed = sum(not np.isfinite(e.score) for e in opt.history_)
print(f"{failed} of {len(opt.history_)} evaluations failed (NaN)")

# %%
# What each stage kept, and which hyperparameters mattered (each one's share
# of the effects the stages measured; the dummies should get little or
# nothing):
for stage in opt.stages_:
    print(f"stage {stage.stage}: kept {stage.restriction}")
for name, share in sorted(opt.param_importances_.items(), key=lambda kv: -kv[1]):
    print(f"{name:>14}: {share:.2f}")
