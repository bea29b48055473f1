"""Train the MNIST classifier behind MNIST-FID / IS / KID and write its checkpoint.

    python -m evaluation.train_mnist_classifier [--epochs 3] [--data-dir D] [--output PATH]

Trains `evaluation.mnist_classifier.MNISTClassifier` with Adam (lr 1e-3 with
cosine decay to 0, batch 128, seeded) on MNIST train[0:50000], the GAN paper's training split,
and reports accuracy on the validation split (train[50000:60000]) after every
epoch and on the 10,000 test images at the end. The shipped checkpoint must
reach >= 99% test accuracy (a weaker classifier gives a blurrier feature
space); the script refuses to write one that does not.

It prints the checkpoint's sha256: record it as `CHECKPOINT_SHA256` in
`evaluation/mnist_classifier.py`, since every load checks it. A few epochs
take minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch  # before keras_gan: see evaluation/fidelity.py on the import order of torch and tensorflow
import torch.nn.functional as F

from evaluation.mnist_classifier import CHECKPOINT_PATH, MNISTClassifier, save_checkpoint

MIN_TEST_ACCURACY = 0.99


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example:\n  KERAS_GAN_DATA_DIR=../shared/data python -m evaluation.train_mnist_classifier --epochs 3",
    )
    p.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    p.add_argument("--batch-size", type=int, default=128, help="minibatch size (default 128)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="initial Adam learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, shuffling and dropout (default 0)")
    p.add_argument("--data-dir", default=None, help="MNIST folder (default: $KERAS_GAN_DATA_DIR)")
    p.add_argument("--output", default=CHECKPOINT_PATH, help=f"checkpoint to write (default {CHECKPOINT_PATH})")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if not args.learning_rate > 0:
        p.error("--learning-rate must be > 0")
    return args


def as_tensors(split) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 28, 28, 1) float images and int labels -> (N, 1, 28, 28) float and int64 tensors."""
    images = torch.from_numpy(np.ascontiguousarray(split.images.transpose(0, 3, 1, 2)))
    return images, torch.from_numpy(split.labels)


@torch.no_grad()
def accuracy(model: MNISTClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        _, logits = model(images[start : start + batch_size])
        correct += int((logits.argmax(dim=1) == labels[start : start + batch_size]).sum())
    return correct / len(images)


def train(model: MNISTClassifier, images, labels, validation, *, epochs: int, batch_size: int,
          learning_rate: float, seed: int) -> None:
    from tqdm.auto import tqdm

    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps_per_epoch = -(-len(images) // batch_size)
    # Cosine decay to zero over the whole run: the last, small steps settle the
    # weights, which gains accuracy in a run of only a few epochs.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    order_rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.from_numpy(order_rng.permutation(len(images)))
        batches = range(0, len(images), batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", unit="batch")
        for start in bar:
            index = order[start : start + batch_size]
            _, logits = model(images[index])
            loss = F.cross_entropy(logits, labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
        print(f"epoch {epoch + 1}: validation accuracy {accuracy(model, *validation):.4f}")


def main(argv=None) -> int:
    args = parse_args(argv)
    from keras_gan import datasets

    try:
        train_split = datasets.mnist("train", data_dir=args.data_dir)
        validation = as_tensors(datasets.mnist("validation", data_dir=args.data_dir))
        test = as_tensors(datasets.mnist("test", data_dir=args.data_dir))
    except (FileNotFoundError, datasets.DataFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    torch.manual_seed(args.seed)
    model = MNISTClassifier()
    train(model, *as_tensors(train_split), validation, epochs=args.epochs, batch_size=args.batch_size,
          learning_rate=args.learning_rate, seed=args.seed)
    test_accuracy = accuracy(model, *test)
    print(f"test accuracy {test_accuracy:.4f} on the 10,000 MNIST test images")
    if test_accuracy < MIN_TEST_ACCURACY:
        print(f"error: test accuracy below {MIN_TEST_ACCURACY:.0%}; no checkpoint written. "
              "Train longer (--epochs).", file=sys.stderr)
        return 1
    sha256 = save_checkpoint(
        model, args.output, test_accuracy=test_accuracy, train_split="train[0:50000]", epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed,
    )
    print(f"wrote {args.output}\nsha256 {sha256}\n"
          "(record it as CHECKPOINT_SHA256 in evaluation/mnist_classifier.py if this is the shipped checkpoint)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
