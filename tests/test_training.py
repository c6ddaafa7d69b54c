"""mnistadd.training: the int8 copy that is saved and back to float, and early stopping and the checkpoint
going on from an interrupted run."""

import keras
import numpy as np

from conftest import random_strips
from mnistadd.reader import build_reader
from mnistadd.training import copy_weights, inference_copy, training_callbacks


def test_a_saved_model_reads_like_the_float_one_and_trains_on_from_it():
    """The int8 copy that is saved reads as the float model does, and `copy_weights` brings it back to a
    float model whose kernels are the originals to within the rounding."""
    keras.utils.set_random_seed(0)
    model = build_reader(filters=4, blocks=2, dense=32)
    x = random_strips(16)
    saved = inference_copy(model)
    np.testing.assert_allclose(saved.predict(x, verbose=0), model.predict(x, verbose=0), atol=0.02)
    restored = build_reader(filters=4, blocks=2, dense=32)
    copy_weights(saved, restored)
    for original, back in zip(model.weights, restored.weights, strict=True):
        assert back.dtype == "float32"
        bound = np.abs(keras.ops.convert_to_numpy(original)).max() / 127  # one int8 step at most
        np.testing.assert_allclose(keras.ops.convert_to_numpy(back), keras.ops.convert_to_numpy(original), atol=bound)


def test_resumed_early_stopping_and_checkpoint_go_on_from_the_best_epoch(tmp_path):
    """After --resume, early stopping knows the interrupted run's best epoch, the epochs since, and that
    epoch's weights (best.keras), and the checkpoint is only replaced by a better epoch; a fresh run, none."""
    def tiny_model():
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    best = tiny_model()
    best.save(tmp_path / "best.keras")
    (tmp_path / "history.csv").write_text("epoch,val_loss\n0,0.5\n1,0.2\n2,0.4\n")
    callbacks = training_callbacks(tmp_path, "val_loss", patience=5, mode="min")
    early_stopping = next(c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping))
    checkpoint = next(c for c in callbacks if isinstance(c, keras.callbacks.ModelCheckpoint))
    resumed = tiny_model()
    early_stopping.set_model(resumed)
    early_stopping.on_train_begin()
    assert (early_stopping.best, early_stopping.best_epoch, early_stopping.wait) == (0.2, 1, 1)
    for kept, saved in zip(early_stopping.best_weights, best.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, saved)
    assert checkpoint.best == 0.2
    early_stopping.on_epoch_end(3, {"val_loss": 0.3})  # worse than epoch 1: the weights kept stay epoch 1's
    early_stopping.on_train_end()
    np.testing.assert_array_equal(resumed.get_weights()[0], best.get_weights()[0])

    fresh = training_callbacks(tmp_path / "fresh", "val_loss", patience=5, mode="min")
    assert next(c for c in fresh if isinstance(c, keras.callbacks.ModelCheckpoint)).best is None
