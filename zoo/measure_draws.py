"""Sampled metrics of a zoo entry over several seeded sample draws: `python -m zoo.measure_draws NAME`.

    python -m zoo.measure_draws gan-mnist --metrics parzen fidelity --seeds 0 1 2 3 4

Why: a Parzen score, FID, IS, KID or label agreement depends on which samples
were drawn. The papers report one draw; a stranger rerunning with another seed
gets another number (gan-mnist: 222.3-224.5 over five draws of 10,000 samples
against the protocol draw's 225.3). This records every draw, with its seed, and
the mean and sample standard deviation, in `zoo/cards/results/NAME.DRAWS.json`
(`NAME.parzen-draws.json`, ...), which `python -m zoo.numbers` turns into the
registry's, the cards' and the README's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cards", "results")
METRICS = ("parzen", "fidelity", "label_agreement", "prdc")
#: the reference rows of `prdc` (real data, no model): measured like a zoo name, filed as real-test, ...
REAL_SOURCES = ("real:test", "real:facades-test")


def _summary(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "values": values}


def measure(name: str, metric: str, seeds: list[int], data_dir: str | None) -> dict:
    import keras

    per_seed: dict[str, list[float]] = {}
    per_class: list[dict[str, list[float]]] = []
    settings: dict = {}
    for seed in seeds:
        start = time.time()
        if metric == "parzen":
            from evaluation.parzen import evaluate

            result = evaluate(name, data_dir=data_dir, seed=seed, baseline=False, progress=False)
            values = {"parzen_ll": result.mean, "parzen_se": result.se, "parzen_sigma": result.sigma}
        elif metric == "fidelity":
            from evaluation.fidelity import compute_metrics

            scores = compute_metrics(name, metrics=("fid", "isc", "kid"), data_dir=data_dir, seed=seed,
                                     verbose=False)
            values = {"fid": scores["fid"], "isc": scores["isc_mean"], "kid": scores["kid_mean"]}
        elif metric == "prdc":
            from evaluation.prdc import evaluate

            # torch-fidelity's precision / recall check on the first draw (it doubles the work of a draw)
            result = evaluate(name, data_dir=data_dir, seed=seed, progress=False, check=seed == seeds[0])
            values = {key: result.scores[key] for key in ("precision", "recall", "density", "coverage")}
            settings = {"num_samples": result.num_samples, "num_reference": result.num_reference,
                        "reference": result.reference, "features": result.features, "pr_k": result.scores["pr_k"],
                        "dc_k": result.scores["dc_k"], "per_class_samples": result.per_class_samples,
                        "torch_fidelity_pr_disagreement_max": max(settings.get("torch_fidelity_pr_disagreement_max",
                                                                               0.0), result.scores.get("pr_disagreement", 0.0)),
                        "torch_fidelity_checked_seeds": settings.get("torch_fidelity_checked_seeds", [])
                        + ([seed] if "pr_disagreement" in result.scores else [])}
            for c, row in enumerate(result.per_class or []):
                if len(per_class) <= c:
                    per_class.append({})
                for key in ("precision", "recall", "density", "coverage"):
                    per_class[c].setdefault(key, []).append(float(row[key]))
        else:
            from evaluation.label_agreement import label_agreement

            result = label_agreement(name, seed=seed, data_dir=data_dir, baseline=False, progress=False)
            values = {"label_agreement": result.agreement}
        for key, value in values.items():
            per_seed.setdefault(key, []).append(float(value))
        print(f"{name} {metric} seed {seed}: {values} ({time.time() - start:.0f} s)", flush=True)
    record = {"name": name, "metric": metric, "seeds": seeds, "backend": keras.backend.backend(),
              "command": f"python -m zoo.measure_draws {name} --metrics {metric} --seeds "
                         + " ".join(str(s) for s in seeds),
              "draws": {key: _summary(values) for key, values in per_seed.items()}}
    if settings:
        record["settings"] = settings
    if per_class:  # per digit, beside the draws (not registry numbers)
        record["per_class"] = [{key: _summary(values) for key, values in row.items()} for row in per_class]
    return record


def file_stem(name: str) -> str:
    """The results file's stem: the zoo name, or real:test -> real-test."""
    return name.replace(":", "-")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m zoo.measure_draws", description=__doc__.split("\n\n")[0])
    p.add_argument("name")
    p.add_argument("--metrics", nargs="+", choices=METRICS, default=["parzen"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    if len(set(args.seeds)) < 2:
        p.error("give at least two distinct seeds: a spread needs several draws")
    for metric in args.metrics:
        record = measure(args.name, metric, args.seeds, args.data_dir)
        path = os.path.join(RESULTS, f"{file_stem(args.name)}.{metric}-draws.json")
        from keras_gan.utils.files import write_text_atomically

        write_text_atomically(path, json.dumps(record, indent=2))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
