"""Translate a folder of images with a pix2pix model into a folder of PNGs.

    python -m keras_gan.translate pix2pix-facades label_maps/ photos/
    python -m keras_gan.translate runs/my_pix2pix/export/pix2pix-folder.weights.h5 my_pairs/test out/ --half A
    python -m keras_gan.translate pix2pix-facades maps/ out/ --mode eval --batch-size 16 --overwrite

MODEL is a zoo name, a zoo export (NAME.weights.h5) or the export of a
`python -m zoo.train pix2pix-folder` run (its architecture is inside the file).
Every image of INPUT (any size; resized to the model's square input, bilinearly -
palette images, i.e. label maps, with nearest neighbour, as the facades were -
and to its channels) gives OUTPUT/<same name>.png at the model's size. `--half
A` or `B` takes that half of A|B pair images (a pix2pix data set's test/ folder;
which half is the input: A for an AtoB model).

Modes (`Pix2Pix.translate`): "paper" (default) runs the generator as the paper
tests it, dropout on and batch norm with the statistics of each batch of
`--batch-size` images (keep 1, the paper's, for outputs that depend on their input
only); the dropout masks of batch k come from seed `--seed` + k. "eval" is Keras'
inference mode: no dropout, batch norm with the moving averages; deterministic.

Everything is checked before anything is written: the model, every input file
(header check), the names (two inputs that would give the same PNG), and the
output folder (an existing non-empty one is refused unless --overwrite, which
first deletes the images in it). Exit status 0, or 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m keras_gan.translate", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="zoo name (pix2pix-facades, ...) or exported .weights.h5 file")
    p.add_argument("input", help="folder of input images")
    p.add_argument("output", help="folder for the PNGs (created)")
    p.add_argument("--mode", choices=("paper", "eval"), default="paper",
                   help="paper: dropout on, batch statistics (default); eval: Keras inference mode")
    p.add_argument("--batch-size", type=int, default=1, help="images per forward pass (default 1, the paper's)")
    p.add_argument("--seed", type=int, default=0, help="dropout seed of the paper mode (default 0)")
    p.add_argument("--half", choices=("A", "B"), default=None,
                   help="inputs are A|B pair images: translate this half (A = left)")
    p.add_argument("--overwrite", action="store_true", help="replace the images in a non-empty OUTPUT")
    p.add_argument("--allow-unverified", action="store_true",
                   help="load a weights file whose sha256 record does not match")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.batch_size < 1:
        p.error("--batch-size must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from keras_gan.datasets.idx import DataFileError
    from keras_gan.utils.image_folders import output_folder_problem

    problem = output_folder_problem(args.output, args.overwrite)
    if problem:
        return _fail(f"OUTPUT: {problem}")
    if os.path.abspath(args.output) == os.path.abspath(args.input):
        return _fail("OUTPUT is INPUT; give another folder for the PNGs.")
    try:
        inputs = _scan_inputs(args.input, args.half)
    except DataFileError as e:
        return _fail(str(e))
    try:
        model = _load_pix2pix(args.model, args.allow_unverified)
    except ValueError as e:
        return _fail(str(e))
    except RuntimeError as e:  # zoo weights errors
        return _fail(str(e))
    try:
        translate_folder(model, inputs, args.output, args.mode, args.batch_size, args.seed, args.half,
                         progress=not args.quiet)
    except DataFileError as e:
        return _fail(f"{e} (PNGs already written in {args.output} stay; run again with --overwrite)")
    print(f"{len(inputs)} translations in {args.output}", file=sys.stderr)
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _scan_inputs(folder: str, half: str | None) -> list:
    """Every input header-checked; output names unique. Returns the ImageInfo list."""
    from keras_gan.datasets.idx import DataFileError
    from keras_gan.datasets.image_files import list_image_files, scan_image

    infos, names = [], {}
    for path in list_image_files(folder, "input images"):
        info = scan_image(path)
        if half is not None and info.width % 2:
            raise DataFileError(f"{path} is {info.width}x{info.height}: --half needs A|B pair images of even "
                                "width (two halves of equal width).")
        name = os.path.splitext(os.path.basename(path))[0] + ".png"
        if name in names:
            raise DataFileError(f"{path} and {names[name]} would both be written as {name}; rename one.")
        names[name] = path
        infos.append(info)
    return infos


def _load_pix2pix(spec: str, allow_unverified: bool):
    from keras_gan.folder_models import ModelFileError, load_model
    from keras_gan.models import Pix2Pix

    model, _ = load_model(spec, allow_unverified=allow_unverified)
    if not isinstance(model, Pix2Pix):
        raise ModelFileError(f"{spec} is a {type(model).__name__}, which makes samples, not translations: "
                             "use python -m keras_gan.generate.")
    return model


def translate_folder(model, inputs: list, output: str, mode: str = "paper", batch_size: int = 1, seed: int = 0,
                     half: str | None = None, progress: bool = True) -> list[str]:
    """Translate the images `inputs` (ImageInfo list) into `output`/<name>.png; returns the paths."""
    import keras
    import numpy as np

    from keras_gan.datasets.image_files import as_channels, open_image, resize
    from keras_gan.utils.image_folders import prepare_output_folder, save_png, to_uint8

    height, width, channels = model.input_image_shape
    prepare_output_folder(output)
    bar = keras.utils.Progbar(len(inputs), unit_name="image") if progress else None
    written = []
    for k, start in enumerate(range(0, len(inputs), batch_size)):
        chunk = inputs[start : start + batch_size]
        arrays = []
        for info in chunk:
            image, _ = open_image(info.path)
            if half is not None:
                w, h = image.size
                image = image.crop((0, 0, w // 2, h) if half == "A" else (w // 2, 0, w, h))
            smooth = image.mode != "P"  # a palette image is a label map: nearest neighbour keeps its colours
            array = resize(as_channels(image, channels), (width, height), smooth).reshape(height, width, channels)
            arrays.append(array.astype(np.float32) / 127.5 - 1.0)
        outputs = model.translate(np.stack(arrays), batch_size=len(arrays), mode=mode,
                                  seed=(seed + k) if mode == "paper" else None)
        for info, image in zip(chunk, to_uint8(outputs, (-1.0, 1.0))):
            path = os.path.join(output, os.path.splitext(os.path.basename(info.path))[0] + ".png")
            save_png(path, image)
            written.append(path)
        if bar is not None:
            bar.add(len(chunk))
    return written


if __name__ == "__main__":
    sys.exit(main())
