"""
Tune a skorch MLP on the digits dataset
=======================================

A search over seventeen hyperparameters of a small PyTorch multilayer
perceptron wrapped by skorch, in a scikit-learn pipeline (scaler, float32
cast, net).  Four of the hyperparameters do nothing to the fitted model's
accuracy (the prediction batch size, skorch's scoring cache, the prediction
nonlinearity, warm starts of nets that are only fitted once): the report
should give them no importance.

The spectral stages train each candidate for one epoch only
(``spectral_resource=1``: tune small), successive halving then trains the
survivors for 3, 9 and 27 epochs (``resource="max_epochs"``: train big), and
the best pipeline is refitted for 27 epochs.

Needs the torch extra (``pip install "harmonica-sklearn[torch]"``) and
matplotlib for the plot. Run it with::

    python examples/tune_skorch_mlp.py [PLOT_PATH] [--n-jobs N]

It takes a few minutes on two CPU cores. The plot of the importances goes to
PLOT_PATH (default: ``harmonica_skorch_mlp_importances.png`` in the system's
temporary directory).
"""

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
import torch
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from harmonica_sklearn import HarmonicaSearchCV
from harmonica_sklearn.skorch import MLP, TunableNeuralNetClassifier, to_float32

DUMMIES = [
    "net__iterator_valid__batch_size",  # batch size of predictions only
    "net__use_caching",  # caches scoring callbacks' inference; none run here
    "net__predict_nonlinearity",  # softmax or raw logits: same argmax
    "net__warm_start",  # each candidate's net is fitted once, from scratch
]


def build_search(n_jobs, n_iter, random_state):
    net = TunableNeuralNetClassifier(
        MLP,
        module__n_outputs=10,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=27,  # the full resource
        train_split=None,  # the search cross-validates: no inner split
        verbose=0,
        seed=0,  # every candidate trains reproducibly
        num_threads=1,  # one torch thread per worker
        # HarmonicaSearchCV checks param_space's names against get_params(),
        # which lists module__*/optimizer__*/... arguments only when they are
        # set: give every tuned one a default.
        module__n_layers=2,
        module__n_units=64,
        module__dropout=0.0,
        module__activation="relu",
        module__batch_norm=False,
        optimizer__momentum=0.0,  # dropped for Adam and AdamW, which lack it
        optimizer__weight_decay=0.0,
        criterion__label_smoothing=0.0,
        iterator_train__shuffle=True,
        iterator_valid__batch_size=128,
    )
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("cast", FunctionTransformer(to_float32)),  # skorch wants float32
            ("net", net),
        ]
    )
    param_space = {
        "scale": [StandardScaler(), MinMaxScaler(), "passthrough"],
        "net__lr": loguniform(1e-4, 1.0),
        "net__optimizer": [
            torch.optim.SGD,
            torch.optim.Adam,
            torch.optim.AdamW,
            torch.optim.RMSprop,
        ],
        "net__optimizer__momentum": [0.0, 0.5, 0.9, 0.95],
        "net__optimizer__weight_decay": [0.0, 1e-5, 1e-4, 1e-3],
        "net__batch_size": [32, 64, 128, 256],
        "net__module__n_layers": [1, 2, 3],
        "net__module__n_units": [16, 32, 64, 128],
        "net__module__dropout": [0.0, 0.1, 0.3, 0.5],
        "net__module__activation": ["relu", "tanh", "elu", "sigmoid"],
        "net__module__batch_norm": [False, True],
        "net__iterator_train__shuffle": [False, True],
        "net__criterion__label_smoothing": [0.0, 0.1],
        # The dummies:
        "net__iterator_valid__batch_size": [64, 128, 256, 512],
        "net__use_caching": ["auto", False],
        "net__predict_nonlinearity": ["auto", None],
        "net__warm_start": [False, True],
    }
    return HarmonicaSearchCV(
        pipeline,
        param_space,
        n_iter=n_iter,  # budget in 27-epoch evaluations
        cv=2,
        n_jobs=n_jobs,
        random_state=random_state,
        verbose=1,
        resource="net__max_epochs",  # halving over epochs; max: the net's 27
        spectral_resource=1,  # spectral stages train for 1 epoch
    )


def save_plot(search, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib).")
        return
    items = sorted(search.param_importances_.items(), key=lambda kv: kv[1])
    names = [
        name.replace("net__", "") + (" (dummy)" if name in DUMMIES else "")
        for name, _ in items
    ]
    values = [value for _, value in items]
    colors = ["tab:gray" if name in DUMMIES else "tab:blue" for name, _ in items]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.barh(names, values, color=colors)
    for label, color in zip(ax.get_yticklabels(), colors):
        label.set_color("dimgray" if color == "tab:gray" else "black")
    ax.set_xlabel("importance: share of the explained variance")
    ax.set_title("HarmonicaSearchCV on a skorch MLP (digits)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"Importances plot: {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument(
        "plot",
        nargs="?",
        default=os.path.join(tempfile.gettempdir(), "harmonica_skorch_mlp_importances.png"),
        help="where to save the importances plot (PNG)",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-iter", type=int, default=24)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    search = build_search(args.n_jobs, args.n_iter, args.random_state)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Some candidates diverge (sigmoid nets with a large SGD step): that is
        # what the search is for.
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        search.fit(X_train, y_train)
    elapsed = time.perf_counter() - start

    print()
    print(search.report())
    print()
    importances = search.param_importances_
    print("Importance of the parameters that do nothing:")
    for name in DUMMIES:
        print(f"  {name:34s} {importances[name]:.3f}")
    top = sorted(importances.items(), key=lambda kv: -kv[1])[:5]
    print("Most important:", ", ".join(f"{k.replace('net__', '')} {v:.2f}" for k, v in top))
    print()
    print(f"Held-out accuracy of the refitted best pipeline: {search.score(X_test, y_test):.4f}")
    res = search.cv_results_
    epochs = int(np.sum(np.asarray(res["n_resources"]) * search.n_splits_))
    print(
        f"Search time: {elapsed:.1f} s for {len(res['params'])} evaluations "
        f"({search.n_splits_}-fold CV, {epochs} training epochs in all, "
        f"budget spent {search.budget_spent_:.1f} of {search.n_iter} full evaluations)"
    )
    save_plot(search, args.plot)
    return search


if __name__ == "__main__":
    main()
