"""The three models: build, a short training run through each trainer, save/load round trips (int8 Dense
kernels, and back to float for further training), and `load(...).predict` on raw inputs. Tiny models and
budgets: behaviour, not accuracy."""

import io
import json
import zipfile

import h5py
import keras
import numpy as np
import pytest

from benchmarks import reader_mix
from mnistadd import evaluate, load, plots
from mnistadd.adder import VOCABULARY, decode_sums, encode_queries, encode_sums, pair_split
from mnistadd.addition import CarrySumLikelihood
from mnistadd.end2end import PositionDigits, SumDistribution, build_end2end
from mnistadd.reader import (NUMBER_CLASSES, build_ctc_reader, build_reader, ctc_number_log_probs, encode_numbers,
                             ensemble_members, number_log_probs, read_numbers)
from mnistadd.training import copy_weights, inference_copy, leaf_layers, training_callbacks
from train import adder as train_adder
from train import end2end as train_end2end
from train import record as train_record
from train import reader as train_reader

TINY_CNN = ["--filters", "4", "--blocks", "2", "--dense", "8"]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, small_mnist_dir):
    """Model folders written by the real trainers, on tiny budgets."""
    root = tmp_path_factory.mktemp("models")
    work = tmp_path_factory.mktemp("runs")
    common = ["--epochs", "2", "--mnist-dir", str(small_mnist_dir)]
    train_reader.main(TINY_CNN + common + ["--steps-per-epoch", "3", "--val-size", "64",
                                           "--out", str(root / "reader"), "--work-dir", str(work / "reader")])
    train_adder.main(["--hidden", "8", "--epochs", "2", "--train-fraction", "0.02",
                      "--out", str(root / "adder"), "--work-dir", str(work / "adder")])
    train_end2end.main(TINY_CNN + common + ["--steps-per-epoch", "3", "--val-size", "32", "--batch-size", "8",
                                            "--out", str(root / "end2end"), "--work-dir", str(work / "end2end")])
    return root


def assert_same_learned_weights(model, other):
    """Every weight but batch norm's moving statistics, which follow the batches even at learning rate 0;
    int8 kernels equal, their scales to the float rounding of quantizing again on save."""
    learned = lambda m: [keras.ops.convert_to_numpy(w) for w in m.weights if "moving_" not in w.path]
    for mine, theirs in zip(learned(model), learned(other), strict=True):
        np.testing.assert_allclose(theirs, mine, rtol=1e-5)


def random_strips(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, 28, 84)).astype(np.float32)


# --- the reader -------------------------------------------------------------------------------------

def test_number_encoding_is_right_aligned_with_blanks():
    np.testing.assert_array_equal(encode_numbers([0, 7, 42, 255]), [[10, 10, 0], [10, 10, 7], [10, 4, 2], [2, 5, 5]])


def test_reading_picks_the_best_valid_number():
    probs = np.full((2, 3, 11), 1e-3, np.float32)
    probs[0, [0, 1, 2], [10, 4, 2]] = 1.0  # clearly "42"
    probs[1, [0, 1, 2], [3, 0, 0]] = 1.0  # "300" is not a valid number 0..255 ...
    probs[1, 0, 2] = 0.9  # ... "200" is the best valid reading
    numbers, confidence = read_numbers(probs / probs.sum(-1, keepdims=True))
    assert numbers.tolist() == [42, 200] and confidence[0] > 0.9


def test_reader_build_shapes():
    model = build_reader(filters=4, blocks=2, dense=8)
    assert model.output_shape == (None, 3, 11)
    out = model.predict(random_strips(3), verbose=0)
    np.testing.assert_allclose(out.sum(-1), 1, rtol=1e-5)


def test_ctc_reading_picks_the_best_valid_number_over_alignments():
    logits = np.full((3, 21, 11), -5.0, np.float32)
    logits[:, :, 0] = 5.0  # the CTC blank everywhere, but where a digit d (class d + 1) is written
    logits[0, 3:5, 5], logits[0, 8:10, 3] = 10.0, 10.0  # "4", blank, "2": 42
    logits[1, 3:5, 2], logits[1, 8:10, 2] = 10.0, 10.0  # "1", blank, "1": 11, not the merged 1
    logits[2, 3:5, 2], logits[2, 5:7, 2] = 10.0, 10.0  # "1" over four columns: 1
    log_probs = ctc_number_log_probs(logits, chunk=2)
    assert log_probs.shape == (3, 256) and log_probs.argmax(axis=1).tolist() == [42, 11, 1]
    np.testing.assert_allclose(np.exp(log_probs).sum(axis=1), 1, rtol=1e-5)


def test_ctc_reader_trains_and_is_read_on_validation(small_mnist_dir, tmp_path):
    assert build_ctc_reader(filters=4, dense=8).output_shape == (None, 21, 11)
    args = train_reader.parse_args(TINY_CNN[:2] + ["--dense", "8", "--output", "ctc", "--members", "1", "--out", "none",
                                   "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8", "--val-size", "8",
                                   "--mnist-dir", str(small_mnist_dir), "--work-dir", str(tmp_path)])
    _, val_metrics, _ = train_reader.train(args)
    assert 0 <= val_metrics["val_number_accuracy"] <= 1 and "val_loss" in plots.read_history(tmp_path / "history.csv")


def test_ctc_readers_are_experiments_only():
    with pytest.raises(SystemExit):  # the product reads positions: a CTC model folder would not load
        train_reader.parse_args(["--output", "ctc", "--members", "1"])


def test_reader_ensemble_averages_independent_members():
    model = build_reader(filters=4, blocks=2, dense=8, members=3)
    members = ensemble_members(model)
    assert [m.name for m in members] == ["member_0", "member_1", "member_2"]
    x = random_strips(2)
    each = [m.predict(x, verbose=0) for m in members]
    assert not np.allclose(each[0], each[1])  # initialized apart
    np.testing.assert_allclose(model.predict(x, verbose=0), np.mean(each, axis=0), atol=1e-6)


def test_reader_ensemble_trains_in_bfloat16_and_is_saved_in_float32(tmp_path, small_mnist_dir):
    """Two CNNs under mixed_bfloat16: each member has a loss of its own (the history shows both), early
    stopping follows their average, and the saved model computes in float32 on any machine."""
    train_reader.main(TINY_CNN + ["--members", "2", "--precision", "mixed_bfloat16", "--epochs", "1",
                                  "--steps-per-epoch", "2", "--val-size", "16", "--mnist-dir", str(small_mnist_dir),
                                  "--out", str(tmp_path / "reader"), "--work-dir", str(tmp_path / "run")])
    config = json.loads((tmp_path / "reader" / "config.json").read_text())
    assert config["architecture"]["members"] == 2
    members_accuracy = json.loads((tmp_path / "reader" / "metrics.json").read_text())["validation"]["val_number_accuracy_members"]
    assert len(members_accuracy) == 2 and all(0 <= a <= 1 for a in members_accuracy)
    header = (tmp_path / "reader" / "history.csv").read_text().splitlines()[0].split(",")
    assert {"member_0_loss", "member_1_loss", "val_positions_number_accuracy"} <= set(header)
    model = keras.saving.load_model(tmp_path / "reader" / "model.keras", compile=False)
    layers = [layer for member in ensemble_members(model) for layer in member.get_layer("trunk").layers]
    assert {layer.dtype_policy.name for layer in layers} == {"float32"}
    assert keras.mixed_precision.global_policy().name == "float32"  # training left no global policy behind
    assert load("reader", models_dir=tmp_path).predict(random_strips(2)).shape == (2,)
    # the end-to-end model starts from such a folder too: its digit reader is then the same ensemble
    train_end2end.main(["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--val-size", "8", "--lr", "0",
                        "--mnist-dir", str(small_mnist_dir), "--init-reader", str(tmp_path / "reader"),
                        "--work-dir", str(tmp_path / "e2e-run"), "--out", str(tmp_path / "e2e")])
    digit_reader = load("e2e", models_dir=tmp_path).model.get_layer("digit_reader")
    assert_same_learned_weights(model, digit_reader)


def test_reader_keeps_members_of_a_trained_reader_unchanged(tmp_path, models_dir, small_mnist_dir):
    """--keep-members: the trained reader's two CNNs become the ensemble's first members unchanged (weights and
    batch-norm statistics alike), a new CNN trains on its own, and the config says where each came from."""
    train_reader.main(TINY_CNN + ["--keep-members", str(models_dir / "reader"), "--members", "1", "--seed", "1",
                                  "--epochs", "1", "--steps-per-epoch", "2", "--val-size", "16",
                                  "--mnist-dir", str(small_mnist_dir), "--out", str(tmp_path / "reader"),
                                  "--work-dir", str(tmp_path / "run")])
    kept = keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False)
    joined = keras.saving.load_model(tmp_path / "reader" / "model.keras", compile=False)
    *firsts, new = ensemble_members(joined)
    for trained, first in zip(ensemble_members(kept), firsts, strict=True):
        for before, after in zip(trained.get_weights(), first.get_weights(), strict=True):
            # saving quantizes again: the int8 kernels come back equal, their scales to float rounding
            np.testing.assert_allclose(after, before, rtol=1e-5)
    x = random_strips(2)
    assert not np.allclose(firsts[0].predict(x, verbose=0), new.predict(x, verbose=0))
    header = (tmp_path / "reader" / "history.csv").read_text().splitlines()[0].split(",")
    assert "number_accuracy" in header and not any(column.startswith("member_") for column in header)  # one CNN trained
    config = json.loads((tmp_path / "reader" / "config.json").read_text())
    assert config["architecture"]["members"] == 3 and config["training"]["seed"] == 1
    assert [settings["seed"] for settings in config["kept_members"]] == [0, 0]
    assert train_record.run_record(tmp_path / "reader")["kept_members"] == config["kept_members"]
    with pytest.raises(SystemExit):  # only a positions CNN can take more CNNs
        train_reader.parse_args(["--keep-members", str(models_dir / "reader"), "--arch", "mlp"])
    with pytest.raises(SystemExit):  # the whole ensemble's accuracy exists only once the CNNs join
        train_reader.parse_args(["--keep-members", str(models_dir / "reader"), "--select", "accuracy"])


def test_reader_mix_reports_each_reader_and_both_averages(tmp_path, models_dir):
    """benchmarks.reader_mix: each reader's chosen-by figures and the two averages (no course_val here); a
    reader averaged with itself reads exactly as it does alone, whichever way the average weighs."""
    folder = str(models_dir / "reader")
    reader_mix.main([folder, folder, "--out", str(tmp_path / "mix.json")])
    result = json.loads((tmp_path / "mix.json").read_text())
    alone = result["readers"][0]
    assert alone["cnns"] == 2 and alone["course_val_number_accuracy"] is None
    assert len(alone["val_number_accuracy_draws"]) == 4
    assert {key: value for key, value in alone.items() if key not in ("folder", "cnns")} == \
        result["averaged_by_cnns"] == result["averaged_by_readers"]
    with pytest.raises(SystemExit):
        reader_mix.main([folder])


def test_reader_fine_tunes_a_trained_reader_on_drawings(tmp_path, models_dir, small_mnist_dir):
    """--init: every CNN starts from a trained reader, in its architecture whatever the flags say; --drawn: a
    share of each batch is drawings read through to_strip, from a pool made once and kept for --resume."""
    common = ["--init", str(models_dir / "reader"), "--drawn", "0.25", "--drawn-pool", "24", "--batch-size", "8",
              "--filters", "16", "--members", "5", "--mnist-dir", str(small_mnist_dir), "--work-dir", str(tmp_path / "run")]
    args = train_reader.parse_args(common)
    assert (args.filters, args.members) == (4, 2)
    images, classes = next(iter(train_reader.training_data(args, tmp_path / "run")))
    with np.load(tmp_path / "run" / "drawn_pool.npz") as pool:
        strips, numbers = pool["strips"], pool["numbers"]
    assert strips.shape == (24, 28, 84) and images.shape == (8, 28, 84)
    for image, target in zip(images[-2:], classes[-2:]):  # the batch's last quarter: drawings from the pool
        match = np.flatnonzero((strips == image.numpy()).all(axis=(1, 2)))
        assert len(match) and (NUMBER_CLASSES[numbers[match[0]]] == target.numpy()).all()
    assert not any((strips == image.numpy()).all(axis=(1, 2)).any() for image in images[:6])
    for cut, drawn in (("course", "0"), ("mixed", "0"), ("clean", "0.3")):  # every way of filling a batch of 7
        args = train_reader.parse_args(common[4:] + ["--cut", cut, "--drawn", drawn, "--batch-size", "7"])
        images, classes = next(iter(train_reader.training_data(args, tmp_path / "run")))
        assert images.shape == (7, 28, 84) and classes.shape == (7, 3)

    train_reader.main(common + ["--lr", "1e-12", "--epochs", "1", "--steps-per-epoch", "1", "--val-size", "16",
                                "--out", str(tmp_path / "reader")])
    tuned = keras.saving.load_model(tmp_path / "reader" / "model.keras", compile=False)
    assert_same_learned_weights(keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False), tuned)
    config = json.loads((tmp_path / "reader" / "config.json").read_text())
    assert config["architecture"]["filters"] == 4 and len(config["fine_tuned_from"]) == 2
    with pytest.raises(SystemExit):  # fine-tuning and growing an ensemble are separate runs
        train_reader.parse_args(["--init", str(models_dir / "reader"), "--keep-members", str(models_dir / "reader")])


def test_history_plot_refuses_a_missing_metric(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "positions_number_accuracy": [0.5, 0.9]}
    with pytest.raises(KeyError, match="number_accuracy"):
        plots.plot_history(history, ["loss", "number_accuracy"], tmp_path / "h.png", "Reader")
    assert not (tmp_path / "h.png").exists()


def test_reader_folder_and_predict(models_dir):
    folder = models_dir / "reader"
    for name in ("model.keras", "config.json", "metrics.json", "history.csv", "history.png",
                 "filters.png", "activations.png"):
        assert (folder / name).exists(), name
    assert len((folder / "history.csv").read_text().splitlines()) == 3  # header + 2 epochs
    reader = load("reader", models_dir=models_dir)
    numbers = reader.predict(random_strips(5))
    assert numbers.shape == (5,) and numbers.dtype.kind == "i" and (0 <= numbers).all() and (numbers <= 255).all()
    with pytest.raises(ValueError, match=r"\(N, 28, 84\)"):
        reader.predict(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="0..255"):
        reader.predict(np.full((1, 28, 84), 300.0))


@pytest.mark.parametrize("name", ["reader", "adder", "end2end"])
def test_model_folders_hold_no_optimizer_state_and_are_readable_by_all(models_dir, name):
    folder = models_dir / name
    with zipfile.ZipFile(folder / "model.keras") as archive, archive.open("model.weights.h5") as weights:
        with h5py.File(io.BytesIO(weights.read())) as h5:
            assert "optimizer" not in h5
    for path in (folder, *folder.iterdir()):
        assert path.stat().st_mode & 0o004, f"{path.name} is not readable by all"


@pytest.mark.parametrize("name", ["reader", "end2end"])
def test_saved_models_keep_dense_kernels_in_int8(models_dir, name):
    model = keras.saving.load_model(models_dir / name / "model.keras", compile=False, safe_mode=True)
    dense = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Dense)]
    assert dense and {layer.quantization_mode for layer in dense} == {"int8"}


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


def test_interrupted_training_resumes(tmp_path, small_mnist_dir, monkeypatch):
    args = TINY_CNN + ["--epochs", "3", "--steps-per-epoch", "2", "--val-size", "16", "--out", "none",
                       "--work-dir", str(tmp_path / "run"), "--mnist-dir", str(small_mnist_dir)]

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    callbacks, batches_done, starts = train_reader.training_callbacks, train_reader.batches_done, []
    monkeypatch.setattr(train_reader, "batches_done", lambda *a: starts.append(batches_done(*a)) or starts[-1])
    monkeypatch.setattr(train_reader, "training_callbacks", lambda *a: callbacks(*a) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        train_reader.main(args)
    assert any((tmp_path / "run" / "backup").iterdir())
    monkeypatch.setattr(train_reader, "training_callbacks", callbacks)
    _, metrics, _ = train_reader.train(train_reader.parse_args(args + ["--resume"]))
    assert metrics["train_epochs_this_run"] == 1  # what its seconds are the time of
    epochs = [line.split(",")[0] for line in (tmp_path / "run" / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]  # the resumed run did only the epoch that was missing
    assert starts == [0, 4]  # and its strips went on after the 2 x 2 batches already used


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


# --- the adder --------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["aligned", "ragged"])
@pytest.mark.parametrize("reverse", [True, False])
def test_query_encoding_round_trip(reverse, layout):
    a, b = np.array([0, 7, 255, 99]), np.array([0, 123, 255, 1])
    tokens = encode_queries(a, b, reverse, layout)
    assert tokens.shape == (4, 7)
    queries = ["".join(VOCABULARY[i] for i in row) for row in tokens]
    if reverse:
        queries = [q[::-1] for q in queries]
    expected = {"aligned": ["  0+  0", "  7+123", "255+255", " 99+  1"], "ragged": ["0+0    ", "7+123  ", "255+255", "99+1   "]}
    assert queries == expected[layout]
    sums = a + b
    one_hot = np.eye(10)[encode_sums(sums)]
    np.testing.assert_array_equal(decode_sums(one_hot), sums)


def test_pair_split_partitions_every_pair():
    train, val, held_out = pair_split(0.5, 0.02, seed=0)
    everything = np.concatenate([train, val, held_out])
    assert len(everything) == 65536 and len(np.unique(everything)) == 65536


def test_adder_folder_predict_and_validation(models_dir):
    adder = load("adder", models_dir=models_dir)
    sums = adder.predict(np.array([1, 200]), np.array([2, 255]))
    assert sums.shape == (2,) and ((0 <= sums) & (sums <= 999)).all()
    assert json.loads((models_dir / "adder" / "metrics.json").read_text())["validation"]["held_out_pairs"] > 0
    for bad, message in (([256], "0..255"), ([-1], "0..255"), ([1.5], "integers"), (["7"], "integers")):
        with pytest.raises(ValueError, match=message):
            adder.predict(bad, [1])
    with pytest.raises(ValueError, match="same length"):
        adder.predict([1, 2], [3])


# --- the end-to-end model ---------------------------------------------------------------------------

def test_sum_distribution_is_the_exact_convolution():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 2, 3, 11)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    p_sum = keras.ops.convert_to_numpy(SumDistribution()(probs[0], probs[1]))
    p_a, p_b = (np.exp(keras.ops.convert_to_numpy(number_log_probs(p))) for p in probs)
    expected = np.stack([np.convolve(p_a[i], p_b[i]) for i in range(2)])
    np.testing.assert_allclose(p_sum, expected, rtol=1e-4, atol=1e-7)
    # certain digits give a certain sum
    certain = np.eye(11, dtype=np.float32)[NUMBER_CLASSES[[123, 45]]]
    assert keras.ops.convert_to_numpy(SumDistribution()(certain[:1], certain[1:])).argmax() == 168


def test_position_digits_feed_the_carry_chain():
    certain = np.eye(11, dtype=np.float32)[NUMBER_CLASSES[[123, 45, 7]]]  # 45 and 7 start with blanks
    digits = PositionDigits()(certain[:2], certain[1:])
    assert digits.shape == (2, 2, 3, 10)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(digits).argmax(-1), [[[1, 2, 3], [0, 4, 5]], [[0, 4, 5], [0, 0, 7]]])
    sums = np.array([[0, 1, 6, 8], [0, 0, 5, 2]])  # 123 + 45, 45 + 7
    log_likelihood = CarrySumLikelihood()(digits[:, 0], digits[:, 1], sums)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(log_likelihood), 0, atol=1e-4)
    assert (keras.ops.convert_to_numpy(CarrySumLikelihood()(digits[:, 0], digits[:, 1], sums + [0, 0, 0, 1])) < -10).all()


@pytest.mark.parametrize("combine, sum_layer", [("exact", "convolution"), ("neural", "convolution"), ("exact", "carry")])
def test_end2end_build_and_sum_only_training(tmp_path, small_mnist_dir, combine, sum_layer):
    model, with_positions = build_end2end({"filters": 4, "blocks": 2, "dense": 8}, combine)
    assert model.output_shape == (None, 511) and set(with_positions.output) == {"sum", "positions_a", "positions_b"}
    train_end2end.main(TINY_CNN + ["--supervision", "sum", "--combine", combine, "--sum-layer", sum_layer,
                                   "--epochs", "1", "--steps-per-epoch", "2",
                                   "--batch-size", "4", "--val-size", "8", "--mnist-dir", str(small_mnist_dir),
                                   "--out", str(tmp_path / "e2e"), "--work-dir", str(tmp_path / "run")])
    validation = json.loads((tmp_path / "e2e" / "metrics.json").read_text())["validation"]
    assert validation["supervision"] == "sum" and "val_sum_accuracy_at_start" not in validation  # nothing to start from
    assert validation.get("sum_layer") == (sum_layer if combine == "exact" else None)  # a neural decoder has none
    assert 0 <= validation["val_digitwise_sum_accuracy"] <= 1
    end2end = load("e2e", models_dir=tmp_path)
    assert end2end.config["architecture"]["combine"] == combine
    a, b = random_strips(2, 1), random_strips(2, 2)
    np.testing.assert_allclose(end2end.sum_probabilities(a, b).sum(1), 1, rtol=1e-4)


def test_digitwise_sum_accuracy_reads_blanks_as_leading_zeros():
    one_hot = np.eye(11, dtype=np.float32)[NUMBER_CLASSES]
    outputs = {"positions_a": one_hot[[123, 7]], "positions_b": one_hot[[45, 200]]}  # as the training view gives them
    assert train_end2end.digitwise_sum_accuracy(outputs, np.array([168, 207])) == 1.0
    assert train_end2end.digitwise_sum_accuracy(outputs, np.array([168, 208])) == 0.5


def test_carry_chain_training_needs_sums_alone_and_the_exact_model():
    with pytest.raises(SystemExit, match="--sum-layer carry needs"):
        train_end2end.train(train_end2end.parse_args(["--sum-layer", "carry", "--supervision", "aux"]))


def test_end2end_rejects_an_unknown_combine():
    with pytest.raises(ValueError, match="unknown combine"):
        build_end2end({"filters": 4, "blocks": 2, "dense": 8}, "exactly")


def test_end2end_folder_and_predict(models_dir):
    end2end = load("end2end", models_dir=models_dir)
    a, b = random_strips(3, 1), random_strips(3, 2)
    sums = end2end.predict(a, b)
    assert sums.shape == (3,) and ((0 <= sums) & (sums <= 510)).all()
    np.testing.assert_allclose(end2end.sum_probabilities(a, b).sum(1), 1, rtol=1e-4)
    loaded = keras.saving.load_model(models_dir / "end2end" / "model.keras", compile=False)
    np.testing.assert_array_equal(loaded.predict({"image_a": a, "image_b": b}, verbose=0).argmax(1), sums)
    with pytest.raises(ValueError, match="as many strips"):
        end2end.predict(a, b[:2])


def test_readers_are_validated_on_several_draws_the_first_the_trainers_own(models_dir):
    validation = json.loads((models_dir / "reader" / "metrics.json").read_text())["validation"]
    draws = validation["val_number_accuracy_draws"]
    assert len(draws) == len(evaluate.VALIDATION_DRAWS) and draws[0] == validation["val_number_accuracy"]
    assert validation["val_number_accuracy_draws_mean"] == pytest.approx(np.mean(draws), abs=1e-6)  # rounded
    test_before = json.loads((models_dir / "reader" / "metrics.json").read_text()).get("test")
    evaluate.main(["reader", "--split", "val", "--models-dir", str(models_dir)])  # 5,000 strips per draw this time
    metrics = json.loads((models_dir / "reader" / "metrics.json").read_text())
    assert metrics["validation"]["val_number_accuracy"] == validation["val_number_accuracy"]  # the trainer's figure stays
    assert len(metrics["validation"]["val_number_accuracy_draws"]) == len(draws) and metrics.get("test") == test_before
    with pytest.raises(SystemExit):
        evaluate.main(["adder", "--split", "val", "--models-dir", str(models_dir)])


def test_the_mlp_baseline_records_no_member_accuracies(small_mnist_dir, tmp_path):
    args = train_reader.parse_args(["--arch", "mlp", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "8",
                                    "--val-size", "8", "--mnist-dir", str(small_mnist_dir), "--work-dir", str(tmp_path)])
    _, val_metrics, _ = train_reader.train(args)  # --members keeps its ensemble default, which the MLP ignores
    assert 0 <= val_metrics["val_number_accuracy"] <= 1 and "val_number_accuracy_members" not in val_metrics


def test_a_reader_run_is_recorded_with_its_settings_and_metrics(models_dir, tmp_path):
    train_record.main([str(models_dir / "reader"), str(tmp_path / "run.json"), "--about", "a tiny run"])
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["about"] == "a tiny run" and record["training"]["filters"] == 4
    assert record["validation"] == json.loads((models_dir / "reader" / "metrics.json").read_text())["validation"]
    history = plots.read_history(models_dir / "reader" / "history.csv")
    column = "number_accuracy" if "number_accuracy" in history else "positions_number_accuracy"  # one CNN or several
    assert record["final_epoch_train_number_accuracy"] == history[column][-1]


def test_an_end2end_run_is_recorded_with_its_accuracy_per_epoch(models_dir, tmp_path):
    train_record.main([str(models_dir / "end2end"), str(tmp_path / "run.json"), "--about", "a tiny run"])
    record = json.loads((tmp_path / "run.json").read_text())
    history = plots.read_history(models_dir / "end2end" / "history.csv")
    assert record["history"] == {column: history[column] for column in ("sum_accuracy", "val_sum_accuracy")}
    assert record["validation"] == json.loads((models_dir / "end2end" / "metrics.json").read_text())["validation"]
    assert record["architecture"]["combine"] == "exact" and "final_epoch_train_number_accuracy" not in record


def test_end2end_evaluation_names_the_pipeline_it_compares_with(models_dir, small_mnist_dir):
    metrics = evaluate.evaluate_end2end(models_dir / "end2end", small_mnist_dir, n_pairs=64)
    assert metrics["pairs"] == 64 and 0 <= metrics["sum_accuracy"] <= 1 and 0 <= metrics["pipeline_sum_accuracy"] <= 1
    assert "filters 4" in metrics["pipeline_reader"]  # the tiny reader beside it, not the shipped one


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="lacks model.keras"):
        load("reader", models_dir=tmp_path)
    (tmp_path / "writer").mkdir()
    (tmp_path / "writer" / "model.keras").write_bytes(b"")
    (tmp_path / "writer" / "config.json").write_text('{"model": "writer"}')
    with pytest.raises(ValueError, match="unknown model kind 'writer'"):
        load("writer", models_dir=tmp_path)


def test_end2end_can_start_from_a_trained_reader(models_dir, tmp_path, small_mnist_dir):
    common = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--val-size", "8",
              "--mnist-dir", str(small_mnist_dir), "--init-reader", str(models_dir / "reader"),
              "--work-dir", str(tmp_path / "run")]
    train_end2end.main(common + ["--out", str(tmp_path / "e2e"), "--lr", "0"])  # lr 0: weights stay as loaded
    validation = json.loads((tmp_path / "e2e" / "metrics.json").read_text())["validation"]
    assert 0 <= validation["val_sum_accuracy_at_start"] <= 1  # the reader's sums before any end-to-end step
    reader = keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False)
    end2end = keras.saving.load_model(tmp_path / "e2e" / "model.keras", compile=False)
    assert_same_learned_weights(reader, end2end.get_layer("digit_reader"))
    with pytest.raises(SystemExit, match="needs --supervision aux"):
        train_end2end.main(common + ["--supervision", "sum", "--out", "none"])


def test_end2end_digit_reader_can_be_an_ensemble(models_dir, tmp_path, small_mnist_dir):
    """Two --init-reader folders: each member starts from its reader, the digit reader averages them, and
    the saved model loads and predicts through the public API."""
    folder = str(models_dir / "reader")
    train_end2end.main(["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--val-size", "8",
                        "--mnist-dir", str(small_mnist_dir), "--init-reader", folder, folder, "--lr", "0",
                        "--work-dir", str(tmp_path / "run"), "--out", str(tmp_path / "e2e")])
    reader = keras.saving.load_model(models_dir / "reader" / "model.keras", compile=False)
    end2end = load("e2e", models_dir=tmp_path)
    digit_reader = end2end.model.get_layer("digit_reader")
    for member in ("member_0", "member_1"):
        assert_same_learned_weights(reader, digit_reader.get_layer(member))
    assert len(end2end.config["architecture"]["digit_reader"]) == 2
    images = np.random.default_rng(0).uniform(0, 255, (3, 28, 84)).astype(np.float32)
    sums = end2end.predict(images, images)
    assert sums.shape == (3,) and ((sums >= 0) & (sums <= 510)).all()
