"""The adversarial losses, written once in `keras.ops` for every backend.

All functions take discriminator *logits* `l` (D(x) = sigmoid(l)) so that the
logarithms of Eq. 1 of Goodfellow et al. (2014) are computed stably:
log D(x) = log_sigmoid(l) and log(1 - D(x)) = log_sigmoid(-l). The paper's
discriminator ends in a sigmoid unit; ours ends in its pre-activation, which is
the same model with a numerically safe loss.

Under a mixed-precision policy (`mixed_float16` / `mixed_bfloat16`) the
networks compute in 16 bits, but every loss here casts the logits to float32
first: log-sigmoids and means of half-precision numbers lose the small
differences the gradients are made of.
"""

from __future__ import annotations

from keras import ops

GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits, fake_logits):
    """Negative of the discriminator's objective in Algorithm 1.

    D ascends  mean log D(x) + mean log(1 - D(G(z)));  we minimise
    -mean log_sigmoid(l_real) - mean log_sigmoid(-l_fake).
    """
    real_term = ops.mean(ops.log_sigmoid(_f32(real_logits)))
    fake_term = ops.mean(ops.log_sigmoid(-_f32(fake_logits)))
    return -(real_term + fake_term)


def generator_loss(fake_logits, kind: str = "non_saturating"):
    """Generator loss for Algorithm 1.

    - ``"minimax"``: minimise mean log(1 - D(G(z))), exactly Eq. 1.
    - ``"non_saturating"``: minimise -mean log D(G(z)), the paper's practical
      choice (section 3: "rather than training G to minimize log(1 - D(G(z)))
      we can train G to maximize log D(G(z))"), which has strong gradients
      early in training when D rejects the samples confidently.
    """
    if kind == "non_saturating":
        return -ops.mean(ops.log_sigmoid(_f32(fake_logits)))
    if kind == "minimax":
        return ops.mean(ops.log_sigmoid(-_f32(fake_logits)))
    raise ValueError(
        f"Unknown generator_loss {kind!r}; expected one of {GENERATOR_LOSSES}."
    )


def mean_probability(logits):
    """Mean of D's output probability sigmoid(l): the logged `d_real` / `d_fake`."""
    return ops.mean(ops.sigmoid(_f32(logits)))


def _f32(x):
    return ops.cast(x, "float32")
