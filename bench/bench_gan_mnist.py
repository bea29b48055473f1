"""Training steps per second of the paper's MNIST GAN: keras_gan vs a native loop.

    python bench/bench_gan_mnist.py                 # all three backends, one process each
    python bench/bench_gan_mnist.py --backend jax   # one backend
    python bench/bench_gan_mnist.py --steps 300 --repeats 3 --json out.json

Baseline: `bench/native_mnist_gan.py`, the same networks, batch (100),
losses and optimiser written directly in the backend's framework. Both sides
read batches from the same in-memory numpy array. Reported: steps/s of each
(best of `--repeats` timed runs, the two sides taking turns, after a warm-up
that includes compilation) and the ratio native/keras_gan, i.e. how many times
longer a keras_gan step takes (the goal is <= 1.15). The Keras side runs `model.fit` as a user would (default
`jit_compile`: XLA on JAX; on TensorFlow, Keras' default is a tf.function
graph without XLA on CPU, and the native loop is compiled the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # _runner and the native baseline, however this file is started

from _runner import BACKENDS, measure_alternately, run_all_backends  # noqa: E402


def run_backend(backend: str, steps: int, repeats: int) -> dict:
    os.environ["KERAS_BACKEND"] = backend
    sys.path.insert(0, os.path.dirname(HERE))
    import keras
    import numpy as np

    import keras_gan
    import native_mnist_gan as native
    from keras_gan import networks

    batch = 100
    data = np.random.default_rng(0).uniform(0, 1, (batch * steps, 28, 28, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=0)
    gan.compile(
        d_optimizer=keras.optimizers.SGD(native.LR, momentum=native.MOMENTUM),
        g_optimizer=keras.optimizers.SGD(native.LR, momentum=native.MOMENTUM),
    )
    gan.fit(data[: batch * 5], batch_size=batch, epochs=1, verbose=0)  # compile / warm up

    def keras_run(n):
        gan.fit(data[: batch * n], batch_size=batch, epochs=1, verbose=0, shuffle=False)

    step = {"tensorflow": lambda: native.make_tensorflow(jit_compile=bool(gan.jit_compile)),  # as Keras compiles
            "jax": native.make_jax, "torch": native.make_torch}[backend]()

    def native_run(n):
        out = None
        for i in range(n):
            out = step(data[i * batch : (i + 1) * batch])
        float(out[0])  # wait for asynchronous work (a GPU's too)

    native_run(5)
    keras_sps, native_sps = measure_alternately([keras_run, native_run], steps, repeats)
    return {
        "backend": backend,
        "keras_gan_steps_per_s": round(keras_sps, 2),
        "native_steps_per_s": round(native_sps, 2),
        "ratio_keras_gan_over_native_time": round(native_sps / keras_sps, 3),
        "jit_compile": str(gan.jit_compile),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[1])
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.backend:
        print(json.dumps(run_backend(args.backend, args.steps, args.repeats)))
        return 0
    options = ["--steps", str(args.steps), "--repeats", str(args.repeats)]
    return run_all_backends(__file__, options, decimals=1, json_path=args.json)


if __name__ == "__main__":
    sys.exit(main())
