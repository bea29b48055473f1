"""Hand-written pix2pix training loops, one per framework, without Keras.

The baseline for `bench_pix2pix.py`: the same networks as
`keras_gan.networks.unet_generator` / `patchgan_discriminator` (U-Net with
skips, no norm on the outermost and innermost encoder layers, 50% dropout in
the first three decoder blocks, tanh; 70x70 PatchGAN on the concatenated
pair; batch norm with batch statistics, running averages updated; N(0, 0.02)
weights), the same losses (D: halved BCE on real and generated pairs; G:
non-saturating BCE + 100 L1), alternating D then G updates, and Adam(2e-4,
beta1=0.5, eps=1e-8). Written directly in each framework, as an expert user
would, each computing G's forward pass once per step like the reference code:

- TensorFlow: tf.nn ops, tf.GradientTape (the G tape wraps the D update),
  hand-written Adam, `tf.function` (NHWC).
- JAX: lax convolutions, `jax.vjp` of G (one forward, pulled back after the D
  update), `jax.value_and_grad`, hand-written Adam, `jax.jit` (NHWC).
- PyTorch: torch.nn.functional with NCHW tensors, autograd, torch.optim.Adam
  (the graph of G's forward is reused for its update, as in the reference; G's
  backward pass computes G's gradients only, as the reference does by turning
  off D's `requires_grad`), on the GPU when torch has one (as Keras does).

JAX's step donates its state (`donate_argnums`), as Keras' JAX trainer does,
so both sides update the weights and Adam moments in place.

Each `make_*` returns `step(inputs_nhwc, targets_nhwc)` -> (d_loss, g_loss).

The baseline for `bench_inference.py` too: each `make_*_translate` returns
`translate(inputs_nhwc)` -> numpy outputs, G's forward pass in the paper's
test mode (as `Pix2Pix.translate(mode="paper")`: dropout on, batch norm with
the batch's statistics, running averages left alone), through the same
generator as the training step (`_*_networks`): tf.function, jax.jit, torch
under `no_grad`.
"""

from __future__ import annotations

import functools

import numpy as np

LR, BETA_1, BETA_2, EPS, L1_WEIGHT = 2e-4, 0.5, 0.999, 1e-8, 100.0
BN_MOMENTUM, BN_EPS, DROPOUT = 0.1, 1e-5, 0.5


def _width(base, i):
    return base * min(2**i, 8)


def unet_layers(levels=8, ngf=64, in_ch=3, out_ch=3):
    """Encoder [(cin, cout, has_bias, has_norm)], decoder [(cin, cout, has_dropout)], output (cin, cout)."""
    encoder, cin = [], in_ch
    for i in range(levels):
        edge = i in (0, levels - 1)
        encoder.append((cin, _width(ngf, i), edge, not edge))
        cin = _width(ngf, i)
    decoder, h = [], encoder[-1][1]
    for j in range(1, levels):
        mirror = levels - 1 - j
        decoder.append((h, _width(ngf, mirror), j <= 3))
        h = _width(ngf, mirror) + encoder[mirror][1]
    return encoder, decoder, (h, out_ch)


def patchgan_layers(ndf=64, n_layers=3, in_ch=6):
    """[(cin, cout, stride, has_norm)], the last one the logits layer."""
    layers, cin = [], in_ch
    for i, stride in enumerate([2] * n_layers + [1]):
        layers.append((cin, _width(ndf, i), stride, i > 0))
        cin = _width(ndf, i)
    layers.append((cin, 1, 1, False))
    return layers


def init_params(levels=8, ngf=64, ndf=64, n_layers=3, seed=0):
    """numpy parameters: conv kernels HWIO (4, 4, cin, cout), BN (gamma, beta, mean, var)."""
    rng = np.random.default_rng(seed)
    normal = lambda mean, shape: rng.normal(mean, 0.02, shape).astype("float32")
    zeros = lambda n: np.zeros(n, "float32")
    bn = lambda c: {"gamma": normal(1.0, c), "beta": zeros(c), "mean": zeros(c), "var": np.ones(c, "float32")}
    encoder, decoder, (out_in, out_ch) = unet_layers(levels, ngf)
    g = {"enc": [], "dec": []}
    for cin, cout, has_bias, has_norm in encoder:
        g["enc"].append({"w": normal(0, (4, 4, cin, cout)), "b": zeros(cout) if has_bias else None,
                         "bn": bn(cout) if has_norm else None})
    for cin, cout, has_dropout in decoder:
        g["dec"].append({"w": normal(0, (4, 4, cin, cout)), "bn": bn(cout), "dropout": has_dropout})
    g["out"] = {"w": normal(0, (4, 4, out_in, out_ch)), "b": zeros(out_ch)}
    d = []
    for i, (cin, cout, stride, has_norm) in enumerate(patchgan_layers(ndf, n_layers)):
        has_bias = i == 0 or cout == 1
        d.append({"w": normal(0, (4, 4, cin, cout)), "b": zeros(cout) if has_bias else None,
                  "bn": bn(cout) if has_norm else None, "stride": stride})
    return g, d


# ----------------------------------------------------------------- TensorFlow
def _tensorflow_networks(levels, ngf, ndf, n_layers):
    """(G's trainable variables, D's, generator(x, track_stats=True), discriminator(x, y)), shared by
    training and translating; `track_stats=False` leaves the batch-norm running averages alone."""
    import tensorflow as tf

    g0, d0 = init_params(levels, ngf, ndf, n_layers)
    var = lambda a: None if a is None else tf.Variable(a)
    as_vars = lambda bn: None if bn is None else {k: tf.Variable(v, trainable=k in ("gamma", "beta")) for k, v in bn.items()}
    g_enc = [{"w": var(p["w"]), "b": var(p["b"]), "bn": as_vars(p["bn"])} for p in g0["enc"]]
    # conv2d_transpose takes kernels (4, 4, cout, cin).
    g_dec = [{"w": var(p["w"].transpose(0, 1, 3, 2)), "bn": as_vars(p["bn"]), "dropout": p["dropout"]} for p in g0["dec"]]
    g_out = {"w": var(g0["out"]["w"].transpose(0, 1, 3, 2)), "b": var(g0["out"]["b"])}
    d_layers = [{"w": var(p["w"]), "b": var(p["b"]), "bn": as_vars(p["bn"]), "stride": p["stride"]} for p in d0]

    def trainable(parts):
        out = []
        for p in parts:
            out += [p["w"]] + ([p["b"]] if p.get("b") is not None else [])
            if p.get("bn") is not None:
                out += [p["bn"]["gamma"], p["bn"]["beta"]]
        return out

    g_vars, d_vars = trainable(g_enc + g_dec + [g_out]), trainable(d_layers)
    pad1 = [[0, 0], [1, 1], [1, 1], [0, 0]]

    def batch_norm(x, bn, track_stats=True):
        mean, var_ = tf.nn.moments(x, axes=[0, 1, 2])
        if track_stats:
            bn["mean"].assign((1 - BN_MOMENTUM) * bn["mean"] + BN_MOMENTUM * mean)
            bn["var"].assign((1 - BN_MOMENTUM) * bn["var"] + BN_MOMENTUM * var_)
        return tf.nn.batch_normalization(x, mean, var_, bn["beta"], bn["gamma"], BN_EPS)

    def generator(x, track_stats=True):
        skips, h = [], x
        for i, p in enumerate(g_enc):
            if i:
                h = tf.nn.leaky_relu(h, 0.2)
            h = tf.nn.conv2d(h, p["w"], 2, pad1)
            h = h + p["b"] if p["b"] is not None else batch_norm(h, p["bn"], track_stats)
            skips.append(h)
        for j, p in enumerate(g_dec, start=1):
            n, s, _, _ = h.shape
            h = tf.nn.conv2d_transpose(tf.nn.relu(h), p["w"], [n, 2 * s, 2 * s, p["w"].shape[2]], 2, "SAME")
            h = batch_norm(h, p["bn"], track_stats)
            if p["dropout"]:
                h = tf.nn.dropout(h, DROPOUT)
            h = tf.concat([h, skips[len(g_enc) - 1 - j]], axis=-1)
        n, s, _, _ = h.shape
        h = tf.nn.conv2d_transpose(tf.nn.relu(h), g_out["w"], [n, 2 * s, 2 * s, g_out["w"].shape[2]], 2, "SAME")
        return tf.tanh(h + g_out["b"])

    def discriminator(x, y):
        h = tf.concat([x, y], axis=-1)
        for i, p in enumerate(d_layers):
            h = tf.nn.conv2d(h, p["w"], p["stride"], pad1)
            if p["b"] is not None:
                h = h + p["b"]
            if p["bn"] is not None:
                h = batch_norm(h, p["bn"])
            if i < len(d_layers) - 1:
                h = tf.nn.leaky_relu(h, 0.2)
        return h

    return g_vars, d_vars, generator, discriminator


def make_tensorflow(jit_compile=False, levels=8, ngf=64, ndf=64, n_layers=3):
    import tensorflow as tf

    g_vars, d_vars, generator, discriminator = _tensorflow_networks(levels, ngf, ndf, n_layers)

    def adam(variables):
        m = [tf.Variable(tf.zeros_like(v)) for v in variables]
        s = [tf.Variable(tf.zeros_like(v)) for v in variables]
        t = tf.Variable(0.0)

        def apply(grads):
            t.assign_add(1.0)
            lr = LR * tf.sqrt(1.0 - BETA_2**t) / (1.0 - BETA_1**t)
            for v, mi, si, gr in zip(variables, m, s, grads):
                mi.assign(BETA_1 * mi + (1 - BETA_1) * gr)
                si.assign(BETA_2 * si + (1 - BETA_2) * tf.square(gr))
                v.assign_sub(lr * mi / (tf.sqrt(si) + EPS))

        return apply

    adam_g, adam_d = adam(g_vars), adam(d_vars)

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as g_tape:
            fake = generator(x)
            with tf.GradientTape() as d_tape:
                real_logits = discriminator(x, y)
                fake_logits = discriminator(x, tf.stop_gradient(fake))
                d_loss = 0.5 * (tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits)))
            adam_d(d_tape.gradient(d_loss, d_vars))
            logits = discriminator(x, fake)  # the updated D
            g_loss = tf.reduce_mean(tf.nn.softplus(-logits)) + L1_WEIGHT * tf.reduce_mean(tf.abs(y - fake))
        adam_g(g_tape.gradient(g_loss, g_vars))
        return d_loss, g_loss

    return lambda x, y: step(tf.convert_to_tensor(x), tf.convert_to_tensor(y))


def make_tensorflow_translate(jit_compile=False, levels=8, ngf=64, ndf=64, n_layers=3):
    import tensorflow as tf

    _, _, generator, _ = _tensorflow_networks(levels, ngf, ndf, n_layers)
    forward = tf.function(lambda x: generator(x, track_stats=False), jit_compile=jit_compile)
    return lambda x: forward(tf.convert_to_tensor(x)).numpy()


# ------------------------------------------------------------------------ JAX
def _jax_networks(levels, ngf, ndf, n_layers):
    """(G's params and batch-norm stats, D's, generator(params, stats, x, key) -> (images, new stats),
    discriminator(params, stats, x, y) -> (logits, new stats)), shared by training and translating."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    g0, d0 = init_params(levels, ngf, ndf, n_layers)
    dims = ("NHWC", "HWIO", "NHWC")

    def split(parts):
        """(trainable params, batch-norm running stats, static flags) of a layer list."""
        params, stats = [], []
        for p in parts:
            params.append({k: jnp.asarray(p[k]) for k in ("w", "b") if p.get(k) is not None}
                          | ({"gamma": jnp.asarray(p["bn"]["gamma"]), "beta": jnp.asarray(p["bn"]["beta"])} if p.get("bn") else {}))
            stats.append({"mean": jnp.asarray(p["bn"]["mean"]), "var": jnp.asarray(p["bn"]["var"])} if p.get("bn") else {})
        return params, stats

    g_parts = g0["enc"] + g0["dec"] + [g0["out"]]
    g_params, g_stats = split(g_parts)
    d_params, d_stats = split(d0)
    n_enc = len(g0["enc"])
    dropout_flags = [p["dropout"] for p in g0["dec"]]
    d_strides = [p["stride"] for p in d0]

    def batch_norm(x, p, stats):
        mean, var_ = jnp.mean(x, axis=(0, 1, 2)), jnp.var(x, axis=(0, 1, 2))
        new = {"mean": (1 - BN_MOMENTUM) * stats["mean"] + BN_MOMENTUM * mean,
               "var": (1 - BN_MOMENTUM) * stats["var"] + BN_MOMENTUM * var_}
        return (x - mean) * lax.rsqrt(var_ + BN_EPS) * p["gamma"] + p["beta"], new

    def conv(x, w, stride):
        return lax.conv_general_dilated(x, w, (stride, stride), ((1, 1), (1, 1)), dimension_numbers=dims)

    def deconv(x, w):
        return lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=dims)

    def generator(params, stats, x, key):
        new_stats, skips, h = list(stats), [], x
        for i in range(n_enc):
            p = params[i]
            if i:
                h = jax.nn.leaky_relu(h, 0.2)
            h = conv(h, p["w"], 2)
            if "b" in p:
                h = h + p["b"]
            else:
                h, new_stats[i] = batch_norm(h, p, stats[i])
            skips.append(h)
        keys = jax.random.split(key, len(dropout_flags))
        for j, has_dropout in enumerate(dropout_flags, start=1):
            k = n_enc + j - 1
            h, new_stats[k] = batch_norm(deconv(jax.nn.relu(h), params[k]["w"]), params[k], stats[k])
            if has_dropout:
                keep = jax.random.bernoulli(keys[j - 1], 1 - DROPOUT, h.shape)
                h = jnp.where(keep, h / (1 - DROPOUT), 0.0)
            h = jnp.concatenate([h, skips[n_enc - 1 - j]], axis=-1)
        out = params[-1]
        return jnp.tanh(deconv(jax.nn.relu(h), out["w"]) + out["b"]), new_stats

    def discriminator(params, stats, x, y):
        new_stats, h = list(stats), jnp.concatenate([x, y], axis=-1)
        for i, (p, stride) in enumerate(zip(params, d_strides)):
            h = conv(h, p["w"], stride)
            if "b" in p:
                h = h + p["b"]
            if "gamma" in p:
                h, new_stats[i] = batch_norm(h, p, stats[i])
            if i < len(params) - 1:
                h = jax.nn.leaky_relu(h, 0.2)
        return h, new_stats

    return (g_params, g_stats), (d_params, d_stats), generator, discriminator


def make_jax(levels=8, ngf=64, ndf=64, n_layers=3):
    import jax
    import jax.numpy as jnp
    from jax import lax

    (g_params, g_stats), (d_params, d_stats), generator, discriminator = _jax_networks(levels, ngf, ndf, n_layers)

    def adam_init(params):
        zeros = lambda: jax.tree_util.tree_map(jnp.zeros_like, params)  # two buffers: the step donates both
        return {"m": zeros(), "v": zeros(), "t": jnp.zeros((), jnp.float32)}

    def adam(params, grads, opt):
        t = opt["t"] + 1
        m = jax.tree_util.tree_map(lambda m, g: BETA_1 * m + (1 - BETA_1) * g, opt["m"], grads)
        v = jax.tree_util.tree_map(lambda v, g: BETA_2 * v + (1 - BETA_2) * g * g, opt["v"], grads)
        lr = LR * jnp.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
        params = jax.tree_util.tree_map(lambda p, m, v: p - lr * m / (jnp.sqrt(v) + EPS), params, m, v)
        return params, {"m": m, "v": v, "t": t}

    @functools.partial(jax.jit, donate_argnums=0)  # in place, as Keras' JAX trainer
    def step(state, x, y):
        key, sub = jax.random.split(state["key"])
        fake, g_pullback, g_stats_new = jax.vjp(
            lambda p: generator(p, state["g_stats"], x, sub), state["g"], has_aux=True)

        def d_loss_fn(params):
            real_logits, stats = discriminator(params, state["d_stats"], x, y)
            fake_logits, stats = discriminator(params, stats, x, lax.stop_gradient(fake))
            loss = 0.5 * (jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits)))
            return loss, stats

        (d_loss, d_stats), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(state["d"])
        d_new, d_opt = adam(state["d"], d_grads, state["d_opt"])

        def g_loss_of_fake(f):
            logits, stats = discriminator(d_new, d_stats, x, f)  # the updated D
            return jnp.mean(jax.nn.softplus(-logits)) + L1_WEIGHT * jnp.mean(jnp.abs(y - f)), stats

        (g_loss, d_stats), dfake = jax.value_and_grad(g_loss_of_fake, has_aux=True)(fake)
        (g_grads,) = g_pullback(dfake)
        g_new, g_opt = adam(state["g"], g_grads, state["g_opt"])
        new_state = {"g": g_new, "d": d_new, "g_opt": g_opt, "d_opt": d_opt, "g_stats": g_stats_new,
                     "d_stats": d_stats, "key": key}
        return new_state, (d_loss, g_loss)

    state = {"g": g_params, "d": d_params, "g_opt": adam_init(g_params), "d_opt": adam_init(d_params),
             "g_stats": g_stats, "d_stats": d_stats, "key": jax.random.PRNGKey(0)}

    def run(x, y):
        nonlocal state
        state, losses = step(state, jnp.asarray(x), jnp.asarray(y))
        return losses

    return run


def make_jax_translate(levels=8, ngf=64, ndf=64, n_layers=3):
    import jax
    import jax.numpy as jnp

    (params, stats), _, generator, _ = _jax_networks(levels, ngf, ndf, n_layers)

    @jax.jit
    def forward(params, stats, x, key):
        key, sub = jax.random.split(key)
        return key, generator(params, stats, x, sub)[0]  # the new running averages are dropped

    key = jax.random.PRNGKey(0)

    def run(x):
        nonlocal key
        key, images = forward(params, stats, jnp.asarray(x), key)
        return np.asarray(images)

    return run


# ---------------------------------------------------------------------- torch
def torch_device() -> str:
    """Where Keras' torch backend puts its tensors: the GPU when there is one."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _torch_networks(levels, ngf, ndf, n_layers):
    """(G's parameters, D's, generator(x, track_stats=True), discriminator(x, y), device), NCHW, shared by
    training and translating; `track_stats=False` leaves the batch-norm running averages alone."""
    import torch
    import torch.nn.functional as F

    g0, d0 = init_params(levels, ngf, ndf, n_layers)
    device = torch_device()
    param = lambda a: None if a is None else torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a)).to(device))
    buffer = lambda a: torch.from_numpy(a.copy()).to(device)

    def layer(p, kernel_order):
        out = {"w": param(p["w"].transpose(kernel_order)), "b": param(p.get("b"))}
        if p.get("bn"):
            out["bn"] = {"gamma": param(p["bn"]["gamma"]), "beta": param(p["bn"]["beta"]),
                         "mean": buffer(p["bn"]["mean"]), "var": buffer(p["bn"]["var"])}
        return out

    conv_order, deconv_order = (3, 2, 0, 1), (2, 3, 0, 1)  # HWIO -> (out, in, h, w) / (in, out, h, w)
    g_enc = [layer(p, conv_order) for p in g0["enc"]]
    g_dec = [layer(p, deconv_order) | {"dropout": p["dropout"]} for p in g0["dec"]]
    g_out = layer(g0["out"], deconv_order)
    d_layers = [layer(p, conv_order) | {"stride": p["stride"]} for p in d0]

    def parameters(parts):
        out = []
        for p in parts:
            out += [t for t in (p["w"], p["b"]) if t is not None]
            if "bn" in p:
                out += [p["bn"]["gamma"], p["bn"]["beta"]]
        return out

    def batch_norm(x, bn, track_stats=True):
        mean, var = (bn["mean"], bn["var"]) if track_stats else (None, None)
        return F.batch_norm(x, mean, var, bn["gamma"], bn["beta"], True, BN_MOMENTUM, BN_EPS)

    def generator(x, track_stats=True):
        skips, h = [], x
        for i, p in enumerate(g_enc):
            if i:
                h = F.leaky_relu(h, 0.2)
            h = F.conv2d(h, p["w"], p["b"], stride=2, padding=1)
            if "bn" in p:
                h = batch_norm(h, p["bn"], track_stats)
            skips.append(h)
        for j, p in enumerate(g_dec, start=1):
            h = batch_norm(F.conv_transpose2d(F.relu(h), p["w"], stride=2, padding=1), p["bn"], track_stats)
            if p["dropout"]:
                h = F.dropout(h, DROPOUT, training=True)
            h = torch.cat([h, skips[len(g_enc) - 1 - j]], dim=1)
        return torch.tanh(F.conv_transpose2d(F.relu(h), g_out["w"], g_out["b"], stride=2, padding=1))

    def discriminator(x, y):
        h = torch.cat([x, y], dim=1)
        for i, p in enumerate(d_layers):
            h = F.conv2d(h, p["w"], p["b"], stride=p["stride"], padding=1)
            if "bn" in p:
                h = batch_norm(h, p["bn"])
            if i < len(d_layers) - 1:
                h = F.leaky_relu(h, 0.2)
        return h

    return parameters(g_enc + g_dec + [g_out]), parameters(d_layers), generator, discriminator, device


def make_torch(levels=8, ngf=64, ndf=64, n_layers=3):
    import torch
    import torch.nn.functional as F

    g_params, d_params, generator, discriminator, device = _torch_networks(levels, ngf, ndf, n_layers)
    opt_g = torch.optim.Adam(g_params, lr=LR, betas=(BETA_1, BETA_2), eps=EPS)
    opt_d = torch.optim.Adam(d_params, lr=LR, betas=(BETA_1, BETA_2), eps=EPS)

    def step(x, y):
        x = torch.from_numpy(x).to(device).permute(0, 3, 1, 2).contiguous()
        y = torch.from_numpy(y).to(device).permute(0, 3, 1, 2).contiguous()
        fake = generator(x)
        real_logits, fake_logits = discriminator(x, y), discriminator(x, fake.detach())
        d_loss = 0.5 * (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        logits = discriminator(x, fake)  # the updated D; G's graph is reused
        g_loss = F.softplus(-logits).mean() + L1_WEIGHT * (y - fake).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=g_params)  # G's gradients only (keras_gan and the reference skip D's)
        opt_g.step()
        return d_loss.detach(), g_loss.detach()

    return step


def make_torch_translate(levels=8, ngf=64, ndf=64, n_layers=3):
    import torch

    _, _, generator, _, device = _torch_networks(levels, ngf, ndf, n_layers)

    def run(x):
        with torch.no_grad():
            out = generator(torch.from_numpy(x).to(device).permute(0, 3, 1, 2).contiguous(), track_stats=False)
        return out.permute(0, 2, 3, 1).cpu().numpy()

    return run
