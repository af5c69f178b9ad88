"""
Logging every evaluation to MLflow
==================================

``HarmonicaSearchCV(on_evaluation=...)`` calls a function in the driver each
time a candidate's last fold finishes (evaluations read back from a
``checkpoint=`` store are not reported again).  Here it logs one nested MLflow run
per evaluation (its parameters, resource, stage and phase, and its mean and
per-fold scores) under a parent run for the whole search, in a local SQLite
tracking store (no server needed).

Needs ``pip install -e ".[mlflow]"`` (mlflow-skinny, sqlalchemy, alembic). Run::

    python examples/log_to_mlflow.py [--tracking-dir DIR]

It is shown here without its output: the documentation build does not
install MLflow.
"""

import argparse
import os
import tempfile

from scipy.stats import loguniform
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from harmonica_sklearn import HarmonicaSearchCV


class MlflowLogger:
    """An ``on_evaluation`` hook: one nested MLflow run per evaluation."""

    def __init__(self, mlflow):
        self.mlflow = mlflow
        self.n_logged = 0

    def __call__(self, record):
        with self.mlflow.start_run(nested=True, run_name=f"{record['phase']} {self.n_logged}"):
            self.mlflow.log_params({k: repr(v) for k, v in record["params"].items()})
            self.mlflow.log_params(
                {"n_resources": record["n_resources"], "stage": record["stage"],
                 "phase": record["phase"], "rung": record["rung"]}
            )
            self.mlflow.log_metric("mean_test_score", record["mean_test_score"])
            for fold, score in enumerate(record["split_test_scores"]):
                self.mlflow.log_metric("split_test_score", score, step=fold)
            self.mlflow.log_metric("fit_time", record["fit_time"])
        self.n_logged += 1


def main(tracking_dir, n_iter=24):
    import mlflow

    mlflow.set_tracking_uri("sqlite:///" + os.path.join(tracking_dir, "mlflow.db"))
    mlflow.set_experiment("harmonica-search")
    X, y = load_breast_cancer(return_X_y=True)
    space = {
        "logisticregression__C": loguniform(1e-3, 1e2),
        "logisticregression__class_weight": [None, "balanced"],
        "logisticregression__fit_intercept": [True, False],
    }
    logger = MlflowLogger(mlflow)
    search = HarmonicaSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        space, n_iter=n_iter, cv=3, random_state=0, on_evaluation=logger,
    )
    with mlflow.start_run(run_name="HarmonicaSearchCV"):
        search.fit(X, y)
        mlflow.log_params({k: repr(v) for k, v in search.best_params_.items()})
        mlflow.log_metric("best_score", search.best_score_)
    runs = mlflow.search_runs(search_all_experiments=True)
    print(f"Logged {logger.n_logged} evaluations ({len(runs)} MLflow runs with the "
          f"parent) to {tracking_dir}; best CV score {search.best_score_:.4f}")
    return logger.n_logged, len(runs), search


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Log every evaluation of a search to MLflow, as it finishes."
    )
    parser.add_argument("--tracking-dir", default=None)
    args = parser.parse_args()
    main(args.tracking_dir or tempfile.mkdtemp(prefix="mlflow-"))
