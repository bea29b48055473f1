"""Training steps per second (or peak memory) of the paper's MNIST GAN: keras_gan vs a native loop.

    python bench/bench_gan_mnist.py                     # all three backends, 5 processes each
    python bench/bench_gan_mnist.py --backend jax       # one backend (repeatable)
    python bench/bench_gan_mnist.py --steps 300 --repeats 3 --processes 10 --json out.json
    python bench/bench_gan_mnist.py --memory            # peak resident memory, each side alone

Baseline: `bench/native_mnist_gan.py`, the same networks, batch (100),
losses and optimiser written directly in the backend's framework. Both sides
read batches from the same in-memory numpy array. Each process reports the
steps/s of each side (best of `--repeats` timed runs of `--steps` steps, the
two sides taking turns, after a warm-up that includes compilation) and the
ratio native/keras_gan steps/s, i.e. how many times longer a keras_gan step
takes (the goal is <= 1.15); the table gives the median and range of that
ratio over `--processes` fresh processes per backend, each side's median
steps/s and the load (see bench/_runner.py for why). With `--memory`, each
side runs alone in its own processes (warm-up and `--steps` x `--repeats`
steps) and the table gives both peak resident memories and their ratio
(goal <= 1.2). The Keras side runs `model.fit` as a user would (default
`jit_compile`: XLA on JAX; on TensorFlow, Keras' default is a tf.function
graph without XLA on a CPU and XLA on a GPU, and the native loop is compiled
the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # _runner and the native baseline, however this file is started

import _runner  # noqa: E402

BATCH = 100
WARMUP_STEPS = 5


def run_backend(args) -> dict:
    """One child: time both sides in turn, or (with `--side`) one side alone for its peak memory."""
    backend = args.backend[0]
    os.environ["KERAS_BACKEND"] = backend
    import numpy as np

    import native_mnist_gan as native

    steps = max(args.steps, WARMUP_STEPS)
    data = np.random.default_rng(0).uniform(0, 1, (BATCH * steps, 28, 28, 1)).astype("float32")
    row, fns, keras_jit = {"backend": backend}, {}, None
    if args.side in (None, "keras_gan"):  # the native side alone imports neither Keras nor keras_gan
        sys.path.insert(0, os.path.dirname(HERE))
        import keras

        import keras_gan
        from keras_gan import networks

        keras.utils.set_random_seed(0)
        gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=0)
        gan.compile(
            d_optimizer=keras.optimizers.SGD(native.LR, momentum=native.MOMENTUM),
            g_optimizer=keras.optimizers.SGD(native.LR, momentum=native.MOMENTUM),
        )
        gan.fit(data[: BATCH * WARMUP_STEPS], batch_size=BATCH, epochs=1, verbose=0)  # compile / warm up
        keras_jit = bool(gan.jit_compile)
        row.update(jit_compile=str(gan.jit_compile), native_args=["--native-jit", str(keras_jit).lower()])
        fns["keras_gan"] = lambda n: gan.fit(data[: BATCH * n], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    if args.side in (None, "native"):
        jit = _runner.native_jit(args, keras_jit)
        step = {"tensorflow": lambda: native.make_tensorflow(jit_compile=jit),  # as Keras compiles
                "jax": native.make_jax, "torch": native.make_torch}[backend]()

        def native_run(n):
            out = None
            for i in range(n):
                out = step(data[i * BATCH : (i + 1) * BATCH])
            float(out[0])  # wait for asynchronous work (a GPU's too)

        native_run(WARMUP_STEPS)
        fns["native"] = native_run
    return _runner.measure_row(row, fns, args.steps, args.repeats)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=_runner.positive_int, default=200, help="steps per timed run (default: 200)")
    p.add_argument("--repeats", type=_runner.positive_int, default=3, help="timed runs per side (default: 3)")
    _runner.add_arguments(p)
    return p.parse_args(argv)


def child_options(args) -> list[str]:
    """The options a child gets (the parent's, less backends, processes and output)."""
    return ["--steps", str(args.steps), "--repeats", str(args.repeats)]


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_backend(args)))
        return 0
    header = f"MNIST GAN, batch {BATCH}, {args.steps} steps, best of {args.repeats}, {args.processes} processes"
    return _runner.run_all_backends(__file__, child_options(args), args, decimals=1,
                                    header=header + (", peak memory" if args.memory else ""))


if __name__ == "__main__":
    sys.exit(main())
