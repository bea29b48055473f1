"""keras_gan.layers.Conv2D / Conv2DTranspose: Keras' layers with a copy-free NHWC path on torch.

On every backend they must compute exactly what Keras' own layers compute (outputs and
gradients), keep the same weights (shapes and files), and serialise."""

import keras
import numpy as np
import pytest

from keras_gan import layers
from tests.conftest import to_numpy

CASES = [  # (kernel, strides, padding, use_bias, (height, width), (torch fast path for conv, for conv transpose))
    (4, 2, "same", False, (16, 16), (True, True)),  # pix2pix's layers
    (4, 2, "same", True, (15, 15), (False, True)),  # conv: asymmetric "same" padding, Keras' own path
    (3, 1, "same", True, (9, 12), (True, True)),
    (4, 1, "valid", True, (10, 7), (True, True)),
    (3, 2, "same", False, (8, 8), (False, False)),
    (1, 1, "valid", True, (5, 5), (True, True)),
    (2, 3, "valid", True, (6, 5), (True, False)),  # transposed, kernel < stride: Keras' output is size x stride
]
#: keras_gan.backend.torch_layers.NCHW_MAX_PIXELS values that send every CASES map down one torch path:
#: channels-last views, NCHW copies.
LAYOUTS = {"channels_last": 0, "nchw": 10**6}


def _pair(cls, keras_cls, kernel, strides, padding, use_bias):
    ours = cls(5, kernel, strides=strides, padding=padding, use_bias=use_bias, kernel_initializer="glorot_uniform",
               bias_initializer="random_normal", activation="tanh")
    reference = keras_cls(5, kernel, strides=strides, padding=padding, use_bias=use_bias, activation="tanh")
    return ours, reference


def _gradients(layer, x):
    """d sum(layer(x)^2) / d(x, weights), on the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) ** 2)
        return [to_numpy(g) for g in tape.gradient(loss, [x] + [v.value for v in layer.trainable_variables])]
    if backend == "jax":
        import jax

        def loss(x, weights):
            out, _ = layer.stateless_call(weights, [], x)
            return (out**2).sum()

        gx, gw = jax.grad(loss, argnums=(0, 1))(x, [v.value for v in layer.trainable_variables])
        return [np.asarray(gx)] + [np.asarray(g) for g in gw]
    import torch

    xt = torch.tensor(x, requires_grad=True)
    loss = (layer(xt) ** 2).sum()
    grads = torch.autograd.grad(loss, [xt] + [v.value for v in layer.trainable_variables])
    return [g.numpy() for g in grads]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("transpose", [False, True], ids=["conv", "conv_transpose"])
@pytest.mark.parametrize("kernel, strides, padding, use_bias, size, fast", CASES)
def test_same_outputs_and_gradients_as_keras(transpose, kernel, strides, padding, use_bias, size, fast, layout,
                                             monkeypatch):
    """Each case on each of torch's two fast paths (the layout only matters on torch; elsewhere a repeat)."""
    if keras.backend.backend() == "torch":
        from keras_gan.backend import torch_layers

        monkeypatch.setattr(torch_layers, "NCHW_MAX_PIXELS", LAYOUTS[layout])
    cls, keras_cls = ((layers.Conv2DTranspose, keras.layers.Conv2DTranspose) if transpose
                      else (layers.Conv2D, keras.layers.Conv2D))
    ours, reference = _pair(cls, keras_cls, kernel, strides, padding, use_bias)
    x = np.random.default_rng(0).normal(size=(2,) + size + (3,)).astype("float32")
    ours.build(x.shape)
    reference.build(x.shape)
    assert [tuple(v.shape) for v in ours.weights] == [tuple(v.shape) for v in reference.weights]
    reference.set_weights(ours.get_weights())
    # The torch fast path is taken wherever torch's symmetric padding expresses Keras' window.
    if keras.backend.backend() == "torch":
        assert (ours._torch_padding(x) is not None) == fast[transpose]
        assert ours._torch_nchw == (layout == "nchw")
    np.testing.assert_allclose(to_numpy(ours(x)), to_numpy(reference(x)), rtol=1e-5, atol=1e-5)
    for a, b in zip(_gradients(ours, x), _gradients(reference, x)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_layers_serialise_and_keep_their_class():
    for layer in (layers.Conv2D(4, 3, padding="same"), layers.Conv2DTranspose(4, 4, strides=2, padding="same")):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


class _PaddedReference(keras.layers.Layer):
    """ZeroPadding2D then a "valid" keras.layers.Conv2D: what an explicitly padded Conv2D must compute."""

    def __init__(self, padding, data_format, **conv_kwargs):
        super().__init__()
        self.pad = keras.layers.ZeroPadding2D(padding, data_format=data_format)
        self.conv = keras.layers.Conv2D(padding="valid", data_format=data_format, **conv_kwargs)

    def build(self, input_shape):
        self.conv.build(self.pad.compute_output_shape(input_shape))

    def call(self, x):
        return self.conv(self.pad(x))


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("padding, strides, size, data_format, fast", [
    (1, 2, (16, 16), "channels_last", True),  # the PatchGAN's strided layers
    (1, 1, (9, 7), "channels_last", True),  # ... and its stride-1 ones, on odd sizes
    ((2, 0), 1, (6, 6), "channels_last", True),  # rows only
    (((1, 2), (0, 1)), 2, (7, 8), "channels_last", False),  # asymmetric: keras.ops.pad, then "valid"
    (1, 2, (8, 8), "channels_first", False),
])
def test_explicit_padding_is_zero_padding_then_a_valid_convolution(padding, strides, size, data_format, fast,
                                                                   layout, monkeypatch):
    """Conv2D(padding=1) (the pix2pix reference code's nn.Conv2d padding) computes ZeroPadding2D(1) +
    a "valid" Keras Conv2D: outputs, gradients, output shape and weights; on torch through torch's own
    padding wherever it is symmetric."""
    if keras.backend.backend() == "torch":
        from keras_gan.backend import torch_layers

        monkeypatch.setattr(torch_layers, "NCHW_MAX_PIXELS", LAYOUTS[layout])
    if data_format == "channels_first" and keras.backend.backend() == "tensorflow":
        pytest.skip("TensorFlow's CPU convolutions take channels-last only")
    kwargs = dict(filters=5, kernel_size=4, strides=strides, use_bias=True, activation="tanh")
    ours = layers.Conv2D(padding=padding, data_format=data_format, bias_initializer="random_normal", **kwargs)
    reference = _PaddedReference(padding, data_format, **kwargs)
    shape = (2,) + size + (3,) if data_format == "channels_last" else (2, 3) + size
    x = np.random.default_rng(2).normal(size=shape).astype("float32")
    ours.build(x.shape)
    reference.build(x.shape)
    reference.conv.set_weights(ours.get_weights())
    if keras.backend.backend() == "torch":
        assert (ours._torch_padding(x) is not None) == fast
    out = to_numpy(ours(x))
    assert out.shape == tuple(ours.compute_output_shape(x.shape)) == tuple(reference.conv.compute_output_shape(
        reference.pad.compute_output_shape(x.shape)))
    np.testing.assert_allclose(out, to_numpy(reference(x)), rtol=1e-5, atol=1e-5)
    for a, b in zip(_gradients(ours, x), _gradients(reference, x)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ours))
    assert clone.explicit_padding == ours.explicit_padding and clone.get_config() == ours.get_config()


@pytest.mark.parametrize("padding", [-1, 1.5, True, (1, 2, 3), ((1, 2), (3,)), "full"])
def test_bad_padding_is_refused_with_the_accepted_forms(padding):
    with pytest.raises(ValueError, match="padding must be|padding"):
        layers.Conv2D(4, 3, padding=padding)


@pytest.mark.parametrize("transpose", [False, True], ids=["conv", "conv_transpose"])
@pytest.mark.parametrize("size", [1, 4, 16, 40], ids=["one_pixel", "small_map", "at_limit", "large_map"])
def test_both_torch_paths_match_keras(transpose, size):
    """On a CPU every map runs NCHW on torch, a transposed convolution's 1x1 map too (the U-Net's
    innermost); both compute Keras' layer."""
    cls, keras_cls = ((layers.Conv2DTranspose, keras.layers.Conv2DTranspose) if transpose
                      else (layers.Conv2D, keras.layers.Conv2D))
    ours, reference = _pair(cls, keras_cls, 4, 2, "same", True)
    x = np.random.default_rng(1).normal(size=(1, size, size, 3)).astype("float32")
    ours.build(x.shape)
    reference.build(x.shape)
    reference.set_weights(ours.get_weights())
    if keras.backend.backend() == "torch":
        assert ours._torch_nchw
        # the fast path, not Keras' own (a strided conv on 1 pixel pads asymmetrically: Keras')
        assert (ours._torch_padding(x) is not None) == (transpose or size > 1)
    np.testing.assert_allclose(to_numpy(ours(x)), to_numpy(reference(x)), rtol=1e-5, atol=1e-5)
    for a, b in zip(_gradients(ours, x), _gradients(reference, x)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the kernels' memory layout is torch's concern")
def test_torch_reads_the_kernels_without_copying_them_and_assign_keeps_the_layout(tmp_path, monkeypatch):
    import torch

    from keras_gan.backend import torch_layers
    from keras_gan.backend.torch_layers import torch_weight

    # Maps of 16x16 pixels and less NCHW, larger ones channels-last (a GPU's path), to check both layouts.
    monkeypatch.setattr(torch_layers, "NCHW_MAX_PIXELS", 16 * 16)
    conv, deconv = layers.Conv2D(8, 4, strides=2, padding="same"), layers.Conv2DTranspose(8, 4, strides=2,
                                                                                         padding="same")
    small_conv, small_deconv = layers.Conv2D(8, 4, strides=2, padding="same"), layers.Conv2DTranspose(
        8, 4, strides=2, padding="same")
    conv.build((1, 64, 64, 3))
    deconv.build((1, 64, 64, 3))
    small_conv.build((1, 8, 8, 3))
    small_deconv.build((1, 8, 8, 3))
    for layer in (conv, deconv, small_conv, small_deconv):
        kernel = layer.kernel.value
        weight = torch_weight(kernel, layer._torch_nchw)
        assert weight.data_ptr() == kernel.data_ptr()  # a view: nothing copied
        assert weight.is_contiguous(memory_format=torch.contiguous_format if layer._torch_nchw
                                    else torch.channels_last)  # the layout oneDNN reads as it is
        values = np.random.default_rng(2).normal(size=tuple(layer.kernel.shape)).astype("float32")
        layer.kernel.assign(values)
        weight = torch_weight(layer.kernel.value, layer._torch_nchw)
        assert weight.data_ptr() == layer.kernel.value.data_ptr()
        np.testing.assert_array_equal(to_numpy(layer.kernel), values)  # Keras' shape and values
    for size in (16, 64):  # a kernel laid out for each path
        path = str(tmp_path / f"conv{size}.weights.h5")
        model = keras.Sequential([keras.Input((size, size, 3)), layers.Conv2D(4, 4, strides=2, padding="same"),
                                  layers.Conv2DTranspose(3, 4, strides=2, padding="same")])
        assert [layer._torch_nchw for layer in model.layers] == [size <= 16] * 2
        model.save_weights(path)
        copy = keras.Sequential([keras.Input((size, size, 3)),
                                 keras.layers.Conv2D(4, 4, strides=2, padding="same"),
                                 keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same")])
        copy.load_weights(path)  # Keras' own layers read the file: the file holds Keras' layout
        for ours, theirs in zip(model.weights, copy.weights):
            np.testing.assert_array_equal(to_numpy(theirs), to_numpy(ours))


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="the NCHW path is the torch layers' concern")
def test_nchw_only_on_the_device_it_was_measured_on():
    """The NCHW path was measured on this CPU: a GPU keeps the channels-last path until measured."""
    from keras_gan.backend import torch_layers

    assert torch_layers.runs_nchw((1, 8, 8, 512), device_type="cpu")
    assert torch_layers.runs_nchw((1, 256, 256, 3), device_type="cpu")
    assert torch_layers.runs_nchw((1, None, None, 3), device_type="cpu")
    assert not torch_layers.runs_nchw((1, 8, 8, 512), device_type="cuda")


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="memory order is the torch layers' concern")
def test_a_unet_block_keeps_nchw_memory_and_computes_keras_layers():
    """conv -> batch norm -> leaky ReLU -> skip concatenation -> transposed conv, on torch's CPU: each
    activation after the first convolution lies in NCHW memory (no layout copy between layers), the
    gradients reach the input, and the values are those of Keras' own layers."""
    import torch

    from keras_gan.backend import torch_layers

    x = np.random.default_rng(3).normal(size=(2, 16, 16, 3)).astype("float32")
    inputs = keras.Input((16, 16, 3))
    built = {}
    for name, conv, convt, norm, concat in [
        ("ours", layers.Conv2D, layers.Conv2DTranspose, layers.BatchNormalization, layers.Concatenate),
        ("keras", keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.BatchNormalization,
         keras.layers.Concatenate),
    ]:
        a = conv(8, 4, strides=2, padding="same", use_bias=False)(inputs)
        b = keras.layers.LeakyReLU(0.2)(norm(momentum=0.9, epsilon=1e-5)(a))
        c = conv(8, 3, padding=1)(b) if name == "ours" else conv(8, 3, padding="same")(b)
        d = concat()([c, a])
        built[name] = keras.Model(inputs, [a, b, c, d, convt(4, 4, strides=2, padding="same")(d)])
    built["keras"].set_weights(built["ours"].get_weights())
    xt = torch.tensor(x, requires_grad=True)
    ours = built["ours"](xt, training=True)
    assert all(torch_layers.nchw_memory(t) for t in ours), [t.stride() for t in ours]
    (grad,) = torch.autograd.grad(sum((t**2).sum() for t in ours), [xt])
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    for a, b in zip(ours, built["keras"](x, training=True)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="memory order is the torch layers' concern")
def test_a_one_pixel_map_with_channels_last_looking_strides_still_runs_nchw():
    """Along a 1x1 map's size-1 axes any stride is valid; strides that torch reads as channels-last
    made the U-Net's innermost layers run (and copy their kernels) channels-last. The layer hands torch
    plain NCHW strides, so its output is NCHW memory, and it is still Keras' result."""
    import torch

    from keras_gan.backend import torch_layers

    ours, reference = _pair(layers.Conv2DTranspose, keras.layers.Conv2DTranspose, 4, 2, "same", False)
    values = np.random.default_rng(5).normal(size=(1, 1, 1, 6)).astype("float32")
    x = torch.tensor(values).as_strided((1, 1, 1, 6), (6, 6, 6, 1))  # NCHW view: strides (6, 1, 6, 6)
    assert x.permute(0, 3, 1, 2).is_contiguous(memory_format=torch.channels_last)
    ours.build(x.shape)
    reference.build(x.shape)
    reference.set_weights(ours.get_weights())
    out = ours(x)
    assert ours._torch_nchw and torch_layers.nchw_memory(out) and not out.is_contiguous()
    np.testing.assert_allclose(to_numpy(out), to_numpy(reference(values)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("memory", ["nchw", "nhwc", "mixed"])
def test_concatenate_is_keras_and_keeps_the_memory_order(memory):
    """keras_gan.layers.Concatenate computes Keras' Concatenate on every backend; on torch a channel
    concatenation keeps NCHW memory NCHW and NHWC memory NHWC (a mix gives NCHW); it serialises."""
    rng = np.random.default_rng(4)
    parts = [rng.normal(size=(2, 5, 3, c)).astype("float32") for c in (2, 4)]
    tensors = [keras.ops.convert_to_tensor(p) for p in parts]
    if keras.backend.backend() == "torch":
        orders = {"nchw": (True, True), "nhwc": (False, False), "mixed": (False, True)}[memory]
        tensors = [t.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1) if nchw else t
                   for t, nchw in zip(tensors, orders)]
    out = layers.Concatenate()(tensors)
    np.testing.assert_array_equal(to_numpy(out), np.concatenate(parts, axis=-1))
    np.testing.assert_array_equal(to_numpy(layers.Concatenate(axis=1)(tensors[:1] * 2)),
                                  np.concatenate(parts[:1] * 2, axis=1))
    if keras.backend.backend() == "torch":
        from keras_gan.backend import torch_layers

        assert torch_layers.nchw_memory(out) == (memory != "nhwc")
        assert out.is_contiguous() == (memory == "nhwc")
    layer = layers.Concatenate(axis=-1, name="skip")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is layers.Concatenate and clone.get_config() == layer.get_config()


@pytest.mark.parametrize("kernel, strides, padding, use_bias, size, fast", CASES)
def test_jax_inference_with_a_prepared_kernel_is_keras_call_bit_for_bit(kernel, strides, padding, use_bias, size, fast,
                                                                       monkeypatch):
    """On JAX a compiled inference pass (keras_gan.backend.compiled_forward) convolves with the transposed
    kernel rewritten once outside the pass (keras_gan.backend.jax_layers): the same op on the same values
    as Keras' layer, so the same bits; rewritten once per set of weights, and again after an assign."""
    if keras.backend.backend() != "jax":
        pytest.skip("the prepared kernel is the JAX path")
    from keras_gan.backend import compiled_forward, jax_layers

    traced = []  # the layers that convolved with a prepared kernel (recorded while the pass is traced)
    convolve = jax_layers.conv2d_transpose
    monkeypatch.setattr(jax_layers, "conv2d_transpose",
                        lambda layer, *args: traced.append(layer.name) or convolve(layer, *args))
    inputs = keras.Input(size + (3,))
    hidden = layers.Conv2DTranspose(4, kernel, strides=strides, padding=padding, use_bias=use_bias,
                                    bias_initializer="random_normal", activation="relu")(inputs)
    outputs = layers.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", bias_initializer="random_normal",
                                     activation="tanh")(hidden)
    model = keras.Model(inputs, outputs)
    reference = keras.Model(inputs, outputs)  # the same layers, called by Keras (no prepared kernel)
    x = np.random.default_rng(0).normal(size=(2,) + size + (3,)).astype("float32")
    run = compiled_forward.stateless_forward(model, training=False)
    np.testing.assert_array_equal(to_numpy(compiled_forward.forward(model, x)), to_numpy(reference(x)))
    assert traced == [model.layers[1].name, model.layers[2].name]
    compiled_forward.forward(model, x[:1])
    assert run.preparations == 1
    first = model.layers[1]
    first.kernel.assign(-first.kernel.value)
    np.testing.assert_array_equal(to_numpy(compiled_forward.forward(model, x)), to_numpy(reference(x)))
    assert run.preparations == 2
    first.trainable = False  # its kernel moves to the non-trainable values
    np.testing.assert_array_equal(to_numpy(compiled_forward.forward(model, x)), to_numpy(reference(x)))


def test_jax_prepared_kernel_under_mixed_precision_is_keras_call():
    """The prepared kernel is cast to the layer's compute dtype, as Keras' autocast casts the kernel."""
    if keras.backend.backend() != "jax":
        pytest.skip("the prepared kernel is the JAX path")
    from keras_gan.backend import compiled_forward

    inputs = keras.Input((8, 8, 3))
    outputs = layers.Conv2DTranspose(4, 4, strides=2, padding="same", dtype="mixed_bfloat16")(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    ours = compiled_forward.forward(model, x)
    assert compiled_forward.stateless_forward(model, training=False).preparations == 1
    assert keras.backend.standardize_dtype(ours.dtype) == "bfloat16"
    as_float32 = lambda y: to_numpy(keras.ops.cast(y, "float32"))
    np.testing.assert_array_equal(as_float32(ours), as_float32(model(x)))
