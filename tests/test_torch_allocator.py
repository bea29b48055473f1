"""keras_gan.backend.torch_allocator: glibc keeps freed memory while keras_gan trains on PyTorch."""

import os
import platform
import subprocess
import sys

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's CPU allocator")

MODULE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras_gan", "backend",
                      "torch_allocator.py")

# Loads the module by path (no keras import: fast), optionally keeps freed memory, then mallocs 64 MiB
# and prints whether glibc served it from a fresh mmap region (mallinfo2's hblkhd) and what
# keep_freed_memory returned.
PROBE = f"""
import ctypes, importlib.util, sys
spec = importlib.util.spec_from_file_location("torch_allocator", {MODULE!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
applied = module.keep_freed_memory() if sys.argv[1] == "keep" else None
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                 "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
before = libc.mallinfo2().hblkhd
block = libc.malloc(64 << 20)
print(libc.mallinfo2().hblkhd - before >= (64 << 20), applied)
"""


def _probe(mode, **env):
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def _has_mallinfo2() -> bool:
    import ctypes

    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not _has_mallinfo2(),
                    reason="glibc's mallopt, and mallinfo2 (glibc >= 2.33) to observe it")
def test_large_blocks_come_from_the_reused_heap_once_kept():
    assert _probe("plain") == ["True", "None"]  # glibc's default: a fresh mmap, unmapped on free
    assert _probe("keep") == ["False", "True"]
    assert _probe("keep", KERAS_GAN_KEEP_FREED_MEMORY="0") == ["True", "False"]  # the opt-out


def test_fit_on_the_cpu_keeps_freed_memory(monkeypatch):
    from keras_gan.backend import torch_allocator
    from tests.test_gan import compiled, images, small_gan

    calls = []
    monkeypatch.setattr(torch_allocator, "_applied", None)  # as in a fresh process
    monkeypatch.setattr(torch_allocator, "keep_freed_memory", lambda: calls.append(1) or True)
    gan = compiled(small_gan())
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    assert calls == [1]
    assert np.all(np.isfinite(gan.generator.get_weights()[0]))


def test_inference_on_the_cpu_keeps_freed_memory(monkeypatch):
    """`generate` and paper-mode `translate` (keras_gan's inference passes) keep freed memory on the CPU
    too: every batch allocates and frees the same large activations. Once per process."""
    from keras_gan.backend import torch_allocator
    from tests.test_gan import small_gan

    for inference in ("generate", "translate"):
        calls = []
        monkeypatch.setattr(torch_allocator, "_applied", None)
        monkeypatch.setattr(torch_allocator, "keep_freed_memory", lambda: calls.append(1) or True)
        if inference == "generate":
            gan = small_gan()
            gan.generate(3)
            gan.generate(3)
        else:
            import keras_gan
            from keras_gan import networks

            model = keras_gan.Pix2Pix(networks.unet_generator(16, levels=2, ngf=4),
                                      networks.patchgan_discriminator(16, ndf=4, n_layers=1))
            images = np.zeros((2, 16, 16, 3), "float32")
            model.translate(images, mode="paper")
            model.translate(images, mode="eval")  # the eval mode's pass too
        assert calls, inference
        monkeypatch.setattr(torch_allocator, "_applied", True)  # applied: later passes do not ask again
        calls.clear()
        if inference == "generate":
            gan.generate(3)
        else:
            model.translate(images, mode="paper")
        assert calls == [], inference
