"""Conventional classifiers on the circuit's own splits: what the data allow.

Question: how much accuracy do the training images of a split buy a
non-spiking learner, and where does a random or CSDP-trained circuit stand
against it? Each seed uses exactly the circuit's split (the same training
images, the seed's dev images held out, the same test images) and fits:

* ``logistic_pixels``: logistic regression on the raw pixels (standardised),
* ``knn3``: 3 nearest neighbours on the pixels,
* ``svm_rbf``: a support vector machine with a Gaussian kernel (C = 10),
* ``mlp_<sizes>``: a multilayer perceptron of the circuit's hidden sizes
  (ReLU, Adam, backpropagation; e.g. 784-3000-600), trained until its dev
  accuracy stops improving (the dev split picks its epoch, as it picks the
  circuit's); the error-backpropagation ceiling for a network of that shape.

Results go to ``OUT/reference_classifiers.json`` (test and dev accuracy per
classifier and seed, with the package versions and git revision) and a
Markdown table ``OUT/summary.md`` (mean +- sd over seeds).

Run (mnist5k, the paper's hidden sizes, 3 seeds; about 10 minutes on one
core)::

    python protocols/reference_classifiers.py --dataset mnist5k --hidden 3000 600 \\
        --seeds 0 1 2 --out runs/reference_classifiers_mnist5k
"""

import argparse
import os
import time

import numpy as np

from brian_edff.checkpoint import provenance, write_json, write_text
from brian_edff.datasets import DataError, load_dataset


def classifiers(hidden: tuple, seed: int) -> dict:
    """The scikit-learn estimators, by name, seeded."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    mlp = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="adam",
                        alpha=1e-4, batch_size=64, learning_rate_init=1e-3,
                        max_iter=1, warm_start=True, random_state=seed)
    return {
        "logistic_pixels": make_pipeline(StandardScaler(),
                                         LogisticRegression(max_iter=2000, random_state=seed)),
        "knn3": KNeighborsClassifier(n_neighbors=3),
        "svm_rbf": SVC(C=10.0, gamma="scale", random_state=seed),
        "mlp_" + "-".join(str(n) for n in hidden): mlp,
    }


def fit_by_dev(model, data, max_epochs: int, patience: int) -> tuple:
    """Train a warm-started MLP one epoch at a time; keep the best dev epoch.

    Returns (test accuracy at the best dev epoch, best dev accuracy, best epoch).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    best = (-1.0, None, 0)
    for epoch in range(1, max_epochs + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(data.train_x, data.train_y)
        dev = model.score(data.dev_x, data.dev_y)
        if dev > best[0]:
            best = (dev, model.score(data.test_x, data.test_y), epoch)
        elif epoch - best[2] >= patience:
            break
    return best[1], best[0], best[2]


def evaluate_seed(dataset: str, hidden: tuple, seed: int, max_epochs: int,
                  patience: int) -> dict:
    """Test and dev accuracy of every classifier on one seed's split."""
    data = load_dataset(dataset, seed)
    results = {}
    for name, model in classifiers(hidden, seed).items():
        start = time.perf_counter()
        if name.startswith("mlp_"):
            test, dev, epoch = fit_by_dev(model, data, max_epochs, patience)
        else:
            model.fit(data.train_x, data.train_y)
            test, dev, epoch = (model.score(data.test_x, data.test_y),
                                model.score(data.dev_x, data.dev_y), None)
        results[name] = {"test_accuracy": float(test), "dev_accuracy": float(dev),
                         "best_epoch": epoch,
                         "seconds": round(time.perf_counter() - start, 1)}
        print(f"seed {seed} {name}: test {100 * test:.1f} %, dev {100 * dev:.1f} %",
              flush=True)
    return results


def summary_table(per_seed: dict) -> str:
    """Markdown: mean +- sd of the test accuracy over seeds, per classifier."""
    names = list(next(iter(per_seed.values())))
    lines = ["| classifier | seeds | test accuracy % | dev accuracy % |", "|---|---|---|---|"]
    for name in names:
        test = 100 * np.array([r[name]["test_accuracy"] for r in per_seed.values()])
        dev = 100 * np.array([r[name]["dev_accuracy"] for r in per_seed.values()])
        lines.append(f"| {name} | {len(test)} | {test.mean():.1f} +- {test.std():.1f} | "
                     f"{dev.mean():.1f} +- {dev.std():.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist5k",
                        help="digits, mnist5k or idx:DIR (MNIST, Fashion-MNIST, KMNIST)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[3000, 600],
                        help="hidden sizes of the MLP (the circuit's z1 z2)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=10,
                        help="stop the MLP after this many epochs without a better dev score")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if any(n <= 0 for n in args.hidden):
        parser.error(f"--hidden: sizes must be positive, got {args.hidden}")
    try:
        per_seed = {seed: evaluate_seed(args.dataset, tuple(args.hidden), seed,
                                        args.max_epochs, args.patience)
                    for seed in args.seeds}
    except DataError as err:  # nothing is written before the data load
        parser.error(str(err))
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "reference_classifiers.json"),
               {"config": vars(args), "provenance": provenance(),
                "results": {str(k): v for k, v in per_seed.items()}})
    table = summary_table(per_seed)
    write_text(os.path.join(args.out, "summary.md"), table)
    print(table)


if __name__ == "__main__":
    main()
