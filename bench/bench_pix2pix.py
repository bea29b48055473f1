"""Training steps per second (or peak memory) of pix2pix (256x256, batch 1 or 16): keras_gan vs a native loop.

    python bench/bench_pix2pix.py                          # all three backends, 5 processes each, batch 1
    python bench/bench_pix2pix.py --batch-size 16          # batch 16 (the multi-process and GPU settings)
    python bench/bench_pix2pix.py --backend jax            # one backend (repeatable)
    python bench/bench_pix2pix.py --steps 5 --repeats 1 --processes 1   # quick (CPU)
    python bench/bench_pix2pix.py --image-size 64 --json out.json
    python bench/bench_pix2pix.py --memory                 # peak resident memory, each side alone

Baseline: `bench/native_pix2pix.py`, the paper's U-Net and 70x70 PatchGAN,
losses, alternating updates and Adam written directly in each framework
(its own networks, not the Keras layers), with G's forward pass computed
once per step as in the reference code. Both sides read the same in-memory
numpy pairs, `--batch-size` pairs per step: 1 is the paper's facades
setting, 16 what larger-batch runs (several processes, a GPU) use; a step is
one batch, so steps/s x batch size is pairs/s. Each process reports the
steps/s of each side (best of `--repeats` timed runs of `--steps` steps, the
two sides taking turns, after a warm-up that includes compilation) and the
ratio native/keras_gan steps/s, i.e. how many times longer a keras_gan step
takes (the goal is <= 1.15); the table gives the median and range of that
ratio over `--processes` fresh processes per backend, each side's median
steps/s and the load (see bench/_runner.py for why). With `--memory`, each
side runs alone in its own processes and the table gives both peak resident
memories and their ratio (goal <= 1.2). The Keras side runs `model.fit` as a
user would (default `jit_compile`: XLA on JAX; on TensorFlow, Keras' default
is a tf.function graph without XLA on a CPU and XLA on a GPU, and the native
loop is compiled the same way; PyTorch runs eagerly on both sides).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # _runner and the native baseline, however this file is started

import _runner  # noqa: E402

WARMUP_STEPS = 2


def run_backend(args) -> dict:
    """One child: time both sides in turn, or (with `--side`) one side alone for its peak memory."""
    backend, size, batch = args.backend[0], args.image_size, args.batch_size
    os.environ["KERAS_BACKEND"] = backend
    import numpy as np

    import native_pix2pix as native

    levels = int(round(np.log2(size)))  # down to 1x1, as keras_gan.networks.pix2pix.default_levels
    n = max(args.steps, WARMUP_STEPS) * batch
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, (n, size, size, 3)).astype("float32")
    targets = rng.uniform(-1, 1, (n, size, size, 3)).astype("float32")
    row, fns, keras_jit = {"backend": backend, "image_size": size, "batch_size": batch}, {}, None
    if args.side in (None, "keras_gan"):  # the native side alone imports neither Keras nor keras_gan
        sys.path.insert(0, os.path.dirname(HERE))
        import keras

        import keras_gan
        from keras_gan import networks

        assert levels == networks.pix2pix.default_levels(size)
        keras.utils.set_random_seed(0)
        model = keras_gan.Pix2Pix(
            networks.unet_generator(size, levels=levels), networks.patchgan_discriminator(size)
        )
        model.compile()  # the paper's Adam(2e-4, beta_1=0.5)
        fit = lambda k: model.fit(inputs[: k * batch], targets[: k * batch], batch_size=batch, epochs=1,
                                  verbose=0, shuffle=False)
        fit(WARMUP_STEPS)  # compile / warm up
        keras_jit = bool(model.jit_compile)
        row.update(jit_compile=str(model.jit_compile), native_args=["--native-jit", str(keras_jit).lower()])
        fns["keras_gan"] = fit
    if args.side in (None, "native"):
        jit = _runner.native_jit(args, keras_jit)
        step = {
            "tensorflow": lambda: native.make_tensorflow(jit_compile=jit, levels=levels),  # as Keras compiles
            "jax": lambda: native.make_jax(levels=levels),
            "torch": lambda: native.make_torch(levels=levels),
        }[backend]()

        def native_run(k):
            out = None
            for i in range(0, k * batch, batch):
                out = step(inputs[i : i + batch], targets[i : i + batch])
            float(out[0])  # wait for asynchronous work (a GPU's too)

        native_run(WARMUP_STEPS)
        fns["native"] = native_run
    return _runner.measure_row(row, fns, args.steps, args.repeats)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=_runner.positive_int, default=50, help="steps per timed run (default: 50)")
    p.add_argument("--repeats", type=_runner.positive_int, default=3, help="timed runs per side (default: 3)")
    p.add_argument("--image-size", type=_runner.positive_int, default=256, help="a power of 2 (default: 256)")
    p.add_argument("--batch-size", type=_runner.positive_int, default=1,
                   help="pairs per step: 1 (default; the paper's facades runs) or 16 (larger-batch runs, a GPU)")
    _runner.add_arguments(p)
    return p.parse_args(argv)


def child_options(args) -> list[str]:
    """The options a child gets (the parent's, less backends, processes and output)."""
    return ["--steps", str(args.steps), "--repeats", str(args.repeats), "--image-size", str(args.image_size),
            "--batch-size", str(args.batch_size)]


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_backend(args)))
        return 0
    header = (f"pix2pix {args.image_size}x{args.image_size}, batch {args.batch_size}, {args.steps} steps, "
              f"best of {args.repeats}, {args.processes} processes" + (", peak memory" if args.memory else ""))
    return _runner.run_all_backends(__file__, child_options(args), args, decimals=3, header=header)


if __name__ == "__main__":
    sys.exit(main())
