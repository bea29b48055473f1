"""Generate samples of a GAN or CGAN into a folder of PNGs.

    python -m keras_gan.generate gan-mnist samples/ --num-samples 10000
    python -m keras_gan.generate runs/my_gan/export/gan-folder.weights.h5 samples/ -n 5000
    python -m keras_gan.generate runs/my_cgan/export/cgan-folder.weights.h5 samples/ -n 1000   # per class
    python -m keras_gan.generate cgan-mnist samples/ -n 100 --classes 3,7

MODEL is a zoo name, a zoo export (NAME.weights.h5) or the export of a
`python -m zoo.train gan-folder` / `cgan-folder` run. A GAN writes
OUTPUT/000000.png ...; a CGAN writes --num-samples images per class into
OUTPUT/<class name>/ (cgan-folder: the training folder's class names; zoo
CGANs: the digit), the layout `keras_gan.datasets.ImageFolderDataset` reads.
Sample i is a function of (--seed, i) alone (`GAN.generate`), whatever
--batch-size; class c's samples use seed --seed + c. The folder feeds
`python -m evaluation.fidelity` (and torch-fidelity) as it is.

Checked before anything is written: the model, the counts (and the memory they
need), the output folder (an existing non-empty one is refused unless
--overwrite, which first deletes the images in it). Exit 0, or 2 with one line.
"""

from __future__ import annotations

import argparse
import os
import sys

#: At most this share of the available memory may hold the generated samples (float32).
MEMORY_SHARE = 0.5


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m keras_gan.generate", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="zoo name (gan-mnist, cgan-mnist, ...) or exported .weights.h5 file")
    p.add_argument("output", help="folder for the PNGs (created)")
    p.add_argument("-n", "--num-samples", type=int, required=True, help="samples (per class for a CGAN)")
    p.add_argument("--classes", default=None,
                   help="CGAN: comma-separated class names or indices (default: every class)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latents (default 0)")
    p.add_argument("--batch-size", type=int, default=1000, help="samples per generator call (memory only)")
    p.add_argument("--overwrite", action="store_true", help="replace the images in a non-empty OUTPUT")
    p.add_argument("--allow-unverified", action="store_true",
                   help="load a weights file whose sha256 record does not match")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.num_samples < 1:
        p.error("--num-samples must be >= 1")
    if args.batch_size < 1:
        p.error("--batch-size must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from keras_gan.utils.image_folders import output_folder_problem

    problem = output_folder_problem(args.output, args.overwrite)
    if problem:
        return _fail(f"OUTPUT: {problem}")
    try:
        from keras_gan.folder_models import load_model

        model, architecture = load_model(args.model, allow_unverified=args.allow_unverified)
        classes = _classes(model, architecture, args.classes)
        _check_memory(model, args.num_samples)
    except (ValueError, RuntimeError) as e:  # ModelFileError, zoo errors
        return _fail(str(e))
    written = generate_folder(model, args.output, args.num_samples, classes, args.seed, args.batch_size,
                              progress=not args.quiet)
    print(f"{written} samples in {args.output}", file=sys.stderr)
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _classes(model, architecture: dict | None, wanted: str | None) -> list[tuple[int, str]] | None:
    """[(class index, folder name)] for a CGAN, None for a GAN."""
    from keras_gan.models import GAN, ConditionalGAN

    if not isinstance(model, GAN):
        raise ValueError(f"{type(model).__name__} translates images rather than sampling them: use "
                         "python -m keras_gan.translate.")
    if not isinstance(model, ConditionalGAN):
        if wanted is not None:
            raise ValueError("--classes applies to a CGAN; this model is unconditional.")
        return None
    names = list((architecture or {}).get("class_names") or [str(i) for i in range(model.num_classes)])
    if wanted is None:
        return list(enumerate(names))
    chosen = []
    for item in (part.strip() for part in wanted.split(",") if part.strip()):
        if item in names:
            chosen.append((names.index(item), item))
        elif item.isdigit() and int(item) < len(names):
            chosen.append((int(item), names[int(item)]))
        else:
            raise ValueError(f"--classes: {item!r} is not a class of this model ({', '.join(names)}).")
    return chosen


def _check_memory(model, count_per_class: int) -> None:
    import numpy as np

    per_sample = int(np.prod(model.data_shape)) * 4
    available = _available_memory_bytes()
    if available and count_per_class * per_sample > MEMORY_SHARE * available:
        fits = int(MEMORY_SHARE * available // per_sample)
        raise ValueError(f"--num-samples {count_per_class} needs {count_per_class * per_sample / 2**30:.1f} GiB "
                         f"for the samples, more than half the {available / 2**30:.1f} GiB available; use at most "
                         f"{fits} (or run several times with different --seed values into different folders).")


def _available_memory_bytes() -> int | None:
    """Linux's MemAvailable (as evaluation.sources measures it), else None (nothing refused)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def generate_folder(model, output: str, count: int, classes: list | None = None, seed: int = 0,
                    batch_size: int = 1000, progress: bool = True) -> int:
    """Write `count` samples (per class of `classes`) as PNGs into `output`; returns how many."""
    import keras
    import numpy as np

    from keras_gan.models.gan import generator_range
    from keras_gan.utils.image_folders import prepare_output_folder, save_png, to_uint8

    value_range = generator_range(model.generator) or (0.0, 1.0)
    prepare_output_folder(output)
    groups = [(None, output, seed)] if classes is None else [
        (index, os.path.join(output, name), seed + index) for index, name in classes]
    bar = keras.utils.Progbar(count * len(groups), unit_name="sample") if progress else None
    for label, folder, group_seed in groups:
        os.makedirs(folder, exist_ok=True)
        if label is None:
            samples = model.generate(count, seed=group_seed, batch_size=batch_size)
        else:
            samples = model.generate(np.full(count, label), seed=group_seed, batch_size=batch_size)
        samples = _as_images(samples)
        for i, image in enumerate(to_uint8(samples, value_range)):
            save_png(os.path.join(folder, f"{i:06d}.png"), image)
            if bar is not None and (i + 1) % 100 == 0:
                bar.add(100)
        if bar is not None and count % 100:
            bar.add(count % 100)
    return count * len(groups)


def _as_images(samples):
    """(N, H, W[, C]) images; flat MLP samples of a square size (MNIST's 784) are reshaped."""
    import math

    if samples.ndim == 2:
        side = math.isqrt(samples.shape[1])
        if side * side == samples.shape[1]:
            return samples.reshape(len(samples), side, side)
    return samples


if __name__ == "__main__":
    sys.exit(main())
