"""PyTorch plumbing: `torch.autograd.grad` per update.

A "forward" plan entry is run once with autograd on; its output goes to the
D update detached and to the G update as it is, so `autograd.grad` of G's
loss walks back through that one pass (the reference pix2pix's
`forward()` / `backward_D` / `backward_G`).

`autograd.grad` (rather than `loss.backward()`) returns gradients for exactly
the updated network's parameters and never accumulates `.grad` on the other
network, so the discriminator update cannot leak into the generator or the
other way round.
"""

from __future__ import annotations

import torch

from keras_gan.backend import torch_adam
from keras_gan.backend.base_step import LoopTrainStep


def _apply(optimizer, grads, variables) -> None:
    """`optimizer.apply`, with Keras' torch Adam given the lean update (same results, fewer copies)."""
    torch_adam.install(optimizer)
    optimizer.apply(grads, variables)


class TorchGANTrainStep(LoopTrainStep):
    def _run_forward(self, objective):
        """Run the forward pass with autograd on; its graph is kept for G's update."""
        return objective()

    def _role_update(self, role, objective, shared):
        variables = self._role_variables(role)
        optimizer = self._role_optimizer(role)
        if shared is None:
            loss, stats = objective()
        else:  # D sees the shared pass detached; G's loss is differentiated back through it
            loss, stats = objective(shared.detach() if role == "d" else shared)
        scaled = optimizer.scale_loss(loss)  # loss scaling under mixed_float16
        grads = torch.autograd.grad(scaled, [v.value for v in variables])
        # An update whose loss is not finite is skipped, so the weights stay the
        # last finite ones; `fit` then stops with a clear error.
        if bool(torch.isfinite(loss)):
            with torch.no_grad():
                _apply(optimizer, grads, variables)
        return loss.detach(), {k: v.detach() for k, v in stats.items()}

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

    def test_step(self, data):
        """`evaluate` / validation: the model's held-out quantities, no update, no autograd graph."""
        with torch.no_grad():
            values = self._validation_values(data)
        return self._record_values(values)

    def _joint_update(self, objective):
        """Both networks' gradients at the same parameters, then both updates
        (both gradients are taken before either in-place update)."""
        (d_loss, g_loss), stats = objective()
        d_vars, g_vars = self._role_variables("d"), self._role_variables("g")
        d_grads = torch.autograd.grad(self.d_optimizer.scale_loss(d_loss), [v.value for v in d_vars],
                                      retain_graph=True)
        g_grads = torch.autograd.grad(self.g_optimizer.scale_loss(g_loss), [v.value for v in g_vars])
        with torch.no_grad():
            for optimizer, grads, variables, loss in ((self.d_optimizer, d_grads, d_vars, d_loss),
                                                      (self.g_optimizer, g_grads, g_vars, g_loss)):
                if bool(torch.isfinite(loss)):
                    _apply(optimizer, grads, variables)
        return [("d", d_loss.detach(), {k: v.detach() for k, v in stats.items()}), ("g", g_loss.detach(), {})]

    def _replica_position(self):
        """`(replicas, replica_id)` of the running step: one process, one replica."""
        return 1, 0
