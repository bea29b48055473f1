"""Per-backend gradient plumbing for the adversarial train steps.

Like `keras/src/backend/{jax,tensorflow,torch}/trainer.py`, each backend has a
small module with the same shape; the loss math lives once, in the models, in
`keras.ops`. `GANTrainStep` is the mixin for the active Keras backend.
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "jax":
    from keras_gan.backend.jax_step import JAXGANTrainStep as GANTrainStep
elif _BACKEND == "tensorflow":
    from keras_gan.backend.tensorflow_step import TensorFlowGANTrainStep as GANTrainStep
elif _BACKEND == "torch":
    from keras_gan.backend.torch_step import TorchGANTrainStep as GANTrainStep
else:  # pragma: no cover - numpy/openvino backends cannot train
    raise ImportError(
        f"keras_gan trains on the 'tensorflow', 'jax' and 'torch' Keras backends; "
        f"KERAS_BACKEND is {_BACKEND!r}. Set KERAS_BACKEND to one of those."
    )

__all__ = ["GANTrainStep"]
