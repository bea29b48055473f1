"""Training steps per second of pix2pix (256x256, batch 1 by default): keras_gan vs a native loop.

    python bench/bench_pix2pix.py                          # all three backends, one process each
    python bench/bench_pix2pix.py --backend jax            # one backend
    python bench/bench_pix2pix.py --steps 5 --repeats 1    # quick (CPU)
    python bench/bench_pix2pix.py --image-size 64 --json out.json
    python bench/bench_pix2pix.py --batch-size 16          # e.g. on a GPU

Baseline: `bench/native_pix2pix.py`, the paper's U-Net and 70x70 PatchGAN,
losses, alternating updates and Adam written directly in each framework
(its own networks, not the Keras layers), with G's forward pass computed
once per step as in the reference code. Both sides read the same in-memory
numpy pairs, batch size 1 (the paper's). Reported: steps/s of each (best of
`--repeats` timed runs of `--steps` steps, the two sides taking turns, after a
warm-up that includes compilation) and the ratio native/keras_gan, i.e. how many times longer a
keras_gan step takes (the goal is <= 1.15). The Keras side runs `model.fit`
as a user would (default `jit_compile`: XLA on JAX; on TensorFlow on a CPU,
Keras' default is a tf.function graph without XLA, and the native loop is
compiled the same way; PyTorch runs eagerly on both sides).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # _runner and the native baseline, however this file is started

from _runner import BACKENDS, measure_alternately, run_all_backends  # noqa: E402

WARMUP_STEPS = 2


def run_backend(backend: str, steps: int, repeats: int, image_size: int, batch_size: int = 1) -> dict:
    os.environ["KERAS_BACKEND"] = backend
    sys.path.insert(0, os.path.dirname(HERE))
    import keras
    import numpy as np

    import keras_gan
    import native_pix2pix as native
    from keras_gan import networks

    levels = networks.pix2pix.default_levels(image_size)
    n = max(steps, WARMUP_STEPS) * batch_size
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, (n, image_size, image_size, 3)).astype("float32")
    targets = rng.uniform(-1, 1, (n, image_size, image_size, 3)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras_gan.Pix2Pix(
        networks.unet_generator(image_size, levels=levels), networks.patchgan_discriminator(image_size)
    )
    model.compile()  # the paper's Adam(2e-4, beta_1=0.5)
    fit = lambda k: model.fit(inputs[: k * batch_size], targets[: k * batch_size], batch_size=batch_size, epochs=1,
                              verbose=0, shuffle=False)
    fit(WARMUP_STEPS)  # compile / warm up

    make = {
        "tensorflow": lambda: native.make_tensorflow(jit_compile=bool(model.jit_compile), levels=levels),
        "jax": lambda: native.make_jax(levels=levels),
        "torch": lambda: native.make_torch(levels=levels),
    }[backend]
    step = make()

    def native_run(k):
        out = None
        for i in range(0, k * batch_size, batch_size):
            out = step(inputs[i : i + batch_size], targets[i : i + batch_size])
        float(out[0])  # wait for asynchronous work (a GPU's too)

    native_run(WARMUP_STEPS)
    keras_sps, native_sps = measure_alternately([fit, native_run], steps, repeats)
    return {
        "backend": backend,
        "image_size": image_size,
        "batch_size": batch_size,
        "keras_gan_steps_per_s": round(keras_sps, 3),
        "native_steps_per_s": round(native_sps, 3),
        "ratio_keras_gan_over_native_time": round(native_sps / keras_sps, 3),
        "jit_compile": str(model.jit_compile),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--image-size", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=1, help="pairs per step (the paper's facades runs: 1)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.backend:
        print(json.dumps(run_backend(args.backend, args.steps, args.repeats, args.image_size, args.batch_size)))
        return 0
    options = ["--steps", str(args.steps), "--repeats", str(args.repeats), "--image-size", str(args.image_size),
               "--batch-size", str(args.batch_size)]
    header = (f"pix2pix {args.image_size}x{args.image_size}, batch {args.batch_size}, {args.steps} steps, "
              f"best of {args.repeats}")
    return run_all_backends(__file__, options, decimals=3, header=header, announce=True, json_path=args.json)


if __name__ == "__main__":
    sys.exit(main())
