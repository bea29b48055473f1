"""Per layer: PyTorch convolution time on channels-last (NHWC) memory against NCHW memory.

    python bench/bench_conv_layouts.py                 # the 256x256 U-Net's layers
    python bench/bench_conv_layouts.py --repeats 20 --threads 1
    python bench/bench_conv_layouts.py --device cuda   # the GPU's own measurement (bench/gpu.sh runs it)

`keras_gan.layers.Conv2D` / `Conv2DTranspose` run on one of two torch paths (see
`keras_gan/backend/torch_layers.py`): hand oneDNN / cuDNN the NHWC activation as a channels-last
view with a channels-last kernel, or keep the activations in NCHW memory behind Keras' NHWC shape
with a plain kernel. On a CPU every layer takes the NCHW path (`torch_layers.NCHW_DEVICE_TYPES`;
the whole pix2pix step decided it, bench/README.md); on a GPU the channels-last one, until this
script, run there, says otherwise. For each of the pix2pix U-Net's convolutions (4x4, stride 2,
full width) it times forward + backward (gradients for the input and the kernel, from a dense
output gradient in the path's own memory order, as the next layer hands it back), batch 1,
both paths taking turns, and prints the best of `--repeats` for each and their ratio
(channels-last / NCHW: above 1 means NCHW is faster). Baseline: the NCHW path, which is how a
plain torch model runs. Needs torch only; run it on an idle machine. `--device` (default: the GPU
when torch has one, as Keras' torch backend) says where.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _runner, however this file is started
from _runner import measure_alternately  # noqa: E402

#: (kind, input pixels per side, in channels, out channels): the 256x256 U-Net's layers.
UNET_LAYERS = [
    ("conv", 128, 64, 128), ("conv", 64, 128, 256), ("conv", 32, 256, 512), ("conv", 16, 512, 512),
    ("conv", 8, 512, 512), ("conv", 4, 512, 512), ("conv", 2, 512, 512),
    ("transposed", 1, 512, 512), ("transposed", 2, 1024, 512), ("transposed", 4, 1024, 512),
    ("transposed", 8, 1024, 512), ("transposed", 16, 1024, 256), ("transposed", 32, 512, 128),
    ("transposed", 64, 256, 64),
]


def layer_step(kind: str, size: int, cin: int, cout: int, nchw: bool, device: str = "cpu"):
    """A function running one forward + backward of the layer on one path (waiting for a GPU to finish)."""
    import torch
    import torch.nn.functional as F

    # Keras' NHWC shape; the memory NHWC on the channels-last path, NCHW on the other.
    x = torch.randn(1, cin, size, size, device=device).permute(0, 2, 3, 1) if nchw else \
        torch.randn(1, size, size, cin, device=device)
    x.requires_grad_(True)
    shape = (cin, cout, 4, 4) if kind == "transposed" else (cout, cin, 4, 4)
    weight = torch.randn(shape, device=device) * 0.02
    if not nchw:
        weight = weight.contiguous(memory_format=torch.channels_last)
    weight.requires_grad_(True)
    op = F.conv_transpose2d if kind == "transposed" else F.conv2d
    out_size = size * 2 if kind == "transposed" else size // 2
    # What the next layer hands back: a dense gradient in the path's memory order (not `y.sum()`'s
    # expanded scalar, which both paths would have to copy).
    grad_y = (torch.randn(1, cout, out_size, out_size, device=device).permute(0, 2, 3, 1) if nchw
              else torch.randn(1, out_size, out_size, cout, device=device))
    wait = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)

    def step():
        y = op(x.permute(0, 3, 1, 2), weight, stride=2, padding=1).permute(0, 2, 3, 1)
        torch.autograd.grad(y, [x, weight], grad_outputs=grad_y)
        wait()

    return step


def measure(kind: str, size: int, cin: int, cout: int, repeats: int, device: str = "cpu") -> tuple[float, float]:
    """Best seconds per call of the channels-last and the NCHW path, the two taking turns."""
    steps = [layer_step(kind, size, cin, cout, nchw, device) for nchw in (False, True)]
    for step in steps * 2:  # warm-up: oneDNN picks and caches its kernels
        step()
    per_second = measure_alternately([lambda n, step=step: [step() for _ in range(n)] for step in steps], 1, repeats)
    return 1.0 / per_second[0], 1.0 / per_second[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    args = p.parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads, best of {args.repeats}")
    print(f"{'layer':<11} {'map':>7} {'channels':>11} {'channels-last ms':>17} {'NCHW ms':>8} {'ratio':>6}")
    for kind, size, cin, cout in UNET_LAYERS:
        last, nchw = measure(kind, size, cin, cout, args.repeats, device)
        print(f"{kind:<11} {f'{size}x{size}':>7} {f'{cin}->{cout}':>11} {last * 1e3:>17.1f} {nchw * 1e3:>8.1f} "
              f"{last / nchw:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
