"""Why the TensorFlow MNIST GAN step was 1.3x native on a 2-core CPU: the input pipeline (issue 34).

    python bench/diagnose_tf_input.py            # one process; run it several times, machine idle

One process times, in turn (best of 3 runs of 200 steps, batch 100, after a
warm-up): `GAN.fit(arrays)` as keras_gan feeds it now (a one-thread
pipeline, keras_gan/backend/tensorflow_arrays.py), the same `fit` on the
pipeline Keras' own array adapter builds (parallel `map` and `prefetch`,
both AUTOTUNEd; reached through Keras' private module, for this diagnosis
only), and the native TensorFlow loop of bench/native_mnist_gan.py. It prints
steps/s of each, the ratios to native, the process's thread count and the load.
"""

import json
import os
import sys
import time

os.environ["KERAS_BACKEND"] = "tensorflow"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import numpy as np  # noqa: E402

import native_mnist_gan as native  # noqa: E402

BATCH, STEPS, REPEATS = 100, 200, 3


def main() -> None:
    import keras
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    import keras_gan
    from keras_gan import networks

    data = np.random.default_rng(0).uniform(0, 1, (BATCH * STEPS, 28, 28, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=0)
    gan.compile(d_optimizer=keras.optimizers.SGD(native.LR, momentum=native.MOMENTUM),
                g_optimizer=keras.optimizers.SGD(native.LR, momentum=native.MOMENTUM))
    step = native.make_tensorflow(jit_compile=False)

    def native_loop():
        out = None
        for i in range(STEPS):
            out = step(data[i * BATCH:(i + 1) * BATCH])
        float(out[0])

    runs = {
        "keras_gan_fit_arrays": lambda: gan.fit(data, batch_size=BATCH, epochs=1, verbose=0, shuffle=False),
        "fit_on_keras_array_adapter": lambda: gan.fit(
            ArrayDataAdapter(data, batch_size=BATCH, shuffle=False).get_tf_dataset(), epochs=1, verbose=0),
        "native": native_loop,
    }
    for run in runs.values():
        run()  # compile / warm up
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(REPEATS):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    rates = {name: round(STEPS / seconds, 1) for name, seconds in best.items()}
    print(json.dumps({
        "steps_per_s": rates,
        "ratio_to_native": {k: round(rates["native"] / v, 3) for k, v in rates.items() if k != "native"},
        "threads": len(os.listdir("/proc/self/task")), "load_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
