"""mnistadd.plots: a history plot asked for a metric the history lacks writes nothing."""

import pytest

from mnistadd import plots


def test_history_plot_refuses_a_missing_metric(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "positions_number_accuracy": [0.5, 0.9]}
    with pytest.raises(KeyError, match="number_accuracy"):
        plots.plot_history(history, ["loss", "number_accuracy"], tmp_path / "h.png", "Reader")
    assert not (tmp_path / "h.png").exists()
