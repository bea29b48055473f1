"""PyTorch plumbing of the step primitives (`keras_gan.backend.step`): `torch.autograd.grad`.

`step.forward` runs its function once with autograd on; its output goes to the
other network's update detached and to its own network's update as it is, so
`autograd.grad` of that loss walks back through the one pass (the reference
pix2pix's `forward()` / `backward_D` / `backward_G`).

`autograd.grad` (rather than `loss.backward()`) returns gradients for exactly
the updated network's parameters and never accumulates `.grad` on the other
network, so the discriminator update cannot leak into the generator or the
other way round.
"""

from __future__ import annotations

import torch

from keras_gan.backend import torch_adam, torch_allocator, torch_metrics
from keras_gan.backend.step import BaseTrainer, Step, split_loss
from keras_gan.backend.torch_graph import call_network, route_calls_through_graph
from keras_gan.backend.replica_streams import give_each_replica_its_own_streams
from keras_gan.backend.torch_collectives import distributed as _distributed


def _apply(optimizer, grads, variables) -> None:
    """`optimizer.apply`, with Keras' torch Adam given the lean update (same results, fewer copies)."""
    torch_adam.install(optimizer)
    optimizer.apply(grads, variables)


def _average_over_ranks(grads, loss):
    """Average one update's gradients over the ranks, as DDP does, in one all-reduce.

    The loss's finiteness travels in the same buffer, so a non-finite loss on
    any rank skips the update on every rank and the weights stay identical.
    Returns `(grads, all_finite)`.
    """
    if not _distributed():
        return grads, bool(torch.isfinite(loss))
    world = torch.distributed.get_world_size()
    flat = torch.cat([g.reshape(-1).float() for g in grads]
                     + [(~torch.isfinite(loss.detach())).float().reshape(1)])
    torch.distributed.all_reduce(flat)  # a sum
    sizes = [g.numel() for g in grads]
    parts = torch.split(flat[:-1] / world, sizes)
    averaged = [part.reshape(g.shape).to(g.dtype) for part, g in zip(parts, grads)]
    return averaged, bool(flat[-1] == 0)


def _logged(loss, stats):
    """The step's loss and statistics for the logs, detached; averaged over the ranks (one
    all-reduce) so every rank logs the global batch's values, as JAX and TensorFlow do."""
    names = list(stats)
    values = [loss.detach()] + [stats[k].detach() for k in names]
    if _distributed():
        flat = torch.stack([v.float().reshape(()) for v in values])
        torch.distributed.all_reduce(flat)
        values = list(flat / torch.distributed.get_world_size())
    return values[0], dict(zip(names, values[1:]))


class _not_recorded:
    """Turn off `requires_grad` on the other network's variables for one update's forward pass, as
    the reference code's `set_requires_grad(net, False)` does: autograd then records no graph
    for a pass nothing differentiates (G's sampling inside D's update), which it otherwise builds
    and throws away. The update's own gradients are unchanged (`autograd.grad` only asks for its
    network's variables)."""

    def __init__(self, variables):
        self.tensors = [v.value for v in variables]

    def __enter__(self):
        self.flags = [t.requires_grad for t in self.tensors]
        for t in self.tensors:
            t.requires_grad_(False)

    def __exit__(self, *exc):
        for t, flag in zip(self.tensors, self.flags):
            t.requires_grad_(flag)
        return False


def replica_position() -> tuple[int, int]:
    """`(replicas, replica_id)`: the ranks of a `torch.distributed` job, else `(1, 0)`."""
    if _distributed():
        return torch.distributed.get_world_size(), torch.distributed.get_rank()
    return 1, 0


class TorchStep(Step):
    """The step primitives on PyTorch (see `keras_gan.backend.step.Step`)."""

    def forward(self, network, fn, *inputs):
        output = fn(*inputs)  # autograd records the pass; the graph is kept for network's update
        self._remember_forward(output, network, None)
        return output

    def update(self, network, loss_fn, *inputs):
        optimizer = self._optimizer(network)
        inputs, _ = self._sort_inputs(network, inputs, cut=lambda t: t.detach())
        variables = network.trainable_variables
        own = {id(v) for v in variables}  # a variable both networks share stays differentiable
        with _not_recorded([v for v in self._other(network).trainable_variables if id(v) not in own]):
            loss, aux = split_loss(loss_fn(*inputs))
        grads = torch.autograd.grad(optimizer.scale_loss(loss), [v.value for v in variables])
        grads, finite = _average_over_ranks(grads, loss)
        if finite:  # a non-finite loss skips the update; `fit` then stops with a clear error
            with torch.no_grad():
                _apply(optimizer, grads, variables)
        return _logged(loss, aux)

    def update_together(self, loss_fn, *inputs):
        (d_loss, g_loss), aux = split_loss(loss_fn(*inputs))
        model = self.model
        d_vars, g_vars = model.discriminator.trainable_variables, model.generator.trainable_variables
        d_grads = torch.autograd.grad(model.d_optimizer.scale_loss(d_loss), [v.value for v in d_vars],
                                      retain_graph=True)
        g_grads = torch.autograd.grad(model.g_optimizer.scale_loss(g_loss), [v.value for v in g_vars])
        d_grads, d_finite = _average_over_ranks(d_grads, d_loss)
        g_grads, g_finite = _average_over_ranks(g_grads, g_loss)
        with torch.no_grad():  # both gradients were taken before either in-place update
            for optimizer, grads, variables, finite in ((model.d_optimizer, d_grads, d_vars, d_finite),
                                                        (model.g_optimizer, g_grads, g_vars, g_finite)):
                if finite:
                    _apply(optimizer, grads, variables)
        d_loss, aux = _logged(d_loss, aux)
        return (d_loss, _logged(g_loss, {})[0]), aux

    def input_gradient(self, fn, x):
        if not x.requires_grad:  # a constant (data, a detached sample): differentiate from here
            x = x.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(torch.sum(fn(x)), x, create_graph=True)
        return gradient


class TorchTrainer(BaseTrainer):
    """Keras' `train_step` / `test_step` on PyTorch for an `AdversarialModel`.

    Under `torch.distributed` (gloo on CPU, NCCL on GPU) each network's gradients are averaged
    over the ranks before its update, every rank starts from rank 0's state, each rank draws its
    own slice of the global batch's noise and its own dropout masks. A
    `keras_gan.layers.BatchNormalization(synchronized=True)` (the pix2pix networks') takes its
    statistics over the global batch, as SyncBatchNorm does; Keras' own BatchNormalization
    normalises each rank's shard alone (DDP without SyncBatchNorm)."""

    def train_step(self, data):
        route_calls_through_graph(self.generator, self.discriminator)
        return self._record_values(self.adversarial_step(TorchStep(self), data))

    def test_step(self, data):
        """`evaluate` / validation: the model's held-out quantities, no update, no autograd graph."""
        route_calls_through_graph(self.generator, self.discriminator)
        with torch.no_grad():
            values = self.validation_step(data)
        return self._record_values(values, complete=False)

    def call_network(self, network, inputs, training: bool):
        """The network's lean graph pass, skipping Keras' `__call__` for the network itself
        (`keras_gan.backend.torch_graph.call_network`: it falls back to `__call__` for inputs or
        networks it cannot take)."""
        return call_network(network, inputs, training)

    def fit(self, *args, **kwargs):
        torch_allocator.keep_freed_memory_on_cpu(self)  # fresh pages every step: 13-24% of pix2pix's step (see the module)
        if _distributed():
            self._broadcast_state()
            self._own_dropout_streams()
        return super().fit(*args, **kwargs)

    def _own_dropout_streams(self) -> None:
        """Each rank draws its own dropout masks (see `keras_gan.backend.replica_streams`): seeded
        layers fold the rank into their seeds; seedless Dropout draws from torch's global
        generator, which ranks other than 0 fork by their rank (from the state every rank shares)."""
        rank = torch.distributed.get_rank()
        latent = getattr(self, "seed_generator", None)
        give_each_replica_its_own_streams(self, lambda: rank, keep=[latent] if latent else [])
        shared_draw = int(torch.randint(0, 2**62, (1,)))  # advances every rank's generator alike
        if rank > 0:
            torch.manual_seed(shared_draw + rank)

    def _broadcast_state(self) -> None:
        """One identical state on every rank: rank 0's weights, optimizer state and seed states."""
        self.optimizer.build()
        for variable in list(self.variables) + list(self.optimizer.variables):
            torch.distributed.broadcast(variable.value.data, src=0)

    def _update_tracker(self, tracker, value):
        """A running mean's update and result, in place (`keras_gan.backend.torch_metrics`)."""
        return torch_metrics.update_mean(tracker, value)

    def evaluate(self, *args, **kwargs):
        """`keras.Model.evaluate` (also what `fit` runs for validation), leaving torch's global
        random state as it found it.

        Why: Keras feeds torch through a `DataLoader`, whose iterator draws a seed
        from torch's global generator, and a `Dropout` built without a seed draws
        its masks from that generator too. Without this, merely validating
        would change the dropout masks of the following training steps.
        """
        state = torch.get_rng_state()
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            torch.set_rng_state(state)
