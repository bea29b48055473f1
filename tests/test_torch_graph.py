"""The lean Functional forward pass on PyTorch (`keras_gan.backend.torch_graph`): the same outputs,
gradients, random draws and layer state as `network(x, training=...)`, and the usual call
wherever it cannot honour the network (torch backend only)."""

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="a PyTorch-only fast path")


def _networks():
    from keras_gan import networks

    rng = np.random.default_rng(0)
    x28 = rng.uniform(0, 1, (6, 28, 28, 1)).astype("float32")
    z = rng.uniform(-1, 1, (6, 100)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 6)]
    img = rng.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    return [
        ("mnist D (seedless dropout)", networks.mnist_discriminator(), x28),
        ("mnist G", networks.mnist_generator(), z),
        ("conditional D", networks.conditional_mnist_discriminator(), [x28, y]),
        ("U-Net (BatchNorm, seeded dropout, skips)",
         networks.unet_generator(image_size=16, ngf=4, levels=4, seed=3), img),
        ("PatchGAN (two inputs)", networks.patchgan_discriminator(image_size=16, ndf=4, n_layers=2), [img, img]),
    ]


def _state(network):
    return [np.array(v.numpy()) for v in network.variables]


def _run(network, inputs, training, fast):
    """Output, gradients and the network's variables after one pass, from a fixed random state."""
    import torch

    from keras_gan.backend.torch_graph import graph_forward

    keras.utils.set_random_seed(7)
    for layer in network._flatten_layers():
        for generator in getattr(layer, "_seed_generators", ()):
            generator.state.assign(np.array([7, 0], dtype=generator.state.dtype))
    before = _state(network)
    tensors = keras.tree.map_structure(lambda a: torch.tensor(a), inputs)
    forward = graph_forward(network) if fast else None
    assert (forward is not None) == fast
    out = forward(tensors, training) if fast else network(tensors, training=training)
    grads = torch.autograd.grad(out.square().sum(), [v.value for v in network.trainable_variables])
    after = _state(network)
    for variable, value in zip(network.variables, before):  # leave the network as it was
        variable.assign(value)
    return out.detach().numpy(), [g.numpy() for g in grads], after


@pytest.mark.parametrize("training", [True, False])
def test_same_outputs_gradients_and_state_as_keras_call(training):
    for name, network, inputs in _networks():
        usual = _run(network, inputs, training, fast=False)
        lean = _run(network, inputs, training, fast=True)
        np.testing.assert_array_equal(lean[0], usual[0], err_msg=name)
        for a, b in zip(lean[1], usual[1]):
            np.testing.assert_array_equal(a, b, err_msg=name)
        for a, b in zip(lean[2], usual[2]):  # BatchNorm moving statistics, seed states
            np.testing.assert_array_equal(a, b, err_msg=name)
    if training:  # the check above must be able to see dropout: two draws differ
        import torch

        from keras_gan.backend.torch_graph import graph_forward

        d, x = _networks()[0][1:]
        forward = graph_forward(d)
        assert not np.array_equal(forward(torch.tensor(x), True).detach().numpy(),
                                  forward(torch.tensor(x), True).detach().numpy())


def test_networks_it_cannot_honour_are_called_as_usual():
    from keras_gan.backend.torch_graph import call_network, graph_forward

    inp = keras.Input((4,))
    masked = keras.Model(inp, keras.layers.Dense(1)(keras.layers.Masking()(inp)))
    regularized = keras.Model(inp, keras.layers.Dense(1, activity_regularizer="l2")(inp))
    two_outputs = keras.Model(inp, [keras.layers.Dense(1)(inp), keras.layers.Dense(2)(inp)])
    half = keras.Model(inp, keras.layers.Dense(1, dtype="mixed_float16")(inp))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x) * 2

    subclassed = Subclassed()
    subclassed(np.ones((1, 4), "float32"))
    unbuilt = keras.Sequential([keras.layers.Dense(1)])
    for network in (masked, regularized, two_outputs, half, subclassed, unbuilt):
        assert graph_forward(network) is None, network
    x = np.ones((2, 4), "float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(call_network(subclassed, x, False)),
                                  keras.ops.convert_to_numpy(subclassed(x)))

    # A Functional network whose `call` is replaced, by a subclass or on the instance, keeps that call.
    class Tripled(keras.Model):
        def call(self, inputs, training=None):
            return super().call(inputs, training=training) * 3

    tripled = Tripled(inp, keras.layers.Dense(1)(inp))
    plain = keras.Model(inp, keras.layers.Dense(1)(inp))
    plain.call = lambda inputs, training=None, mask=None: keras.ops.zeros((2, 1))
    import torch

    t = torch.ones((2, 4))
    for network in (tripled, plain):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(call_network(network, t, True)),
                                      keras.ops.convert_to_numpy(network(t, training=True)))
    assert float(keras.ops.sum(call_network(plain, t, True))) == 0.0


def test_nested_model_and_odd_inputs():
    """A model inside a model keeps its own __call__ (and gets `training`); inputs that
    `Functional.call` would convert or reshape take the usual path, with the same result."""
    import torch

    from keras_gan.backend.torch_graph import call_network, graph_forward

    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization()(keras.layers.Dense(3)(inner_in)))
    outer_in = keras.Input((3,))
    outer = keras.Model(outer_in, keras.layers.Dense(1)(inner(outer_in)))
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    bn = inner.layers[-1]
    assert graph_forward(outer) is not None
    for training in (True, False):
        fast = call_network(outer, torch.tensor(x), training).detach().numpy()
        moving_after_fast = bn.moving_mean.numpy().copy()
        bn.moving_mean.assign(np.zeros(3, "float32"))
        usual = outer(torch.tensor(x), training=training).detach().numpy()
        np.testing.assert_allclose(fast, usual, rtol=0, atol=0)
        np.testing.assert_array_equal(moving_after_fast, bn.moving_mean.numpy())
        moved = bool(np.any(moving_after_fast != 0))
        assert moved == training  # BatchNorm saw `training` through the nested __call__
        bn.moving_mean.assign(np.zeros(3, "float32"))
    # a wrong feature size: not the lean pass's torch error, but Keras' own message from __call__
    with pytest.raises(ValueError, match="incompatible with the layer"):
        call_network(outer, torch.ones((5, 4)), True)
    # numpy, float64 and a missing channel axis: the usual call, which converts and casts
    np.testing.assert_allclose(keras.ops.convert_to_numpy(call_network(outer, x.astype("float64"), False)),
                               keras.ops.convert_to_numpy(outer(x, training=False)), rtol=1e-6)


def test_gan_training_is_bitwise_the_usual_calls(monkeypatch):
    """Three GAN steps through the lean passes end with the very weights of three steps through
    `network(x, training=True)` (seedless dropout, latent noise and SGD momentum included)."""
    import keras_gan
    from keras_gan import networks
    from keras_gan.backend import torch_graph

    data = np.random.default_rng(0).uniform(0, 1, (30, 28, 28, 1)).astype("float32")

    def train():
        keras.utils.set_random_seed(0)
        gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=0)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
                    g_optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
        gan.fit(data, batch_size=10, epochs=1, verbose=0, shuffle=False)
        return [v.numpy() for v in gan.variables], "call" in vars(gan.discriminator)

    lean, routed = train()
    assert routed  # the first run really took the lean passes
    monkeypatch.setattr(torch_graph, "route_calls_through_graph", lambda *networks: None)
    monkeypatch.setattr("keras_gan.backend.torch_step.route_calls_through_graph", lambda *networks: None)
    monkeypatch.setattr("keras_gan.backend.torch_step.call_network",  # the step's own network calls too
                        lambda network, inputs, training: network(inputs, training=training))
    usual, routed = train()
    assert not routed
    for a, b in zip(lean, usual):
        np.testing.assert_array_equal(a, b)


def test_the_cache_does_not_keep_networks_alive():
    import gc
    import weakref

    from keras_gan.backend import torch_graph

    inp = keras.Input((4,))
    network = keras.Model(inp, keras.layers.Dense(1)(inp))
    assert torch_graph.graph_forward(network) is not None
    gone = weakref.ref(network)
    del network
    gc.collect()
    assert gone() is None


def _kernel_cases():
    """(name, layer, input, training) for every layer `torch_kernels` lists, in the plain state it
    computes directly and in the states it must leave to the layer's own `call`."""
    from keras_gan.layers import Maxout

    rng = np.random.default_rng(2)
    flat = rng.normal(size=(6, 12)).astype("float32")
    image = rng.normal(size=(6, 4, 3, 2)).astype("float32")

    def built(layer, x):
        layer(x)  # build (through __call__, on the torch tensor's shape)
        return layer

    lora = built(keras.layers.Dense(5), flat)
    lora.enable_lora(2)
    lora.lora_kernel_b.assign(rng.normal(size=lora.lora_kernel_b.shape).astype("float32"))
    return [
        ("Dense relu", built(keras.layers.Dense(5, activation="relu"), flat), flat, True),
        ("Dense sigmoid", built(keras.layers.Dense(5, activation="sigmoid"), flat), flat, True),
        ("Dense linear, no bias", built(keras.layers.Dense(5, use_bias=False), flat), flat, True),
        ("Dense with LoRA (the layer's call)", lora, flat, True),
        ("Maxout", built(Maxout(3, 4), flat), flat, None),
        ("Dropout unseeded", built(keras.layers.Dropout(0.4), flat), flat, True),
        ("Dropout unseeded, inference", built(keras.layers.Dropout(0.4), flat), flat, False),
        ("Dropout seeded (the layer's call)", built(keras.layers.Dropout(0.4, seed=3), flat), flat, True),
        ("Dropout noise shape (the layer's call)",
         built(keras.layers.Dropout(0.4, noise_shape=(6, 1)), flat), flat, True),
        ("Dropout rate 1 (the layer's call)", built(keras.layers.Dropout(1.0), flat), flat, True),
        ("Flatten", built(keras.layers.Flatten(), image), image, None),
        ("Flatten channels_first (the layer's call)",
         built(keras.layers.Flatten(data_format="channels_first"), image), image, None),
        ("Reshape", built(keras.layers.Reshape((3, 8)), image), image, None),
        ("Reshape with -1 (the layer's call)", built(keras.layers.Reshape((-1, 4)), image), image, None),
    ]


def test_direct_torch_kernels_are_bitwise_the_layers_call():
    """Each of `torch_kernels`' direct forms gives the very values (and gradients) of
    `layer.call`, from the same random state, reading its weights as stored or through
    `Variable.value`; a subclass (which may override `call`) gets none."""
    import functools

    import torch

    from keras_gan.backend.torch_kernels import direct_call, property_value, stored_value

    for name, layer, x, training in _kernel_cases():
        kwargs = {} if training is None else {"training": training}
        direct = direct_call(layer)
        assert direct is not None, name
        results = []
        for fn in (functools.partial(direct, stored_value), functools.partial(direct, property_value), layer.call):
            torch.manual_seed(11)
            for generator in getattr(layer, "_seed_generators", ()):
                generator.state.assign(np.array([5, 0], dtype=generator.state.dtype))
            inputs = torch.tensor(x, requires_grad=True)
            out = fn(inputs, **kwargs)
            weights = [v.value for v in layer.trainable_variables]
            loss = out.square().sum() + 0 * inputs.sum()  # differentiable even when all is dropped
            grads = torch.autograd.grad(loss, [inputs] + weights, allow_unused=True)
            results.append([out.detach().numpy()] + [None if g is None else g.numpy() for g in grads])
        for result in results[:2]:
            for a, b in zip(result, results[2]):
                if a is None or b is None:
                    assert a is None and b is None, name
                else:
                    np.testing.assert_array_equal(a, b, err_msg=name)
    maxout = next(layer for name, layer, *_ in _kernel_cases() if name == "Maxout")
    with pytest.raises(ValueError, match="empty"):  # keras.ops.max's error on an empty batch, kept
        direct_call(maxout)(stored_value, torch.zeros((0, 12)))
    x = torch.ones((2, 3))
    dropped = direct_call(keras.layers.Dropout(0.5))(stored_value, x, training=True)
    assert bool((dropped == 0).any()) and bool((dropped == 2).any())  # it does drop and rescale

    class MyDense(keras.layers.Dense):
        def call(self, inputs, training=None):
            return super().call(inputs) * 2

    assert direct_call(MyDense(2)) is None


def test_quantized_networks_are_called_as_usual():
    """`__call__` runs a quantized layer's `quantized_call`, which the lean pass would skip: a
    network quantized before its first pass is not eligible, and one quantized after it (train,
    then quantize the generator) is called through `__call__` from then on."""
    import torch

    from keras_gan.backend.torch_graph import call_network, graph_forward

    inp = keras.Input((4,))
    quantized = keras.Model(inp, keras.layers.Dense(3)(inp))
    quantized.quantize("int8")
    assert graph_forward(quantized) is None
    x = torch.tensor(np.random.default_rng(3).normal(size=(5, 4)).astype("float32"))
    # EinsumDense has no direct torch form: only the network-level check can route it to __call__
    hidden = keras.layers.EinsumDense("ab,bc->ac", output_shape=8, bias_axes="c")(inp)
    later = keras.Model(inp, keras.layers.Dense(3, activation="relu")(hidden))
    assert graph_forward(later) is not None
    call_network(later, x, True)  # cached
    later.quantize("int8")
    usual = later(x, training=False).detach().numpy()
    np.testing.assert_array_equal(call_network(later, x, False).detach().numpy(), usual)


def test_lean_loss_trackers_log_what_keras_mean_logs():
    """`torch_metrics.update_mean` ends with Keras' own totals, counts and results, bitwise;
    inside a StatelessScope, and for other trackers, it leaves the work to Keras."""
    import torch

    from keras_gan.backend.torch_metrics import update_mean

    values = [torch.tensor(v, dtype=torch.float32) for v in (0.1, 1e-7, 3.3, -2.25, 1e4, 0.7)]
    lean, usual = keras.metrics.Mean(), keras.metrics.Mean()
    for value in values:
        a = update_mean(lean, value)
        usual.update_state(value)
        b = usual.result()
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(lean.total.numpy(), usual.total.numpy())
    np.testing.assert_array_equal(lean.count.numpy(), usual.count.numpy())
    before = lean.total.numpy().copy()
    with keras.StatelessScope() as scope:
        update_mean(lean, values[0])
        assert scope.get_current_value(lean.total) is not None  # recorded, not written
    np.testing.assert_array_equal(lean.total.numpy(), before)
    summed = keras.metrics.Sum()  # not a Mean: Keras' own update
    update_mean(summed, values[2])
    np.testing.assert_allclose(summed.result().numpy(), 3.3, rtol=1e-6)


def test_fit_logs_through_the_lean_trackers(monkeypatch):
    """`fit` on torch updates its trackers through `torch_metrics.update_mean`, and the epoch's
    logs are the means of the steps' values: those `update_mean` was given, averaged here in
    float64 and by Keras' own `keras.metrics.Mean` fed the same values (not the trackers' own
    total / count, which agree with the logs whatever the trackers summed)."""
    import keras_gan
    from keras_gan import networks
    from keras_gan.backend import torch_metrics

    given = {}
    real = torch_metrics.update_mean

    def recording(tracker, value):
        given.setdefault(tracker.name, []).append(value.detach().clone())
        return real(tracker, value)

    monkeypatch.setattr(torch_metrics, "update_mean", recording)
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.mnist_generator(), networks.mnist_discriminator(), seed=0)
    gan.compile()
    data = np.random.default_rng(0).uniform(0, 1, (20, 28, 28, 1)).astype("float32")
    history = gan.fit(data, batch_size=10, epochs=1, verbose=0, shuffle=False)
    assert sorted(given) == sorted(gan.metric_names) and all(len(v) == 2 for v in given.values())
    assert all(float(tracker.count.numpy()) == 2.0 for tracker in gan.metrics)
    for name, steps in given.items():  # two steps
        per_step = [float(v.cpu().numpy()) for v in steps]
        assert per_step[0] != per_step[1], name  # two different values: a mean of one would differ
        usual = keras.metrics.Mean()
        for value in steps:
            usual.update_state(value)
        logged = history.history[name][0]
        np.testing.assert_allclose(logged, np.mean(np.array(per_step, "float64")), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(logged, float(usual.result().cpu().numpy()), rtol=1e-6, err_msg=name)


def test_inference_passes_take_the_lean_pass_with_the_usual_outputs(monkeypatch):
    """`generate` / `translate` run the generator through keras_gan.backend.compiled_forward; on torch
    that routes it through the lean pass (no per-layer `__call__` work), in inference mode and in the
    stateless training-mode pass of pix2pix's paper mode, with bitwise the outputs of the usual call."""
    import torch

    from keras_gan.backend import compiled_forward, torch_graph

    _, unet, img = _networks()[3]
    trainable = [v.value.detach() for v in unet.trainable_variables]
    non_trainable = [v.value.detach() for v in unet.non_trainable_variables]
    with torch.no_grad():
        usual_eval = unet(torch.tensor(img), training=False).numpy()
        usual_paper, usual_state = unet.stateless_call(trainable, non_trainable, torch.tensor(img), training=True)
    lean_calls = []  # per call of the lean pass: whether it ran the graph itself (not its fallback)
    lean = torch_graph.GraphForward.__call__
    monkeypatch.setattr(torch_graph.GraphForward, "__call__", lambda self, inputs, *args, **kwargs: lean_calls.append(
        self._takes(keras.tree.flatten(inputs))) or lean(self, inputs, *args, **kwargs))
    np.testing.assert_array_equal(compiled_forward.forward(unet, torch.tensor(img)).numpy(), usual_eval)
    assert lean_calls == [True], "the inference pass did not take the lean pass"
    # numpy in, as `translate` hands its batches over: converted first, so the lean pass takes them
    paper, state = compiled_forward.stateless_forward(unet, training=True)(trainable, non_trainable, img)
    assert lean_calls == [True, True], "the paper-mode pass did not take the lean pass"
    np.testing.assert_array_equal(paper.numpy(), usual_paper.numpy())
    for a, b in zip(state, usual_state):  # the batch-norm averages and dropout streams it hands back
        np.testing.assert_array_equal(a.numpy(), b.numpy())
