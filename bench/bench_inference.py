"""Inference images per second: `GAN.generate` and `Pix2Pix.translate` against a native forward loop.

    python bench/bench_inference.py                        # all three backends, 5 processes each
    python bench/bench_inference.py --backend torch --case translate --batch-size 16
    python bench/bench_inference.py --image-size 64 --steps 2 --images 16 --repeats 1 --processes 2  # smoke

What the folder commands, the zoo's evaluations and the web demo run. Cases
(`--case`, repeatable; default all):

- `generate`: the MNIST GAN of bench_gan_mnist.py, `gan.generate(1000,
  batch_size=1000)` per call, `--steps` calls per timed run; against
  `native_mnist_gan.make_*_generate`: the same generator on fresh uniform
  noise, returned as numpy.
- `translate`: pix2pix at `--image-size` (256, the paper's),
  `model.translate(images, batch_size=B, mode="paper")` over `--images`
  images per timed run (rounded up to a multiple of B), for each
  `--batch-size` B (default 1 and 16); against
  `native_pix2pix.make_*_translate`: the same U-Net in the paper's test mode
  (dropout on, batch norm with each batch's statistics, as in training),
  B images per forward pass, returned as numpy.

The native loops are what an expert writes: `tf.function` (no XLA),
`jax.jit`, torch under `no_grad`; each keeps the framework's own weights, so
neither side pays for copying weights per call. Each process reports both
sides' images/s (best of `--repeats` timed runs, the two sides taking turns,
after a warm-up call each) and the ratio of their times (keras_gan over
native; the goal is <= 1.15); the table gives, per backend and case, the
median and range of the ratio over `--processes` fresh processes, each
side's median images/s and the load (see bench/_runner.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # _runner and the native baselines, however this file is started

import _runner  # noqa: E402

CASES = ("generate", "translate")
SAMPLES = 1000  # per generate call, one batch


def run_backend(args) -> list[dict]:
    """One child: every case, each side's calls taken in turn."""
    backend, size = args.backend[0], args.image_size
    os.environ["KERAS_BACKEND"] = backend
    sys.path.insert(0, os.path.dirname(HERE))
    import keras
    import numpy as np

    import keras_gan
    import native_mnist_gan
    import native_pix2pix
    from keras_gan import networks

    rows = []
    cases = args.case or CASES
    if "generate" in cases:
        keras.utils.set_random_seed(0)
        gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=0)
        native = getattr(native_mnist_gan, f"make_{backend}_generate")()
        fns = {"keras_gan": lambda k: [gan.generate(SAMPLES, batch_size=SAMPLES) for _ in range(k)],
               "native": lambda k: [native(SAMPLES) for _ in range(k)]}
        for fn in fns.values():
            fn(1)  # warm up (tracing, compilation)
        rows.append(_runner.measure_row({"backend": backend, "case": f"generate b{SAMPLES}"}, fns, args.steps,
                                        args.repeats, unit="images", per_step=SAMPLES))
    if "translate" in cases:
        levels = networks.pix2pix.default_levels(size)
        keras.utils.set_random_seed(0)
        model = keras_gan.Pix2Pix(networks.unet_generator(size, levels=levels), networks.patchgan_discriminator(size))
        native = getattr(native_pix2pix, f"make_{backend}_translate")(levels=levels)
        for batch in args.batch_size or (1, 16):
            n = -(-args.images // batch) * batch
            images = np.random.default_rng(0).uniform(-1, 1, (n, size, size, 3)).astype("float32")

            def keras_run(k, batch=batch, images=images):
                model.translate(images[:k], batch_size=batch, mode="paper")

            def native_run(k, batch=batch, images=images):
                for i in range(0, k, batch):
                    native(images[i : i + batch])

            keras_run(batch)  # warm up (tracing, compilation)
            native_run(batch)
            rows.append(_runner.measure_row({"backend": backend, "case": f"translate b{batch}", "image_size": size},
                                            {"keras_gan": keras_run, "native": native_run}, n, args.repeats,
                                            unit="images"))
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append", choices=CASES, help="generate or translate (repeatable; default both)")
    p.add_argument("--steps", type=_runner.positive_int, default=20,
                   help=f"generate: calls of {SAMPLES} samples per timed run (default: 20)")
    p.add_argument("--images", type=_runner.positive_int, default=16,
                   help="translate: images per timed run, at each batch size (default: 16)")
    p.add_argument("--batch-size", type=_runner.positive_int, action="append",
                   help="translate: images per generator pass (repeatable; default: 1 and 16)")
    p.add_argument("--image-size", type=_runner.positive_int, default=256,
                   help="translate: a power of 2 (default: 256)")
    p.add_argument("--repeats", type=_runner.positive_int, default=3, help="timed runs per side (default: 3)")
    _runner.add_arguments(p, memory=False)
    return p.parse_args(argv)


def child_options(args) -> list[str]:
    """The options a child gets (the parent's, less backends, processes and output)."""
    options = ["--steps", str(args.steps), "--images", str(args.images), "--image-size", str(args.image_size),
               "--repeats", str(args.repeats)]
    for case in args.case or ():
        options += ["--case", case]
    for batch in args.batch_size or ():
        options += ["--batch-size", str(batch)]
    return options


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_backend(args)))
        return 0
    header = (f"inference: generate {args.steps} x {SAMPLES} samples; translate {args.image_size}x{args.image_size} "
              f"paper mode, {args.images} images; best of {args.repeats}, {args.processes} processes")
    return _runner.run_all_backends(__file__, child_options(args), args, decimals=1, header=header, unit="images")


if __name__ == "__main__":
    sys.exit(main())
