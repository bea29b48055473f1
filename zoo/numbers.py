"""One source of truth for the zoo's numbers: `python -m zoo.numbers [--check]`.

The measured numbers live in `zoo/cards/results/*.json`, written by the
evaluation command lines (`--json`), `zoo.pix2pix_table1` and
`zoo.measure_draws`. This command derives everything else from them:

- `keras_gan/zoo/measured.json`: the registry's measured metrics (the
  registry adds the run facts: epochs, backend, command);
- the headline block of each model card (between `<!-- zoo-numbers:begin -->`
  and `<!-- zoo-numbers:end -->`);
- the README's zoo table (between `<!-- zoo-table:begin -->` and
  `<!-- zoo-table:end -->`);
- the pix2pix card's Table 1 (between `<!-- table1:begin -->` and
  `<!-- table1:end -->`), every row of `pix2pix-facades-table1.json` in its
  order (`zoo.pix2pix_table1` writes the same table with `--markdown`).

`--check` writes nothing and exits 1 listing the stale files
(`tests/test_zoo_numbers.py` runs it). The papers' numbers come from
`keras_gan/zoo/papers.py`. Sampled metrics are shown twice: the papers'
protocol draw (seed 0) and the mean and sample standard deviation over the
seeded draws of `zoo.measure_draws` (seeds recorded in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "zoo", "cards", "results")
MEASURED = os.path.join(ROOT, "keras_gan", "zoo", "measured.json")
README = os.path.join(ROOT, "README.md")
TABLE1 = "pix2pix-facades-table1.json"
CARD_BEGIN, CARD_END = "<!-- zoo-numbers:begin -->", "<!-- zoo-numbers:end -->"
TABLE_BEGIN, TABLE_END = "<!-- zoo-table:begin -->", "<!-- zoo-table:end -->"
TABLE1_BEGIN, TABLE1_END = "<!-- table1:begin -->", "<!-- table1:end -->"
TABLE1_CARD = os.path.join(ROOT, "zoo", "cards", "pix2pix-facades.md")
PRDC_BEGIN, PRDC_END = "<!-- prdc:begin -->", "<!-- prdc:end -->"
PRDC_KEYS = ("precision", "recall", "density", "coverage")
#: the reference row of each domain's precision / recall table: real data against the same real train set.
PRDC_REFERENCE = {"mnist": ("real-test.prdc-draws.json", "real MNIST test images (reference)"),
                  "facades": ("real-facades-test.prdc-draws.json", "real facades test photos (reference)")}


# ------------------------------------------------------------ readers (one per JSON kind)
def _load(name: str) -> dict | None:
    path = os.path.join(RESULTS, name)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _parzen(d: dict) -> dict:
    return {"parzen_ll": d.get("mean", d.get("parzen_ll")), "parzen_se": d.get("se", d.get("parzen_se")),
            "parzen_sigma": d.get("sigma", d.get("parzen_sigma"))}


def _fidelity(d: dict) -> dict:
    return {"fid": d["fid"], "isc": d["isc_mean"], "kid": d["kid_mean"]}


def _label_agreement(d: dict) -> dict:
    return {"label_agreement": d["agreement"]}


def _paired(d: dict) -> dict:
    return {"l1": d["l1"], "psnr": d["psnr"], "ssim": d["ssim"]}


def _draws(d: dict) -> dict:
    out = {}
    for key, summary in d["draws"].items():
        if key.endswith(("_se", "_sigma")):
            continue
        out[f"{key}_draws_mean"] = summary["mean"]
        out[f"{key}_draws_std"] = summary["std"]
        out[f"{key}_draws_range"] = [summary["min"], summary["max"]]
    out["draw_seeds"] = d["seeds"]
    return out


def _prdc(d: dict) -> dict:
    out = _draws(d)
    out.update(prdc_num_samples=d["settings"]["num_samples"], prdc_num_reference=d["settings"]["num_reference"])
    return out


def _table1_row(row: str):
    def read(d: dict) -> dict:
        if row not in d["rows"]:
            return {}
        r = d["rows"][row]
        out = {"fcn_per_pixel_accuracy": r["per_pixel_accuracy"]["mean"],
               "fcn_per_class_accuracy": r["per_class_accuracy"]["mean"],
               "fcn_class_iou": r["class_iou"]["mean"],
               "fcn_class_iou_std": r["class_iou"]["std"],
               "fcn_seeds": d["seeds"], "fcn_table1_row": row}
        if "fid" in r:
            out["facades_fid"] = r["fid"]["mean"]
        return out
    return read


#: entry -> the JSON files its measured numbers come from, and how each is read.
SOURCES = {
    "gan-mnist": [("gan-mnist.parzen.json", _parzen), ("gan-mnist.fidelity.json", _fidelity),
                  ("gan-mnist.parzen-draws.json", _draws), ("gan-mnist.fidelity-draws.json", _draws),
                  ("gan-mnist.prdc-draws.json", _prdc)],
    "dcgan-mnist": [("dcgan-mnist.parzen.json", _parzen), ("dcgan-mnist.fidelity.json", _fidelity),
                    ("dcgan-mnist.parzen-draws.json", _draws), ("dcgan-mnist.fidelity-draws.json", _draws),
                    ("dcgan-mnist.prdc-draws.json", _prdc)],
    "wgan-gp-mnist": [("wgan-gp-mnist.parzen.json", _parzen), ("wgan-gp-mnist.fidelity.json", _fidelity),
                      ("wgan-gp-mnist.parzen-draws.json", _draws), ("wgan-gp-mnist.fidelity-draws.json", _draws),
                      ("wgan-gp-mnist.prdc-draws.json", _prdc)],
    "cgan-mnist": [("cgan-mnist.parzen.json", _parzen), ("cgan-mnist.label_agreement.json", _label_agreement),
                   ("cgan-mnist.fidelity.json", _fidelity), ("cgan-mnist.parzen-draws.json", _draws),
                   ("cgan-mnist.label_agreement-draws.json", _draws),
                   ("cgan-mnist.fidelity-draws.json", _draws), ("cgan-mnist.prdc-draws.json", _prdc)],
    "pix2pix-facades": [("pix2pix-facades.paired.json", _paired), (TABLE1, _table1_row("L1+cGAN, 200 epochs")),
                        ("pix2pix-facades.prdc-draws.json", _prdc)],
    "pix2pix-facades-l1": [("pix2pix-facades-l1.paired.json", _paired), (TABLE1, _table1_row("L1, 200 epochs")),
                           ("pix2pix-facades-l1.prdc-draws.json", _prdc)],
    "pix2pix-facades-cgan": [(TABLE1, _table1_row("cGAN, 200 epochs")), (TABLE1, _table1_row("cGAN, 75 epochs"))],
    "pix2pix-facades-gan": [(TABLE1, _table1_row("GAN (unconditioned D), 200 epochs")),
                            (TABLE1, _table1_row("GAN (unconditioned D), 75 epochs"))],
    "pix2pix-facades-l1-gan": [(TABLE1, _table1_row("L1+GAN, 200 epochs")),
                               (TABLE1, _table1_row("L1+GAN, 75 epochs"))],
}


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def measured() -> dict:
    """{entry: measured metrics} from the result files (absent files are skipped)."""
    out = {}
    for name, sources in SOURCES.items():
        metrics = {}
        for filename, read in sources:
            data = _load(filename)
            if data is not None:
                for key, value in read(data).items():
                    metrics.setdefault(key, _rounded(value))  # the first source of a key wins
        if metrics:
            out[name] = metrics
    return out


# ------------------------------------------------------------ rendering
def _draw_text(m: dict, key: str, fmt: str, label: str) -> str:
    if f"{key}_draws_mean" not in m:
        return ""
    low, high = m[f"{key}_draws_range"]
    return (f"; {len(m['draw_seeds'])} seeded draws (seeds {m['draw_seeds'][0]}-{m['draw_seeds'][-1]}): "
            f"{label} {m[f'{key}_draws_mean']:{fmt}} +- {m[f'{key}_draws_std']:{fmt}} (sd), "
            f"range {low:{fmt}}-{high:{fmt}}")


def headline(name: str, m: dict) -> str:
    """The measured numbers of one entry, as one line of text."""
    parts = []
    if "parzen_ll" in m:
        parts.append(f"Parzen {m['parzen_ll']:.1f} +- {m['parzen_se']:.1f} (protocol draw, seed 0)"
                     + _draw_text(m, "parzen_ll", ".1f", "Parzen"))
    if "label_agreement" in m:
        parts.append(f"label agreement {100 * m['label_agreement']:.1f}%"
                     + (f"; draws {100 * m['label_agreement_draws_mean']:.2f}% +- "
                        f"{100 * m['label_agreement_draws_std']:.2f}%" if "label_agreement_draws_mean" in m else ""))
    if "fid" in m:
        parts.append(f"MNIST-FID {m['fid']:.2f}, MNIST-IS {m['isc']:.2f}, KID x 1e3 {1e3 * m['kid']:.0f}"
                     + _draw_text(m, "fid", ".2f", "FID") + _draw_text(m, "isc", ".2f", "IS"))
    if "fcn_per_pixel_accuracy" in m:
        parts.append(f"FCN-score {m['fcn_per_pixel_accuracy']:.3f} / {m['fcn_per_class_accuracy']:.3f} / "
                     f"{m['fcn_class_iou']:.3f} (per-pixel / per-class / IoU, mean of dropout seeds "
                     f"{m['fcn_seeds'][0]}-{m['fcn_seeds'][-1]}, IoU sd {m['fcn_class_iou_std']:.3f}; "
                     f"Table 1 row '{m['fcn_table1_row']}')"
                     + (f", facades-FID {m['facades_fid']:.2f}" if "facades_fid" in m else ""))
    if "l1" in m:
        parts.append(f"test L1 {m['l1']:.3f}, PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.3f}")
    if "precision_draws_mean" in m:
        parts.append("precision / recall / density / coverage "
                     + " / ".join(f"{m[f'{k}_draws_mean']:.3f} +- {m[f'{k}_draws_std']:.3f}" for k in PRDC_KEYS)
                     + f" (sd over {len(m['draw_seeds'])} seeded draws; {m['prdc_num_samples']} samples vs "
                       f"{m['prdc_num_reference']} real train images)")
    return "; ".join(parts) if parts else "-"


def paper_text(paper: dict) -> str:
    if "parzen_ll" in paper:
        return f"Parzen {paper['parzen_ll']:g} +- {paper['parzen_se']:g}"
    if "fcn_per_pixel_accuracy" in paper:
        return (f"FCN-score {paper['fcn_per_pixel_accuracy']:.2f} / {paper['fcn_per_class_accuracy']:.2f} / "
                f"{paper['fcn_class_iou']:.2f} (Cityscapes)")
    return "-"


def readme_table(entries, numbers: dict) -> str:
    lines = [TABLE_BEGIN,
             "| name | what | measured (generated from `zoo/cards/results` by `python -m zoo.numbers`) | paper | card |",
             "|---|---|---|---|---|"]
    for entry in entries:
        card = f"[card]({entry.card})" if entry.card else "-"
        said = "weights ship" in entry.description.lower() or "no weights" in entry.description.lower()
        shipped = "" if entry.sha256 or said else " No weights ship."
        lines.append(f"| `{entry.name}` | {entry.description}{shipped} | {headline(entry.name, numbers.get(entry.name, {}))} "
                     f"| {paper_text(entry.paper_metrics)} | {card} |")
    lines.append(TABLE_END)
    return "\n".join(lines)


def card_block(entries, numbers: dict) -> str:
    lines = [CARD_BEGIN, "",
             "Headline numbers (generated by `python -m zoo.numbers` from `zoo/cards/results/`; "
             "sampled metrics as the protocol draw and as mean +- sd over seeded draws):", "",
             "| entry | measured | paper |", "|---|---|---|"]
    for entry in entries:
        lines.append(f"| `{entry.name}` | {headline(entry.name, numbers.get(entry.name, {}))} "
                     f"| {paper_text(entry.paper_metrics)} |")
    lines += ["", CARD_END]
    return "\n".join(lines)


def _prdc_cells(draws: dict) -> str:
    return " | ".join(f"{draws[k]['mean']:.3f} +- {draws[k]['std']:.3f}" for k in PRDC_KEYS)


def prdc_block(entries) -> str | None:
    """A card's precision / recall / density / coverage table (its entries and the real reference row),
    with per-digit recall and coverage for a conditional entry; None when no entry has been measured."""
    measured_entries = [(e, _load(f"{e.name}.prdc-draws.json")) for e in entries]
    measured_entries = [(e, d) for e, d in measured_entries if d is not None]
    if not measured_entries:
        return None
    first = measured_entries[0][1]
    settings = first["settings"]
    domain = "facades" if "facade" in settings["features"] else "mnist"
    reference_file, reference_label = PRDC_REFERENCE[domain]
    lines = [PRDC_BEGIN, "",
             f"Precision / recall (k = {settings['pr_k']}, Kynkaanniemi et al. 2019) and density / coverage "
             f"(k = {settings['dc_k']}, Naeem et al. 2020) on {settings['features']} features: "
             f"{settings['num_samples']} samples against {settings['reference']} (every row the same counts), "
             f"mean +- sd over {len(first['seeds'])} seeded draws (seeds {first['seeds'][0]}-{first['seeds'][-1]}). "
             "Generated by `python -m zoo.numbers` from `zoo/cards/results/*.prdc-draws.json` "
             "(`python -m zoo.measure_draws NAME --metrics prdc`; `evaluation.prdc`).", "",
             "| samples | precision | recall | density | coverage |", "|---|---|---|---|---|"]
    for entry, d in measured_entries:
        lines.append(f"| `{entry.name}` | {_prdc_cells(d['draws'])} |")
    reference = _load(reference_file)
    if reference is not None:
        lines.append(f"| {reference_label} | {_prdc_cells(reference['draws'])} |")
    if domain == "facades":
        lines += ["", f"{settings['num_samples']} samples (the test label maps, translated with dropout on) against "
                      f"{settings['num_reference']} photos: recall and coverage cannot approach 1 (a few dozen points "
                      "cannot reach every train photo's neighbourhood); compare the rows with each other. The real "
                      "test photos are a fixed set, so their row has no spread."]
    worst = max(d["settings"]["torch_fidelity_pr_disagreement_max"] for _, d in measured_entries)
    checked = sorted({s for _, d in measured_entries for s in d["settings"]["torch_fidelity_checked_seeds"]})
    lines += ["", f"torch-fidelity's precision / recall on the same features (draws of seed "
                  f"{', '.join(map(str, checked))}) agree with the prdc package's to {worst:.1g} (largest difference)."]
    for entry, d in measured_entries:
        if d.get("per_class"):
            ref = reference.get("per_class") if reference else None
            count = d["settings"]["per_class_samples"]
            lines += ["", f"Per digit (`{entry.name}`: {count} samples asked for the digit against {count} train "
                          "images of it; the reference row: as many real test images of the digit):", "",
                      "| | " + " | ".join(str(c) for c in range(len(d["per_class"]))) + " |",
                      "|---|" + "---|" * len(d["per_class"])]
            for key in ("recall", "coverage"):
                lines.append(f"| {key} | " + " | ".join(f"{row[key]['mean']:.2f}" for row in d["per_class"]) + " |")
                if ref:
                    lines.append(f"| {key}, real test | " + " | ".join(f"{row[key]['mean']:.2f}" for row in ref)
                                 + " |")
    lines += ["", PRDC_END]
    return "\n".join(lines)


def _put_prdc_block(text: str, block: str | None, path: str) -> str:
    """`text` with its precision / recall block replaced, or appended at the end when it has none."""
    if block is None:
        return text
    if PRDC_BEGIN in text or PRDC_END in text:
        return _replace_block(text, PRDC_BEGIN, PRDC_END, block, path)
    return text.rstrip("\n") + "\n\n## Precision, recall, density, coverage\n\n" + block + "\n"


def table1_markdown(result: dict) -> str:
    """pix2pix's Table 1 as markdown: one line per row, mean +- sd over seeds where there are several."""
    header = ("| row | per-pixel acc. | per-class acc. | class IoU | facades-FID | KID x 1e3 | L1 | PSNR | SSIM |\n"
              "|---|---|---|---|---|---|---|---|---|")
    lines = [header]
    for name, row in result["rows"].items():
        def cell(key, scale=1.0, digits=3):
            mean, std = row[key]["mean"] * scale, row[key]["std"] * scale
            return f"{mean:.{digits}f}" + (f" +- {std:.{digits}f}" if len(row[key]["values"]) > 1 else "")
        lines.append(f"| {name} | {cell('per_pixel_accuracy')} | {cell('per_class_accuracy')} | "
                     f"{cell('class_iou')} | {cell('fid', digits=1)} | {cell('kid_mean', 1e3, 1)} | "
                     f"{cell('l1')} | {cell('psnr', digits=2)} | {cell('ssim')} |")
    return "\n".join(lines)


def _replace_block(text: str, begin: str, end: str, block: str, path: str) -> str:
    """`text` with its `begin` ... `end` block replaced by `block` (a card without one gets it under
    its title). Markers repeated or out of order are an error: which block is generated would be a guess."""
    if text.count(begin) > 1 or text.count(end) > 1 or (begin in text) != (end in text) or (
            begin in text and text.index(end) < text.index(begin)):
        raise ValueError(f"{path}: the {begin} ... {end} markers must appear once each, in that order; "
                         "fix them by hand, then rerun python -m zoo.numbers.")
    if begin in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    if path == README or begin == TABLE1_BEGIN:
        raise ValueError(f"{path} has no {begin} ... {end} block to generate; add the markers.")
    title_end = text.index("\n") + 1  # after the card's title line
    return text[:title_end] + "\n" + block + "\n" + text[title_end:]


def expected_files() -> dict[str, str]:
    """{path: content} of every generated file, from the current result JSONs."""
    from keras_gan.zoo import registry

    numbers = measured()
    files = {MEASURED: json.dumps(numbers, indent=2, sort_keys=True) + "\n"}
    with open(README) as f:
        files[README] = _replace_block(f.read(), TABLE_BEGIN, TABLE_END, readme_table(registry.ENTRIES, numbers), README)
    cards: dict[str, list] = {}
    for entry in registry.ENTRIES:
        if entry.card:
            cards.setdefault(os.path.join(ROOT, entry.card), []).append(entry)
    for path, entries in cards.items():
        with open(path) as f:
            files[path] = _replace_block(f.read(), CARD_BEGIN, CARD_END, card_block(entries, numbers), path)
        files[path] = _put_prdc_block(files[path], prdc_block(entries), path)
    table1 = _load(TABLE1)
    if table1 is not None:
        block = f"{TABLE1_BEGIN}\n{table1_markdown(table1)}\n{TABLE1_END}"
        if TABLE1_CARD not in files:
            with open(TABLE1_CARD) as f:
                files[TABLE1_CARD] = f.read()
        files[TABLE1_CARD] = _replace_block(files[TABLE1_CARD], TABLE1_BEGIN, TABLE1_END, block, TABLE1_CARD)
    return files


def stale_files() -> list[str]:
    out = []
    for path, content in expected_files().items():
        current = open(path).read() if os.path.isfile(path) else None
        if current != content:
            out.append(os.path.relpath(path, ROOT))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m zoo.numbers", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    args = p.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path} (run python -m zoo.numbers)", file=sys.stderr)
        return 1 if stale else 0
    from keras_gan.utils.files import write_text_atomically

    for path, content in expected_files().items():
        write_text_atomically(path, content)
        print(f"wrote {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
