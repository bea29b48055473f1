"""Find the standard Inception-v3 weights file of torch-fidelity, or say clearly why not.

FID / IS / KID as published (Heusel et al. 2017; Salimans et al. 2016;
Binkowski et al. 2018) use the 2015-12-05 TensorFlow Inception-v3 graph.
torch-fidelity's `inception-v3-compat` extractor is a port of it; its weights
file is fetched from the URL below into the torch hub cache. Any other weights
(e.g. torchvision's ImageNet Inception) give different, incomparable numbers,
so there is deliberately no fallback: either the exact file is found, or the
error names the file, its URL and the `--inception-weights` flag.

Resolution order: an explicit path; the torch hub cache
(`torch.hub.get_dir()/checkpoints/`, where torch-fidelity itself caches it);
a download into that cache (when allowed), with a short network timeout so an
offline machine fails in seconds instead of hanging.

This module imports no torch-fidelity (only torch, and only to find the hub
folder or download), so it can run in a process that already imported
TensorFlow; see `evaluation.fidelity` for why that matters.
"""

from __future__ import annotations

import os
import socket

#: torch-fidelity 0.4.0's `feature_extractor_inceptionv3.URL_INCEPTION_V3`.
INCEPTION_WEIGHTS_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_WEIGHTS_FILE = os.path.basename(INCEPTION_WEIGHTS_URL)
#: Seconds a connection attempt or read may stall before an offline download gives up.
DOWNLOAD_TIMEOUT_S = 15.0
_HOW_TO_FIX = (
    "Download it where there is internet access (`curl -L -o {file} {url}`) and pass it with "
    "--inception-weights PATH (Python: inception_weights=PATH), or copy it into {folder}. "
    "Or use --feature-extractor mnist-classifier, which works offline (MNIST-FID, not comparable to "
    "Inception FID)."
)


class InceptionWeightsError(FileNotFoundError):
    """The Inception-v3 weights file for `inception-v3-compat` is missing or unusable."""


def hub_checkpoint_path() -> str:
    """Where torch.hub (and so torch-fidelity) keeps the weights file."""
    import torch.hub

    return os.path.join(torch.hub.get_dir(), "checkpoints", INCEPTION_WEIGHTS_FILE)


def _explain(problem: str, folder: str) -> str:
    fix = _HOW_TO_FIX.format(file=INCEPTION_WEIGHTS_FILE, url=INCEPTION_WEIGHTS_URL, folder=folder)
    return f"{problem} {fix}"


def resolve_inception_weights(
    path: str | os.PathLike | None = None,
    *,
    allow_download: bool = True,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
    progress: bool = True,
) -> str:
    """The path of torch-fidelity's Inception-v3 weights file, downloading it if allowed.

    Args:
        path: an explicit weights file (`--inception-weights`); it must exist.
        allow_download: when the file is not in the torch hub cache, download it
            from `INCEPTION_WEIGHTS_URL` into the cache (what torch-fidelity
            would do). False never touches the network.
        timeout_s: socket timeout of the download, so that an offline machine
            fails quickly.
        progress: show the download's progress bar.

    Raises:
        InceptionWeightsError: naming the file, its URL and the flag.
    """
    if path is not None:
        path = os.path.expanduser(os.fspath(path))
        if not os.path.isfile(path):
            raise InceptionWeightsError(
                _explain(f"Inception weights file not found: {path} (from --inception-weights). "
                         f"Expected torch-fidelity's {INCEPTION_WEIGHTS_FILE}.", os.path.dirname(hub_checkpoint_path()))
            )
        return path
    cached = hub_checkpoint_path()
    if os.path.isfile(cached):
        return cached
    if not allow_download:
        raise InceptionWeightsError(
            _explain(f"Inception-v3 weights {INCEPTION_WEIGHTS_FILE} are not in the torch hub cache "
                     f"({cached}) and downloading is disabled.", os.path.dirname(cached))
        )
    return _download(cached, timeout_s, progress)


def _download(target: str, timeout_s: float, progress: bool) -> str:
    """Download into `target`; torch.hub writes a temporary file and renames it,
    so a failed download leaves nothing behind."""
    import torch.hub

    os.makedirs(os.path.dirname(target), exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)  # urllib inside torch.hub has no timeout argument
    try:
        torch.hub.download_url_to_file(INCEPTION_WEIGHTS_URL, target, progress=progress)
    except (OSError, ValueError) as e:  # URLError, HTTPError, socket.timeout are OSErrors
        raise InceptionWeightsError(
            _explain(f"Inception-v3 weights {INCEPTION_WEIGHTS_FILE} are not in the torch hub cache "
                     f"({target}) and downloading them from {INCEPTION_WEIGHTS_URL} failed "
                     f"({type(e).__name__}: {e}).", os.path.dirname(target))
        ) from e
    finally:
        socket.setdefaulttimeout(previous)
    return target
