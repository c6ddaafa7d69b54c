"""Train the adder (task 2): a recurrent encoder-decoder that adds two numbers 0..255.

    python -m train.adder                        # the recipe "adder": reproduces models/adder (about 4 min)
    python -m train.adder --recipe adder-gru     # the GRU adder trained on 80 % of the pairs
    python -m train.adder --recipe adder-small   # the same design in about a minute, for trying things
    python -m train.adder --recipe none --arch single --out none   # the non-encoder-decoder baseline

The recipes are in train/recipes/ (`train.recipe`): `--help` shows the chosen one's settings as the
defaults, and a flag overrides them. The recipe "adder" is the trainer's own defaults: an LSTM
encoder-decoder of 128 units, queries right-aligned and reversed, trained on half of all pairs.

The 65,536 possible pairs are split once (by `--seed`) into training pairs, a few validation pairs for
early stopping, and held-out pairs that training never sees: accuracy on those says whether the model
learned to add or memorized its table (`python -m mnistadd.evaluate adder` checks all 65,536).
"""

import argparse
import sys
import time

import keras
import numpy as np

from mnistadd import plots
from mnistadd.adder import (LAYOUTS, all_pairs, build_adder, build_single_rnn_adder, decode_sums, encode_queries,
                            encode_sums, pair_split, sequence_accuracy)
from mnistadd.training import cosine_schedule, finish_training, inference_copy, prepare_work_dir, training_callbacks
from train import recipe


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=recipe.HelpFormatter,
                                     parents=[recipe.common_flags("adder")])
    parser.add_argument("--arch", choices=["seq2seq", "single"], default="seq2seq",
                        help="encoder-decoder, or one recurrent layer (the baseline)")
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm", help="recurrent cell")
    parser.add_argument("--hidden", type=int, default=128, help="units of each recurrent layer")
    parser.add_argument("--embedding", type=int, default=16, help="size of each character's embedding")
    parser.add_argument("--no-reverse", dest="reverse", action="store_false", help="feed the query unreversed")
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="aligned",
                        help='"aligned": each number right-aligned in 3 characters; "ragged": "a+b" as written')
    parser.add_argument("--train-fraction", type=float, default=0.5, help="of all 65,536 pairs")
    parser.add_argument("--val-fraction", type=float, default=0.02, help="of all 65,536 pairs, for early stopping")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (warm-up, then cosine decay)")
    parser.add_argument("--batch-size", type=int, default=64, help="pairs per step")
    parser.add_argument("--epochs", type=int, default=100, help="epochs at most")
    parser.add_argument("--patience", type=int, default=20, help="epochs without a lower validation loss")
    return parser


def parse_args(argv=None):
    """One run's settings from the flags over the trainer's own defaults, no recipe (sweeps, tests)."""
    return recipe.parse(sys.modules[__name__], argv)


def examples(indices, args):
    a, b = all_pairs()
    return encode_queries(a[indices], b[indices], args.reverse, args.layout), encode_sums(a[indices] + b[indices])


def train(args):
    """Trains one adder; returns the model, its metrics (validation and held-out) and the work directory."""
    keras.utils.set_random_seed(args.seed)
    work_dir = prepare_work_dir(args.work_dir, args.resume)
    train_idx, val_idx, held_out_idx = pair_split(args.train_fraction, args.val_fraction, args.seed)
    x_train, y_train = examples(train_idx, args)
    build = build_adder if args.arch == "seq2seq" else build_single_rnn_adder
    model = build(args.hidden, args.cell, args.embedding)
    steps = args.epochs * int(np.ceil(len(train_idx) / args.batch_size))
    model.compile(optimizer=keras.optimizers.Adam(cosine_schedule(args.lr, steps)),
                  loss="sparse_categorical_crossentropy", metrics=[sequence_accuracy])
    started = time.time()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=examples(val_idx, args),
              # validation accuracy reaches 100 % long before training is done; its loss goes on telling
              callbacks=training_callbacks(work_dir, "val_loss", args.patience, mode="min"))
    model = inference_copy(model)  # measured as it is saved, Dense kernels in int8
    a, b = all_pairs()

    def accuracy_on(indices):
        predicted = decode_sums(model.predict(examples(indices, args)[0], batch_size=4096, verbose=0))
        return float(np.mean(predicted == (a + b)[indices]))

    metrics = {
        "val_sequence_accuracy": accuracy_on(val_idx),
        "held_out_accuracy": accuracy_on(held_out_idx),
        "held_out_pairs": int(len(held_out_idx)),
        "train_pairs": int(len(train_idx)),
        "train_seconds_this_run": round(time.time() - started),
        "parameters": model.count_params(),
    }
    return model, metrics, work_dir


def run(args):
    """Trains one adder and writes its folder (unless --out none); returns its validation metrics."""
    model, metrics, work_dir = train(args)
    print(metrics)
    if args.out == "none":
        return metrics
    history = plots.read_history(work_dir / "history.csv")
    config = {
        "model": "adder",
        "architecture": {"arch": args.arch, "cell": args.cell, "hidden": args.hidden,
                         "embedding": args.embedding, "reverse": args.reverse, "layout": args.layout},
        "input": {"shape": [7], "dtype": "int32", "tokens": "the query 'a+b' in 7 characters, laid out "
                  "as architecture.layout (reversed if architecture.reverse), vocabulary '0123456789+ '"},
        "output": "sum digit probabilities (3, 10): hundreds, tens, units",
    }
    finish_training(args, model, config, metrics, work_dir, [
        ("history.png", lambda p: plots.plot_history(history, ["loss", "sequence_accuracy"], p, "Adder"))])
    return metrics


def main(argv=None):
    return recipe.main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
