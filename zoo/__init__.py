"""Training recipes, model cards and checkpoints of the keras_gan model zoo.

`python -m zoo.train NAME` reproduces an entry; the library side
(`keras_gan.zoo.load`, the registry) lives in `keras_gan/zoo/`.
"""
