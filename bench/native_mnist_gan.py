"""Hand-written training loops of the GAN paper's MNIST model, one per framework.

The baseline for `bench_gan_mnist.py`: the same networks (Dense 1200-1200-784
generator; Maxout 240x5 - 240x5 - 1 discriminator with dropout 0.2/0.5), the
same batch (100), the same loss and the same optimiser (SGD, lr 0.1,
momentum 0.5, Keras' update rule) written directly in each framework:
tf.GradientTape + tf.function, jax.grad + jax.jit, torch autograd + torch.optim.
Each `make_*` returns `step(real_batch_numpy)`.

The baseline for `bench_inference.py` too: each `make_*_generate` returns
`generate(n)`, n samples (n, 28, 28, 1) as numpy from fresh U(-sqrt 3, sqrt 3)
noise, through the same generator (`_*_networks`, shared with the training
step): tf.function, jax.jit, torch under `no_grad`.
"""

from __future__ import annotations

import functools

import math

import numpy as np

LATENT, HIDDEN, PIXELS, UNITS, PIECES = 100, 1200, 784, 240, 5
LR, MOMENTUM = 0.1, 0.5
S3 = math.sqrt(3.0)


def init_params(seed=0):
    rng = np.random.default_rng(seed)
    u = lambda r, shape: rng.uniform(-r, r, shape).astype("float32")
    g = [u(.05, (LATENT, HIDDEN)), np.zeros(HIDDEN, "float32"), u(.05, (HIDDEN, HIDDEN)),
         np.zeros(HIDDEN, "float32"), u(.05, (HIDDEN, PIXELS)), np.zeros(PIXELS, "float32")]
    d = [u(.005, (PIXELS, UNITS * PIECES)), np.zeros(UNITS * PIECES, "float32"),
         u(.005, (UNITS, UNITS * PIECES)), np.zeros(UNITS * PIECES, "float32"),
         u(.005, (UNITS, 1)), np.zeros(1, "float32")]
    return g, d


def _tensorflow_networks():
    """(G's variables, D's variables, gen(z), disc(x)): the networks, shared by training and generating."""
    import tensorflow as tf

    g0, d0 = init_params()
    g = [tf.Variable(p) for p in g0]
    d = [tf.Variable(p) for p in d0]

    def gen(z):
        h = tf.nn.relu(z @ g[0] + g[1])
        h = tf.nn.relu(h @ g[2] + g[3])
        return tf.sigmoid(h @ g[4] + g[5])

    def maxout(x, w, b):
        return tf.reduce_max(tf.reshape(x @ w + b, (-1, UNITS, PIECES)), axis=-1)

    def disc(x):
        x = tf.nn.dropout(x, 0.2)
        h = tf.nn.dropout(maxout(x, d[0], d[1]), 0.5)
        h = tf.nn.dropout(maxout(h, d[2], d[3]), 0.5)
        return h @ d[4] + d[5]

    return g, d, gen, disc


def make_tensorflow(jit_compile=False):
    import tensorflow as tf

    g, d, gen, disc = _tensorflow_networks()
    mg = [tf.Variable(tf.zeros_like(p)) for p in g]
    md = [tf.Variable(tf.zeros_like(p)) for p in d]

    def sgd(params, moms, grads):
        for p, m, gr in zip(params, moms, grads):
            m.assign(MOMENTUM * m - LR * gr)
            p.assign_add(m)

    @tf.function(jit_compile=jit_compile)
    def step(real):
        real = tf.reshape(real, (-1, PIXELS))
        n = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            fake = tf.stop_gradient(gen(tf.random.uniform((n, LATENT), -S3, S3)))
            lr_, lf = disc(real), disc(fake)
            d_loss = -tf.reduce_mean(tf.math.log_sigmoid(lr_)) - tf.reduce_mean(tf.math.log_sigmoid(-lf))
        sgd(d, md, tape.gradient(d_loss, d))
        with tf.GradientTape() as tape:
            lf = disc(gen(tf.random.uniform((n, LATENT), -S3, S3)))
            g_loss = -tf.reduce_mean(tf.math.log_sigmoid(lf))
        sgd(g, mg, tape.gradient(g_loss, g))
        return d_loss, g_loss

    return lambda batch: step(tf.convert_to_tensor(batch))


def make_tensorflow_generate(jit_compile=False):
    import tensorflow as tf

    _, _, gen, _ = _tensorflow_networks()

    @tf.function(jit_compile=jit_compile)
    def sample(n):
        return gen(tf.random.uniform((n, LATENT), -S3, S3))

    return lambda n: sample(tf.constant(n)).numpy().reshape(n, 28, 28, 1)


def _jax_networks():
    """(G's params, D's params, gen(g, z), disc(d, x, key)): the networks, shared by training and generating."""
    import jax
    import jax.numpy as jnp

    g0, d0 = init_params()

    def gen(g, z):
        h = jax.nn.relu(z @ g[0] + g[1])
        h = jax.nn.relu(h @ g[2] + g[3])
        return jax.nn.sigmoid(h @ g[4] + g[5])

    def dropout(key, x, rate):
        keep = jax.random.bernoulli(key, 1 - rate, x.shape)
        return jnp.where(keep, x / (1 - rate), 0.0)

    def maxout(x, w, b):
        return jnp.max(jnp.reshape(x @ w + b, (-1, UNITS, PIECES)), axis=-1)

    def disc(d, x, key):
        k = jax.random.split(key, 3)
        x = dropout(k[0], x, 0.2)
        h = dropout(k[1], maxout(x, d[0], d[1]), 0.5)
        h = dropout(k[2], maxout(h, d[2], d[3]), 0.5)
        return h @ d[4] + d[5]

    return [jnp.asarray(p) for p in g0], [jnp.asarray(p) for p in d0], gen, disc


def make_jax():
    import jax
    import jax.numpy as jnp

    g_params, d_params, gen, disc = _jax_networks()
    state = {"g": g_params, "d": d_params}
    state["mg"] = [jnp.zeros_like(p) for p in state["g"]]
    state["md"] = [jnp.zeros_like(p) for p in state["d"]]
    state["key"] = jax.random.PRNGKey(0)

    def sgd(params, moms, grads):
        moms = [MOMENTUM * m - LR * gr for m, gr in zip(moms, grads)]
        return [p + m for p, m in zip(params, moms)], moms

    @functools.partial(jax.jit, donate_argnums=0)  # in place, as Keras' JAX trainer
    def step(state, real):
        real = real.reshape(real.shape[0], PIXELS)
        n = real.shape[0]
        keys = jax.random.split(state["key"], 7)

        def d_loss_fn(d):
            fake = jax.lax.stop_gradient(gen(state["g"], jax.random.uniform(keys[0], (n, LATENT), minval=-S3, maxval=S3)))
            lr_, lf = disc(d, real, keys[1]), disc(d, fake, keys[2])
            return -jnp.mean(jax.nn.log_sigmoid(lr_)) - jnp.mean(jax.nn.log_sigmoid(-lf))

        d_loss, gd = jax.value_and_grad(d_loss_fn)(state["d"])
        d, md = sgd(state["d"], state["md"], gd)

        def g_loss_fn(g):
            lf = disc(d, gen(g, jax.random.uniform(keys[3], (n, LATENT), minval=-S3, maxval=S3)), keys[4])
            return -jnp.mean(jax.nn.log_sigmoid(lf))

        g_loss, gg = jax.value_and_grad(g_loss_fn)(state["g"])
        g, mg = sgd(state["g"], state["mg"], gg)
        return {"g": g, "d": d, "mg": mg, "md": md, "key": keys[6]}, (d_loss, g_loss)

    def run(batch):
        nonlocal state
        state, losses = step(state, jnp.asarray(batch))
        return losses

    return run


def make_jax_generate():
    import jax

    g, _, gen, _ = _jax_networks()

    @functools.partial(jax.jit, static_argnums=2)
    def sample(g, key, n):
        key, sub = jax.random.split(key)
        return key, gen(g, jax.random.uniform(sub, (n, LATENT), minval=-S3, maxval=S3))

    key = jax.random.PRNGKey(0)

    def run(n):
        nonlocal key
        key, images = sample(g, key, n)
        return np.asarray(images).reshape(n, 28, 28, 1)

    return run


def _torch_networks():
    """(G's parameters, D's parameters, gen(z), disc(x), device): the networks, shared by training and
    generating."""
    import torch
    import torch.nn.functional as F

    from native_pix2pix import torch_device

    g0, d0 = init_params()
    device = torch_device()
    g = [torch.nn.Parameter(torch.from_numpy(p.copy()).to(device)) for p in g0]
    d = [torch.nn.Parameter(torch.from_numpy(p.copy()).to(device)) for p in d0]

    def gen(z):
        h = F.relu(z @ g[0] + g[1])
        h = F.relu(h @ g[2] + g[3])
        return torch.sigmoid(h @ g[4] + g[5])

    def maxout(x, w, b):
        return (x @ w + b).reshape(-1, UNITS, PIECES).amax(dim=-1)

    def disc(x):
        x = F.dropout(x, 0.2, training=True)
        h = F.dropout(maxout(x, d[0], d[1]), 0.5, training=True)
        h = F.dropout(maxout(h, d[2], d[3]), 0.5, training=True)
        return h @ d[4] + d[5]

    return g, d, gen, disc, device


def make_torch():
    import torch
    import torch.nn.functional as F

    g, d, gen, disc, device = _torch_networks()
    # torch's SGD momentum (v = mu v + g; p -= lr v) equals Keras' with a constant lr.
    opt_g = torch.optim.SGD(g, lr=LR, momentum=MOMENTUM)
    opt_d = torch.optim.SGD(d, lr=LR, momentum=MOMENTUM)

    def step(batch):
        real = torch.from_numpy(batch).to(device).reshape(-1, PIXELS)
        n = real.shape[0]
        with torch.no_grad():
            fake = gen(torch.empty(n, LATENT, device=device).uniform_(-S3, S3))
        d_loss = -F.logsigmoid(disc(real)).mean() - F.logsigmoid(-disc(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = -F.logsigmoid(disc(gen(torch.empty(n, LATENT, device=device).uniform_(-S3, S3)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=g)  # G's gradients only, as keras_gan computes them
        opt_g.step()
        return d_loss.detach(), g_loss.detach()

    return step


def make_torch_generate():
    import torch

    _, _, gen, _, device = _torch_networks()

    def run(n):
        with torch.no_grad():
            images = gen(torch.empty(n, LATENT, device=device).uniform_(-S3, S3))
        return images.cpu().numpy().reshape(n, 28, 28, 1)

    return run
