"""Baselines for the pix2pix-facades card: `python -m zoo.baselines {l1-unet,mean-photo}`.

The pix2pix paper's Table 1 compares its cGAN + L1 loss with an L1-only
network of the same architecture; we report the same comparison on the
facades test split, plus the trivial "mean training photo" predictor, which
says how much of L1 / PSNR / SSIM any model gets for free.

    python -m zoo.baselines mean-photo --json outputs/baselines/mean_photo.json
    python -m zoo.baselines l1-unet --epochs 10 --out outputs/baselines/l1-unet
    python -m zoo.baselines l1-unet --evaluate outputs/baselines/l1-unet/epoch_010.weights.h5

`l1-unet` trains the zoo's pix2pix-facades U-Net (same widths) with the L1
loss alone (Adam 2e-4, beta1 0.5, batch 1, the same random jitter), saving
the generator after every epoch so it can be compared with pix2pix at the same
number of epochs. Test images are translated as pix2pix's are (training-mode
dropout and batch norm, batch 1, seed 0).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _paired_metrics(outputs, targets) -> dict:
    from evaluation.paired import paired_metrics

    result = paired_metrics(outputs, targets)
    return {k: float(result[k]) for k in ("l1", "psnr", "ssim")} | {"n": int(result["n"])}


def mean_photo(data_dir) -> dict:
    """L1 / PSNR / SSIM of predicting the mean training photo for every test input."""
    import numpy as np

    from keras_gan import datasets

    train_targets = datasets.facades("train", data_dir=data_dir, augment=False).targets
    test = datasets.facades("test", data_dir=data_dir)
    guess = np.repeat(train_targets.mean(axis=0, keepdims=True), len(test.targets), axis=0)
    return _paired_metrics(guess, test.targets)


def _l1_model(config: dict):
    import keras

    from keras_gan import zoo
    from keras_gan.models.pix2pix import paper_adam

    pair = zoo.builders.pix2pix(**config)
    unet = pair.generator
    unet.compile(optimizer=paper_adam(), loss="mae")
    return pair, unet


def train_l1_unet(epochs: int, out: str, data_dir) -> None:
    import keras

    from keras_gan import datasets, zoo

    keras.utils.set_random_seed(0)
    _, unet = _l1_model(zoo.get_entry("pix2pix-facades").config)
    train = datasets.FacadesDataset("train", batch_size=1, data_dir=data_dir, seed=0)
    os.makedirs(out, exist_ok=True)
    save = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: unet.save_weights(os.path.join(out, f"epoch_{epoch + 1:03d}.weights.h5"))
    )
    unet.fit(train, epochs=epochs, verbose=2, callbacks=[save, keras.callbacks.CSVLogger(os.path.join(out, "history.csv"))])


def evaluate_l1_unet(weights: str, data_dir) -> dict:
    from keras_gan import datasets, zoo

    pair, unet = _l1_model(zoo.get_entry("pix2pix-facades").config)
    unet.load_weights(weights)
    test = datasets.facades("test", data_dir=data_dir)
    return _paired_metrics(pair.translate(test.inputs, batch_size=1, seed=0), test.targets)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m zoo.baselines", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n")[2])
    p.add_argument("baseline", choices=["l1-unet", "mean-photo"])
    p.add_argument("--epochs", type=int, default=10, help="l1-unet training epochs (default 10)")
    p.add_argument("--out", default="outputs/baselines/l1-unet", help="l1-unet output folder")
    p.add_argument("--evaluate", metavar="WEIGHTS", help="score saved l1-unet weights on the test split")
    p.add_argument("--data-dir", default=None, help="facades data (default: $KERAS_GAN_DATA_DIR)")
    p.add_argument("--json", default=None, help="write the test metrics as JSON here")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    if args.evaluate and not os.path.isfile(args.evaluate):
        p.error(f"--evaluate: no such file {args.evaluate}")
    if args.baseline == "l1-unet" and not args.evaluate:
        train_l1_unet(args.epochs, args.out, args.data_dir)
        return 0
    result = mean_photo(args.data_dir) if args.baseline == "mean-photo" else evaluate_l1_unet(args.evaluate, args.data_dir)
    print(json.dumps(result, indent=2))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
