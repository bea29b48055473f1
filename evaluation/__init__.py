"""Evaluation of generators: the GAN paper's Parzen log-likelihood, FID / IS / KID,
and pix2pix's paired-image metrics, each with a command line
(`python -m evaluation.parzen`, `evaluation.fidelity`, `evaluation.paired`).

Kept light on purpose: importing `evaluation` loads no deep-learning framework,
so `--help` and argument errors answer instantly; each module imports Keras or
torch only when it actually needs a model.
"""
