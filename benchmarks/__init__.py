"""Benchmarks comparing hyperparameter search methods at equal budget.

:mod:`benchmarks.tasks` defines the tasks (estimator, search space, data and
ground truth) and :mod:`benchmarks.methods` the search methods, all run through
one interface ``run(task, budget, seed, n_jobs) -> Result``.
"""
