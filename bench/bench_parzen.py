"""Speed and accuracy of `evaluation.parzen` against the reference algorithm.

    python bench/bench_parzen.py                      # paper sizes: 10k samples, 1k validation, 10k test
    python bench/bench_parzen.py --check-rows 10000   # accuracy on every test image (slow: minutes)
    python bench/bench_parzen.py --json out.json

Samples: the first 10,000 MNIST training images (fixed and real, so the
bandwidth and the distances are those of a realistic evaluation; it is also
the real-data baseline). Reported:

1. the wall time (best of `--repeats`) and CPU time of the full protocol:
   sigma search over the 10-value grid on 1,000 validation images, then the
   10,000 test images at the chosen sigma;
2. the time of the direct algorithm of goodfeli/adversarial `parzen_ll.py`
   (a batch x samples x d tensor of differences per batch, one pass per
   sigma; here in numpy float64), measured on `--reference-rows` test images
   and **extrapolated linearly** to the protocol's 10 x 1,000 + 10,000
   image-sigma evaluations (its cost is exactly linear in them), and the
   speed-up;
3. the largest difference, in nats per example, between `evaluation.parzen`
   and a direct float64 implementation (differences formed explicitly, no
   expansion), over `--check-rows` test images and every sigma of the grid.

The machine is shared: the load average is printed with the times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from evaluation import parzen  # noqa: E402


def direct_log_likelihood(samples: np.ndarray, data: np.ndarray, sigma: float, batch_size: int = 10) -> np.ndarray:
    """The reference code's algorithm, in numpy float64: per batch, the full
    (batch, samples, d) tensor of differences, then log-mean-exp."""
    samples = samples.reshape(len(samples), -1).astype(np.float64)
    data = data.reshape(len(data), -1).astype(np.float64)
    log_z = samples.shape[1] * math.log(sigma * math.sqrt(2.0 * math.pi))
    out = []
    for start in range(0, len(data), batch_size):
        a = (data[start : start + batch_size, None, :] - samples[None, :, :]) / sigma
        exponent = -0.5 * (a**2).sum(axis=2)
        top = exponent.max(axis=1, keepdims=True)
        out.append(top[:, 0] + np.log(np.exp(exponent - top).mean(axis=1)) - log_z)
    return np.concatenate(out)


def direct_log_likelihoods_all_sigmas(samples, data, sigmas, batch_size: int = 10) -> np.ndarray:
    """Float64 reference for every sigma: squared distances from explicit
    differences (no expansion, no cancellation), shared by the sigmas."""
    samples = samples.reshape(len(samples), -1).astype(np.float64)
    data = data.reshape(len(data), -1).astype(np.float64)
    dim = samples.shape[1]
    out = np.empty((len(sigmas), len(data)))
    for start in range(0, len(data), batch_size):
        squared = ((data[start : start + batch_size, None, :] - samples[None, :, :]) ** 2).sum(axis=2)
        for k, sigma in enumerate(sigmas):
            exponent = -squared / (2.0 * sigma**2)
            top = exponent.max(axis=1, keepdims=True)
            lme = top[:, 0] + np.log(np.exp(exponent - top).mean(axis=1))
            out[k, start : start + batch_size] = lme - 0.5 * dim * math.log(2.0 * math.pi * sigma**2)
    return out


def full_protocol(samples, validation, test, batch_size):
    sigma, _ = parzen.select_sigma(samples, validation, parzen.SIGMA_GRID, batch_size)
    lls = parzen.parzen_log_likelihood(samples, test, sigma, batch_size)
    return sigma, lls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $KERAS_GAN_DATA_DIR)")
    parser.add_argument("--num-samples", type=int, default=parzen.NUM_SAMPLES)
    parser.add_argument("--num-test", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=parzen.BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-rows", type=int, default=100, help="test images timed with the direct algorithm")
    parser.add_argument("--check-rows", type=int, default=500, help="test images compared with the float64 reference")
    parser.add_argument("--json", help="write the numbers as JSON")
    args = parser.parse_args(argv)

    from keras_gan import datasets

    samples = datasets.mnist("train", data_dir=args.data_dir, limit=args.num_samples).images
    validation = datasets.mnist("validation", data_dir=args.data_dir, limit=parzen.NUM_VALIDATION).images
    test = datasets.mnist("test", data_dir=args.data_dir, limit=args.num_test).images
    print(f"samples {samples.shape}, validation {validation.shape}, test {test.shape}; "
          f"batch_size {args.batch_size}; {os.cpu_count()} CPU cores, shared")

    walls, cpus = [], []
    for _ in range(args.repeats):
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        sigma, lls = full_protocol(samples, validation, test, args.batch_size)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        print(f"  full protocol: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU (load average {load:.1f})")
    best = min(walls)
    print(f"full protocol (sigma search on {len(validation)} + {len(test)} test images, {len(samples)} samples): "
          f"best {best:.2f} s wall; sigma {sigma:.4f}, mean {lls.mean():.2f} +- {parzen.standard_error(lls):.2f} nats")

    rows = test[: args.reference_rows]
    start = time.perf_counter()
    direct_log_likelihood(samples, rows, sigma)
    per_row = (time.perf_counter() - start) / len(rows)
    evaluations = len(parzen.SIGMA_GRID) * len(validation) + len(test)
    direct_estimate = per_row * evaluations
    print(f"direct algorithm (parzen_ll.py, numpy float64): {per_row * 1e3:.1f} ms per image and sigma, "
          f"measured on {len(rows)} test images, extrapolated linearly to {evaluations} image-sigma "
          f"evaluations: {direct_estimate:.0f} s -> speed-up {direct_estimate / best:.0f}x")

    check = test[: args.check_rows]
    start = time.perf_counter()
    reference = direct_log_likelihoods_all_sigmas(samples, check, parzen.SIGMA_GRID)
    ours = parzen.parzen_log_likelihoods(samples, check, parzen.SIGMA_GRID, args.batch_size)
    errors = np.abs(ours - reference).max(axis=1)
    print(f"max |difference| vs direct float64, {len(check)} test images ({time.perf_counter() - start:.0f} s):")
    for s, e in zip(parzen.SIGMA_GRID, errors):
        print(f"  sigma {s:.4f}: {e:.2e} nats")
    print(f"  over the grid: {errors.max():.2e} nats per example (target <= 1e-3)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "full_protocol_wall_s": walls,
                    "full_protocol_cpu_s": cpus,
                    "best_wall_s": best,
                    "sigma": sigma,
                    "mean": float(lls.mean()),
                    "direct_s_per_image_sigma": per_row,
                    "direct_extrapolated_s": direct_estimate,
                    "speed_up": direct_estimate / best,
                    "check_rows": len(check),
                    "max_abs_error_per_sigma": {repr(s): float(e) for s, e in zip(parzen.SIGMA_GRID, errors)},
                    "max_abs_error": float(errors.max()),
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
