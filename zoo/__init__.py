"""The zoo's *workshop* (an application, not the library): training recipes, model cards,
result files and the shipped checkpoints.

`python -m zoo.train NAME` reproduces an entry, `python -m zoo.numbers` regenerates every copy of
the measured numbers. Not to be confused with `keras_gan.zoo` (`keras_gan/zoo/`), the *library's*
zoo API (`load`, `list`, the registry), which never imports this package; likewise
`zoo/training_callbacks.py` (callbacks of zoo runs) is not `keras_gan.callbacks` (the library's).
"""
