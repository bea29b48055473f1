"""Train the facade segmenter behind the facades FCN-score and facades-FID / KID.

    python -m evaluation.train_facade_segmenter [--epochs 40] [--data-dir D] [--output PATH]

Trains `evaluation.facade_segmenter.FacadeSegmenter` from scratch (no
pretrained weights) on the **real photos of the train split only**
(cmp_b0001..0300) with their CMP label maps, using the pix2pix jitter (resize
to 286, random 256 crop, mirror; a new draw every epoch), pixel-wise cross
entropy, Adam (lr 1e-3, cosine decay to 0, weight decay 1e-4), batch 8,
seeded. After every epoch it scores the 28 real val photos and keeps the
epoch with the best mean class IoU (selection on val, never on test). At the
end it prints the kept network's scores on the 50 real test photos: the
real-photo reference row of the FCN-score table.

It prints the checkpoint's sha256: record it as `CHECKPOINT_SHA256` in
`evaluation/facade_segmenter.py`, since every load checks it. About a minute
per epoch on one CPU core.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time

import numpy as np
import torch  # before keras_gan: see evaluation/fidelity.py on the import order of torch and tensorflow
import torch.nn.functional as F

from evaluation.facade_segmenter import CHECKPOINT_PATH, FacadeSegmenter, photos_to_tensor, save_checkpoint
from evaluation.fcn_score import segmentation_scores


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example:\n  KERAS_GAN_DATA_DIR=../shared/data python -m evaluation.train_facade_segmenter",
    )
    p.add_argument("--epochs", type=int, default=40, help="training epochs (default 40)")
    p.add_argument("--batch-size", type=int, default=8, help="minibatch size (default 8)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="initial Adam learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, jitter and order (default 0)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--data-dir", default=None, help="facades folder (default: $KERAS_GAN_DATA_DIR)")
    p.add_argument("--output", default=CHECKPOINT_PATH, help=f"checkpoint to write (default {CHECKPOINT_PATH})")
    p.add_argument("--log", default=None, help="also write the per-epoch validation scores to this JSON file")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if not args.learning_rate > 0:
        p.error("--learning-rate must be > 0")
    return args


@torch.no_grad()
def predict(model: FacadeSegmenter, photos, batch_size: int = 8) -> np.ndarray:
    model.eval()
    tensor = photos_to_tensor(photos)
    return np.concatenate([model(tensor[i : i + batch_size])[1].argmax(1).numpy()
                           for i in range(0, len(tensor), batch_size)])


def train(args) -> int:
    from tqdm.auto import tqdm

    from keras_gan import datasets
    from keras_gan.datasets.facades import jitter_size, load_facades_uint8, random_jitter

    try:
        train_labels, train_photos = load_facades_uint8("train", args.data_dir, jitter_size(256))
        val = datasets.facades("val", data_dir=args.data_dir, direction="photo2label")
        test = datasets.facades("test", data_dir=args.data_dir, direction="photo2label")
    except (FileNotFoundError, datasets.DataFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    val_classes, test_classes = datasets.label_map_classes(val.targets), datasets.label_map_classes(test.targets)
    torch.manual_seed(args.seed)
    model = FacadeSegmenter()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, weight_decay=1e-4)
    steps_per_epoch = -(-len(train_photos) // args.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)
    best, best_state, history = None, None, []
    start = time.time()
    for epoch in range(args.epochs):
        rng = np.random.default_rng([args.seed, epoch])  # the epoch's jitter and order: f(seed, epoch)
        labels, photos = random_jitter(train_labels, train_photos, 256, rng)
        classes = torch.from_numpy(datasets.label_map_classes(labels))
        photos = photos_to_tensor(photos)
        order = torch.from_numpy(rng.permutation(len(photos)))
        model.train()
        bar = tqdm(range(0, len(photos), args.batch_size), desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch")
        for i in bar:
            index = order[i : i + args.batch_size]
            loss = F.cross_entropy(model(photos[index])[1], classes[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        scores = segmentation_scores(predict(model, val.inputs), val_classes)
        history.append({"epoch": epoch + 1, **{k: round(v, 4) for k, v in scores.items()}})
        print(f"epoch {epoch + 1}: val per-pixel {scores['per_pixel_accuracy']:.4f} per-class "
              f"{scores['per_class_accuracy']:.4f} IoU {scores['class_iou']:.4f}", flush=True)
        if best is None or scores["class_iou"] > best["class_iou"]:
            best = {"epoch": epoch + 1, **scores}
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    test_scores = segmentation_scores(predict(model, test.inputs), test_classes)
    print(f"kept epoch {best['epoch']} (best val class IoU {best['class_iou']:.4f}); real test photos: "
          + ", ".join(f"{k} {v:.4f}" for k, v in test_scores.items()))
    if args.log:
        with open(args.log, "w") as f:
            json.dump({"history": history, "kept": best, "test": test_scores,
                       "wall_time_s": round(time.time() - start, 1)}, f, indent=2)
    sha256 = save_checkpoint(
        model, args.output, train_split="cmp_b0001..0300 (real photos)", selected_on="val class IoU",
        kept_epoch=best["epoch"], val_scores={k: float(v) for k, v in best.items() if k != "epoch"},
        real_test_scores={k: float(v) for k, v in test_scores.items()}, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed,
    )
    print(f"wrote {args.output}\nsha256 {sha256}\n"
          "(record it as CHECKPOINT_SHA256 in evaluation/facade_segmenter.py if this is the shipped checkpoint)")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
