"""Train the adder (task 2): a recurrent encoder-decoder that adds two numbers 0..255.

    python -m train.adder                  # the shipped model, writes models/adder/
    python -m train.adder --arch single --out none   # the non-encoder-decoder baseline

The 65,536 possible pairs are split once (by `--seed`) into training pairs, a few validation pairs for
early stopping, and held-out pairs that training never sees: accuracy on those says whether the model
learned to add or memorized its table (`python -m mnistadd.evaluate adder` checks all 65,536).
"""

import argparse
import time

import keras
import numpy as np

from mnistadd import plots
from mnistadd.adder import (LAYOUTS, all_pairs, build_adder, build_single_rnn_adder, decode_sums, encode_queries,
                            encode_sums, pair_split, sequence_accuracy)
from mnistadd.training import cosine_schedule, finish_training, inference_copy, prepare_work_dir, training_callbacks


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["seq2seq", "single"], default="seq2seq")
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embedding", type=int, default=16)
    parser.add_argument("--no-reverse", dest="reverse", action="store_false", help="feed the query unreversed")
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="aligned",
                        help='"aligned": each number right-aligned in 3 characters; "ragged": "a+b" as written')
    parser.add_argument("--train-fraction", type=float, default=0.5, help="of all 65,536 pairs")
    parser.add_argument("--val-fraction", type=float, default=0.02)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="models/adder", help='model folder, or "none" to write none')
    parser.add_argument("--work-dir", default="runs/adder")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--push-to-hub", metavar="ORG/NAME")
    parser.add_argument("--private", action="store_true")
    return parser.parse_args(argv)


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


def main(argv=None):
    args = parse_args(argv)
    model, metrics, work_dir = train(args)
    print(metrics)
    if args.out == "none":
        return
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


if __name__ == "__main__":
    main()
