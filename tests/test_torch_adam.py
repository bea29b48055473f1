"""The lean Adam update on PyTorch gives bitwise Keras' own results (torch backend only)."""

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="a PyTorch-only fast path")


SHAPES = ((3, 4), (5,), (2, 2, 3))


def _run(lean: bool, steps: int = 4, shapes=SHAPES, lay_out=False, **adam_kwargs):
    import torch

    from keras_gan.backend import torch_adam

    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32")) for shape in shapes]
    if lay_out:  # kernels laid out for torch as keras_gan.layers.Conv2D does (permuted memory)
        from keras_gan.backend import torch_layers

        for variable in variables:
            torch_layers.lay_out_kernel(variable)
    optimizer = keras.optimizers.Adam(**{"learning_rate": 2e-4, "beta_1": 0.5, "epsilon": 1e-8, **adam_kwargs})
    optimizer.build(variables)
    if lean:
        assert torch_adam.install(optimizer)
    for _ in range(steps):
        grads = [torch.empty_like(v.value).copy_(torch.tensor(rng.normal(size=tuple(v.shape)).astype("float32")))
                 for v in variables]  # each gradient in its variable's layout, as autograd gives it
        optimizer.apply(grads, variables)
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("kwargs", [{}, {"use_ema": True, "ema_momentum": 0.9},
                                    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(1e-3, 2, 0.5)}],
                         ids=["paper", "ema", "schedule"])
def test_lean_update_is_bitwise_keras(kwargs):
    for a, b in zip(_run(False, **kwargs), _run(True, **kwargs)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("lay_out", [False, True], ids=["row_major", "torch_kernel_layout"])
def test_slices_of_large_variables_are_bitwise_keras(lay_out, monkeypatch):
    """Variables larger than CHUNK are updated slice by slice (here CHUNK = 7: many slices, and a
    shorter last one); the result is still Keras' update, bit for bit, and the slices really ran."""
    from keras_gan.backend import torch_adam

    monkeypatch.setattr(torch_adam, "CHUNK", 7)
    sliced = []
    chunks = torch_adam._chunks
    monkeypatch.setattr(torch_adam, "_chunks", lambda *t: sliced.append(len(chunks(*t))) or chunks(*t))
    shapes = ((4, 4, 3, 5), (3, 2, 2, 2), (6,), (2, 3))
    for a, b in zip(_run(False, shapes=shapes, lay_out=lay_out), _run(True, shapes=shapes, lay_out=lay_out)):
        np.testing.assert_array_equal(a, b)
    assert max(sliced) == -(-240 // 7) and min(sliced) == 1  # the 240-element kernel in 35 slices


def test_only_plain_keras_adam_is_changed():
    from keras_gan.backend import torch_adam

    assert not torch_adam.install(keras.optimizers.Adam(amsgrad=True))
    assert not torch_adam.install(keras.optimizers.SGD())
    assert not torch_adam.install(keras.optimizers.AdamW())
