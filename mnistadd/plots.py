"""The figures every model folder and the report show. Each function writes one PNG."""

import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mnistadd.io import atomic_path  # noqa: E402


def _save(fig, path, tight=True):
    """Writes the figure to `path` whole or not at all, and closes it."""
    if tight:
        fig.tight_layout()
    with atomic_path(path) as staging:
        fig.savefig(staging, dpi=110)
    plt.close(fig)


def read_history(path):
    """A Keras CSVLogger file as {column: list of floats}."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}


def plot_history(history, metrics, path, title):
    """One panel per metric, training and validation curves per epoch."""
    missing = [metric for metric in metrics if metric not in history]
    if missing:  # an empty panel would hide a renamed metric
        raise KeyError(f"history has no {missing}; its columns: {sorted(history)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes[0], metrics):
        for prefix, label in (("", "training"), ("val_", "validation")):
            if prefix + metric in history:
                ax.plot(epochs, history[prefix + metric], marker=".", label=label)
        ax.set(title=f"{title}: {metric.replace('_', ' ')}", xlabel="epoch", ylabel=metric.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)


def plot_curves(curves, path, title, xlabel, ylabel, x=None):
    """Several runs' curves of one measure, {label: values per epoch, or at the points `x`}, on one panel."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1) if x is None else x, values, marker=".", label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_filters(kernel, path, title):
    """The first convolution's 3x3 filters, (3, 3, 1, F)."""
    filters = kernel[:, :, 0, :]
    cols = 8
    rows = int(np.ceil(filters.shape[-1] / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.25 + 0.5))
    limit = np.abs(filters).max()
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < filters.shape[-1]:
            image = ax.imshow(filters[:, :, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"#{i}", fontsize=8)
    fig.suptitle(title)
    fig.colorbar(image, ax=axes, shrink=0.6, label="weight")
    _save(fig, path, tight=False)  # the colorbar spans the axes: tight_layout would not fit it


def plot_activations(image, activations, path, title, channels=6):
    """The input strip, then the first `channels` feature maps of each named layer."""
    fig, axes = plt.subplots(len(activations) + 1, channels, figsize=(channels * 2.2, (len(activations) + 1) * 1.1 + 0.6))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image, cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    for row, (name, maps) in enumerate(activations.items(), start=1):
        for c in range(min(channels, maps.shape[-1])):
            axes[row, c].imshow(maps[:, :, c], cmap="viridis")
            axes[row, c].set_title(f"{name} ch{c} {maps.shape[0]}x{maps.shape[1]}", fontsize=7)
    fig.suptitle(title)
    _save(fig, path)


def plot_confusion(matrix, labels, path, title, xlabel="predicted", ylabel="true"):
    """A confusion matrix with counts, rows true and columns predicted."""
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(np.log1p(matrix), cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=6,
                    color="white" if count > matrix.max() / 3 else "black")
    ax.set(xticks=range(len(labels)), yticks=range(len(labels)), xticklabels=labels, yticklabels=labels,
           title=title, xlabel=xlabel, ylabel=ylabel)
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    _save(fig, path)


def plot_gallery(images, captions, path, title, cols=4):
    """Strips with a caption each (for example "true 123, read 128")."""
    rows = max(1, int(np.ceil(len(images) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.6, rows * 1.2 + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image, cmap="gray")
        ax.set_title(caption, fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def plot_bars(names, values, path, title, xlabel, ylabel):
    """One bar per experiment, labeled with its value."""
    fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.9), 4))
    bars = ax.bar(range(len(names)), values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, ylim=(min(values) * 0.98, 1.0 if max(values) <= 1 else None))
    _save(fig, path)


def plot_sum_accuracy_against_digits(ours, published, pilot, path):
    """MNIST addition's test sum accuracy against N on a log axis: our models ({N: their test figures}),
    a pilot run's record, DeepProofLog's exact rows of the published table, and the sum accuracy of a
    99.07 % digit reader, 0.9907^(2N), the papers' reference."""
    exact = {int(r["N"]): float(r["sum_accuracy"]) for r in published if r["method"].startswith("DeepProofLog, exact")}
    every_n = np.geomspace(1, 500, 100)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(sorted(ours), [100 * ours[n]["sum_accuracy_mean"] for n in sorted(ours)], "o-", label="mnistadd, models in models/")
    ax.plot([pilot["settings"]["digits"]], [100 * pilot["result"]["test"]["sum_accuracy"]], "*", markersize=14,
            label=f"mnistadd, N = {pilot['settings']['digits']} pilot (one run)")
    ax.plot(sorted(exact), [exact[n] for n in sorted(exact)], "s--", label="DeepProofLog, exact (AAAI 2026)")
    ax.plot(every_n, 100 * 0.9907 ** (2 * every_n), ":", color="gray", label="a 99.07 % digit reader: 0.9907^(2N)")
    ax.set(xscale="log", title="MNIST addition: test sum accuracy against N", xlabel="N, digits in each number (log scale)",
           ylabel="sum accuracy, %")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
