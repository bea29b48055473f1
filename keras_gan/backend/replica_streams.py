"""Each data-parallel replica draws its own dropout masks (TensorFlow strategies, torchrun).

Why: Keras layers draw their randomness (Dropout's masks) from seed states
that data parallelism keeps identical on every replica: mirrored variables
under a `tf.distribute` strategy, rank 0's broadcast under `torch.distributed`
(and torch's global generator, seeded alike on every rank, for a Dropout
without a seed). Every replica would then draw the *same* masks for its shard
of the global batch: measured with `MirroredStrategy` on 2 CPU devices, one
`Dropout(0.5)` gave both replicas the identical 12-element mask. One device
draws independent masks for every example of the batch.

The fix folds the replica's index into each seed a layer draws (not into the
state), so replica 0 keeps the one-device stream, every other replica gets
its own, and the seed states stay identical everywhere: checkpoints, resume
and the broadcast are unchanged. The models' latent noise is left alone: it
is drawn for the global batch and sliced per replica (`GAN._sample_latents`),
which keeps it the one-device noise. JAX needs nothing: it runs one program
over the global batch, whose masks are already the one-device masks.
"""

from __future__ import annotations

from typing import Any, Callable

#: The distance between replicas' streams, in seeds: torch combines a seed's
#: two words into one (first + second), so replicas' streams would meet only
#: after this many draws from one layer (about 1.7e7 steps).
REPLICA_SEED_STRIDE = 0x01000193

_MARK = "_keras_gan_replica_streams"


def fold_replica_into_seed(seed, replica):
    """`seed + [replica * REPLICA_SEED_STRIDE, 0]`, in the seed's dtype (replica: int or tensor)."""
    from keras import ops

    offset = ops.cast(replica, seed.dtype) * ops.cast(REPLICA_SEED_STRIDE, seed.dtype)
    return seed + ops.stack([offset, ops.zeros_like(offset)])


def give_each_replica_its_own_streams(model, replica_index: Callable[[], Any], keep=()) -> int:
    """Make every seed generator of `model`'s layers (except those in `keep`) draw
    replica-specific seeds; `replica_index()` is called at each draw, inside the replica.

    Idempotent; returns how many generators were changed by this call.
    """
    from keras_gan import compat

    def for_this_replica(draw):
        def next_for_this_replica(ordered=True):
            return fold_replica_into_seed(draw(ordered), replica_index())

        return next_for_this_replica

    kept = {id(g) for g in keep}
    changed = 0
    for layer in compat.flatten_layers(model):
        for generator in compat.seed_generators(layer):
            if id(generator) in kept or getattr(generator, _MARK, False):
                continue
            compat.wrap_seed_draws(generator, for_this_replica)
            setattr(generator, _MARK, True)
            changed += 1
    return changed
