"""PyTorch plumbing: `torch.autograd.grad` per update.

`autograd.grad` (rather than `loss.backward()`) returns gradients for exactly
the updated network's parameters and never accumulates `.grad` on the other
network, so the discriminator update cannot leak into the generator or the
other way round.
"""

from __future__ import annotations

import torch


class TorchGANTrainStep:
    def train_step(self, data):
        step_stats = []
        for role, objective in self._update_plan(data):
            variables = self._role_variables(role)
            optimizer = self._role_optimizer(role)
            loss, stats = objective()
            scaled = optimizer.scale_loss(loss)  # loss scaling under mixed_float16
            grads = torch.autograd.grad(scaled, [v.value for v in variables])
            # An update whose loss is not finite is skipped, so the weights stay
            # the last finite ones; `fit` then stops with a clear error.
            if bool(torch.isfinite(loss)):
                with torch.no_grad():
                    optimizer.apply(grads, variables)
            step_stats.append((role, loss.detach(), {k: v.detach() for k, v in stats.items()}))
        return self._record_step(step_stats)

    def _replica_position(self):
        """`(replicas, replica_id)` of the running step: one process, one replica."""
        return 1, 0
