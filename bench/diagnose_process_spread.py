"""Why one fresh process runs the TensorFlow MNIST GAN step fast and the next slow (issue 34).

    python bench/diagnose_process_spread.py                      # the default configurations, 6 processes each
    python bench/diagnose_process_spread.py --processes 10 --side keras_gan
    python bench/diagnose_process_spread.py --config onednn-off=TF_ENABLE_ONEDNN_OPTS=0

Issue 34 found the keras_gan step about 19 or about 31 steps/s, decided per
process; after the input pipeline's own cost was removed
(`bench/diagnose_tf_input.py`), the *native* loop was bimodal too (17.6 to
27.8 steps/s). So the question is no longer keras_gan's step but what makes a
TensorFlow process fast or slow on this machine. This script runs one side
(`bench/bench_gan_mnist.py`'s child, native by default: it imports neither
Keras nor keras_gan) alone in fresh processes, one after another, under
several environments, interleaved (config A, B, C, A, B, C, ...) so that a
drift of the machine lands on every configuration alike. It prints each
configuration's steps/s per process, median, range and the ratio max/min,
and the load before and after. Run it on an idle machine.

A configuration is `NAME=VAR=VALUE[,VAR=VALUE...]` (an empty list: the
environment as it is); the defaults test the suspects named in the issue:
oneDNN's kernels (TensorFlow's default on x86), the thread pools' sizes, and
both together.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "bench_gan_mnist.py")

DEFAULT_CONFIGS = (
    "default=",
    "onednn-off=TF_ENABLE_ONEDNN_OPTS=0",
    "one-interop=TF_NUM_INTEROP_THREADS=1,TF_NUM_INTRAOP_THREADS=2",
)


def parse_config(text: str) -> tuple[str, dict[str, str]]:
    name, _, assignments = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"a configuration is NAME=VAR=VALUE[,VAR=VALUE]; got {text!r}")
    env = {}
    for item in filter(None, assignments.split(",")):
        var, sep, value = item.partition("=")
        if not sep or not var:
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is not VAR=VALUE")
        env[var] = value
    return name, env


def one_process(env: dict[str, str], side: str, steps: int, repeats: int) -> float:
    """Steps/s of `side` alone in a fresh process under `env` (best of `repeats` runs of `steps`)."""
    command = [sys.executable, BENCH, "--child", "--backend", "tensorflow", "--side", side,
               "--steps", str(steps), "--repeats", str(repeats)]
    if side == "native":
        command += ["--native-jit", "false"]  # as Keras compiles on a CPU (a tf.function without XLA)
    proc = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"the child failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(row[f"{side}_steps_per_s"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", action="append", type=parse_config,
                   help="NAME=VAR=VALUE[,VAR=VALUE] (repeatable; default: %s)" % ", ".join(DEFAULT_CONFIGS))
    p.add_argument("--processes", type=int, default=6, help="fresh processes per configuration (default: 6)")
    p.add_argument("--side", choices=("native", "keras_gan"), default="native")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", help="write the rates here")
    args = p.parse_args(argv)
    configs = args.config or [parse_config(c) for c in DEFAULT_CONFIGS]
    load_before = os.getloadavg()[0]
    rates: dict[str, list[float]] = {name: [] for name, _ in configs}
    for i in range(args.processes):
        for name, env in configs:
            rate = one_process(env, args.side, args.steps, args.repeats)
            rates[name].append(rate)
            print(f"{name} {i + 1}/{args.processes}: {rate:.1f} steps/s", file=sys.stderr, flush=True)
    load_after = os.getloadavg()[0]
    print(f"TensorFlow MNIST GAN, {args.side} side alone, steps/s per fresh process "
          f"(best of {args.repeats} x {args.steps} steps); load {load_before:.2f} -> {load_after:.2f}")
    for name, env in configs:
        values = rates[name]
        settings = ",".join(f"{k}={v}" for k, v in env.items()) or "(as is)"
        print(f"{name:<14} {settings:<48} median {statistics.median(values):5.1f}  "
              f"range {min(values):5.1f}-{max(values):5.1f}  max/min {max(values) / min(values):.2f}  "
              f"[{', '.join(f'{v:.1f}' for v in values)}]")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"side": args.side, "steps": args.steps, "repeats": args.repeats,
                       "load": [load_before, load_after],
                       "configs": {name: {"env": env, "steps_per_s": rates[name]} for name, env in configs}}, f,
                      indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
