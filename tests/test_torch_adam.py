"""The lean Adam update on PyTorch gives bitwise Keras' own results (torch backend only)."""

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="a PyTorch-only fast path")


def _run(lean: bool, steps: int = 4, **adam_kwargs):
    import torch

    from keras_gan.backend import torch_adam

    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32")) for shape in ((3, 4), (5,), (2, 2, 3))]
    optimizer = keras.optimizers.Adam(**{"learning_rate": 2e-4, "beta_1": 0.5, "epsilon": 1e-8, **adam_kwargs})
    optimizer.build(variables)
    if lean:
        assert torch_adam.install(optimizer)
    for _ in range(steps):
        grads = [torch.tensor(rng.normal(size=tuple(v.shape)).astype("float32")) for v in variables]
        optimizer.apply(grads, variables)
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("kwargs", [{}, {"use_ema": True, "ema_momentum": 0.9},
                                    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(1e-3, 2, 0.5)}],
                         ids=["paper", "ema", "schedule"])
def test_lean_update_is_bitwise_keras(kwargs):
    for a, b in zip(_run(False, **kwargs), _run(True, **kwargs)):
        np.testing.assert_array_equal(a, b)


def test_only_plain_keras_adam_is_changed():
    from keras_gan.backend import torch_adam

    assert not torch_adam.install(keras.optimizers.Adam(amsgrad=True))
    assert not torch_adam.install(keras.optimizers.SGD())
    assert not torch_adam.install(keras.optimizers.AdamW())
