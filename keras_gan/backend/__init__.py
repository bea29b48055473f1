"""Per-backend gradient plumbing for the adversarial train steps.

Like `keras/src/backend/{jax,tensorflow,torch}/trainer.py`, each backend has a
small module with the same shape: a `Step` with the public primitives a model's
`adversarial_step` is written with (`keras_gan.backend.step`), a trainer mixin
whose `train_step` / `test_step` make one and call the model, and
`replica_position()`. The loss math lives once, in the models, in `keras.ops`.
This package exports the active Keras backend's.
"""

import keras

from keras_gan.backend.step import Step

_BACKEND = keras.backend.backend()

if _BACKEND == "jax":
    from keras_gan.backend.jax_step import JAXStep as BackendStep
    from keras_gan.backend.jax_step import JAXTrainer as Trainer
    from keras_gan.backend.jax_step import replica_position
elif _BACKEND == "tensorflow":
    from keras_gan.backend.tensorflow_step import TensorFlowStep as BackendStep
    from keras_gan.backend.tensorflow_step import TensorFlowTrainer as Trainer
    from keras_gan.backend.tensorflow_step import replica_position
elif _BACKEND == "torch":
    from keras_gan.backend.torch_step import TorchStep as BackendStep
    from keras_gan.backend.torch_step import TorchTrainer as Trainer
    from keras_gan.backend.torch_step import replica_position
else:  # pragma: no cover - numpy/openvino backends cannot train
    raise ImportError(
        f"keras_gan trains on the 'tensorflow', 'jax' and 'torch' Keras backends; "
        f"KERAS_BACKEND is {_BACKEND!r}. Set KERAS_BACKEND to one of those."
    )

__all__ = ["BackendStep", "Step", "Trainer", "replica_position"]
