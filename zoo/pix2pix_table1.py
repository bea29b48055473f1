"""pix2pix's Table 1 on facades: every row scored the same way, over several dropout seeds.

    python -m zoo.pix2pix_table1 --row "L1+cGAN, 200 epochs=pix2pix-facades" \\
        --row "L1, 200 epochs=runs/l1/export/pix2pix-facades-l1.weights.h5" --seeds 5 \\
        --json zoo/cards/results/pix2pix-facades-table1.json --markdown table1.md

Each row is a model (zoo name, zoo export NAME.weights.h5 or .keras file).
pix2pix translates with dropout on at test time (the paper's test mode), so
every score is a random variable: each row is translated once per seed
(seeds 0..S-1) and reported as the mean and the standard deviation over
seeds, with the per-seed values kept in the JSON. Scores per translation set:
the FCN-score (`evaluation.fcn_score`: per-pixel accuracy, per-class
accuracy, class IoU of the facade segmenter against the input label maps),
facades-FID / KID on the segmenter's features against the 300 real train
photos (KID subset size 50, the test set's size), and L1 / PSNR / SSIM
against the real test photos (`evaluation.paired`). The real test photos
and the mean training photo are scored the same way (no seed dependence).
"""

from __future__ import annotations

import torch_fidelity  # noqa: F401  first: before anything that may import TensorFlow (evaluation.fidelity)

import argparse
import json
import os
import re
import sys

import numpy as np

from evaluation import fcn_score, paired, sources
from zoo.numbers import table1_markdown as markdown

METRICS = ("per_pixel_accuracy", "per_class_accuracy", "class_iou", "fid", "kid_mean", "l1", "psnr", "ssim")


def _all_scores(translations, targets, labels, train_photos, seed: int, segmenter) -> dict:
    from evaluation.facade_segmenter import segment

    scores = fcn_score.segmentation_scores(segment(translations, segmenter), labels)
    fid = fcn_score.facades_fidelity(fcn_score.to_uint8(translations), fcn_score.to_uint8(train_photos), seed=seed)
    pixel = paired.paired_metrics(translations, targets)
    return {**scores, "fid": fid["fid"], "kid_mean": fid["kid_mean"], "kid_std": fid["kid_std"],
            **{k: pixel[k] for k in ("l1", "psnr", "ssim")}}


def _summary(per_seed: list[dict]) -> dict:
    """Mean and standard deviation over seeds (std 0 for a single, seed-free value)."""
    out = {}
    for k in METRICS:
        values = [float(s[k]) for s in per_seed]
        std = float(np.std(values)) if len(values) > 1 else 0.0
        out[k] = {"mean": float(np.mean(values)), "std": std, "values": values}
    return out


def table(rows: list[tuple[str, str]], seeds: int, data_dir: str | None) -> dict:
    from evaluation.facade_segmenter import load_segmenter
    from keras_gan import datasets

    segmenter = load_segmenter()  # once: it is sha256-checked and read from disk on every load
    inputs, targets = datasets.facades("test", data_dir=data_dir)
    labels = datasets.label_map_classes(inputs)
    train_photos = datasets.facades("train", data_dir=data_dir, augment=False).targets
    result = {"split": "test", "n": len(inputs), "seeds": list(range(seeds)), "rows": {}}
    for name, source in rows:
        model = sources.load_model(source)
        per_seed = []
        for seed in range(seeds):
            translations = paired.translate_all(model, inputs, seed=seed, progress=False)
            per_seed.append(_all_scores(translations, targets, labels, train_photos, seed, segmenter))
            print(f"{name}, seed {seed}: " + ", ".join(f"{k} {per_seed[-1][k]:.4g}" for k in METRICS), flush=True)
        result["rows"][name] = {"source": sources.describe(source), "source_arg": source,
                                "source_sha256": _file_sha256(source), **_summary(per_seed)}
    mean_photo = np.repeat(train_photos.mean(axis=0, keepdims=True), len(inputs), axis=0)
    for name, images in (("real photos", targets), ("mean training photo", mean_photo)):
        result["rows"][name] = {"source": name, **_summary([_all_scores(images, targets, labels, train_photos, 0,
                                                                        segmenter)])}
    return result


def _file_sha256(source: str) -> str | None:
    """The sha256 of a model file (None for a zoo name)."""
    from keras_gan.utils.files import sha256_of

    return sha256_of(source) if os.path.isfile(source) else None


def drawable_rows(result: dict) -> list[str]:
    """The rows whose model can still be loaded as it was scored: zoo names (sha256-checked on load)
    and files whose sha256 is still the one recorded (`source_sha256`, or the one named in an older
    row's `source`). A run's export that training has since overwritten is left out of the grid."""
    names = []
    for name, row in result["rows"].items():
        source = row.get("source_arg")
        if source is None or (source.endswith((".h5", ".keras")) and not os.path.exists(source)):
            continue
        current = _file_sha256(source)  # None for a zoo name
        if current is not None:
            recorded = row.get("source_sha256") or next(iter(re.findall(r"[0-9a-f]{64}", row["source"])), None)
            if current != recorded:
                print(f"grid: leaving out {name!r}: {source} is no longer the file that was scored", flush=True)
                continue
        names.append(name)
    return names


def save_grid(path: str, result: dict, data_dir: str | None, count: int = 4) -> list[str]:
    """PNG: for the first `count` test inputs, label map | each drawable model row (seed 0) | real photo.
    Returns the rows drawn."""
    from keras_gan import datasets, utils

    inputs, targets = datasets.facades("test", data_dir=data_dir, limit=count)
    columns = [inputs]
    drawable = drawable_rows(result)
    for name in drawable:
        columns.append(paired.translate_all(sources.load_model(result["rows"][name]["source_arg"]), inputs,
                                            seed=0, progress=False))
    columns.append(targets)
    tiles = np.stack(columns, axis=1).reshape((-1,) + inputs.shape[1:])
    utils.save_image_grid(path, tiles, cols=len(columns), value_range=(-1.0, 1.0))
    return drawable


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--row", action="append", default=[], metavar="NAME=SOURCE",
                   help="a table row: its name and the model (zoo name, NAME.weights.h5, .keras)")
    p.add_argument("--merge", action="append", default=[], metavar="JSON",
                   help="rows measured earlier (a --json file of this command), put first; same seeds")
    p.add_argument("--seeds", type=int, default=5, help="dropout seeds per row (default 5)")
    p.add_argument("--data-dir", default=None, help="facades folder (default: $KERAS_GAN_DATA_DIR)")
    p.add_argument("--json", default=None, help="write the table with per-seed values to this file")
    p.add_argument("--markdown", default=None, help="write the markdown table to this file")
    p.add_argument("--grid", default=None,
                   help="write a PNG: label | each model row's translation (seed 0) | real photo, 4 test inputs")
    args = p.parse_args(argv)
    rows = []
    for text in args.row:
        name, sep, source = text.rpartition("=")
        if not sep or not name or not source:
            p.error(f"--row takes NAME=SOURCE; got {text!r}")
        rows.append((name, source))
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    if not rows and not args.merge:
        p.error("give at least one --row (or --merge)")
    try:
        for _, source in rows:  # every source checked before hours of work
            sources.load_model(source)
        merged = []
        for path in args.merge:
            with open(path) as f:
                merged.append(json.load(f))
        if any(m["seeds"] != list(range(args.seeds)) for m in merged):
            raise ValueError("--merge files were measured with other seeds than --seeds; use the same count.")
        result = table(rows, args.seeds, args.data_dir) if rows else {
            "split": "test", "n": 50, "seeds": list(range(args.seeds)), "rows": {}}
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    earlier = {name: row for m in merged for name, row in m["rows"].items()}
    result["rows"] = {**{k: v for k, v in earlier.items() if k not in result["rows"]}, **result["rows"]}
    text = markdown(result)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}; if it is the card's table (zoo/cards/results/), "
              "run python -m zoo.numbers to regenerate the card and README from it")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    if args.grid:
        drawn = save_grid(args.grid, result, args.data_dir)
        print(f"wrote {args.grid} (columns: label, " + ", ".join(drawn) + ", real photo)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
