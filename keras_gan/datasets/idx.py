"""Reader for the IDX format of the MNIST files (LeCun et al.), gzipped or not."""

from __future__ import annotations

import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataFileError(ValueError):
    """A data file is missing, truncated or not in the expected format."""


def read_idx(path: str, expected_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (`.gz` or raw) into a numpy array, checking its header.

    Raises `DataFileError` naming the file when it is missing, has a wrong magic
    number, an unexpected number of dimensions, or fewer bytes than its header
    promises.
    """
    if not os.path.isfile(path):
        raise DataFileError(f"MNIST file not found: {path}")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # bad gzip stream, truncated gzip
        raise DataFileError(f"Cannot read {path}: {e}. The file is corrupt or truncated; download it again.") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataFileError(
            f"{path} is not an IDX file: bad magic number {raw[:4].hex() if raw else '(empty file)'}."
        )
    ndim = raw[3]
    if expected_ndim is not None and ndim != expected_ndim:
        raise DataFileError(f"{path}: expected an IDX file with {expected_ndim} dimensions, found {ndim}.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path} is truncated: the header is incomplete.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[raw[2]])
    expected_bytes = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected_bytes:
        raise DataFileError(
            f"{path} is truncated or padded: header promises shape {dims} "
            f"({expected_bytes} bytes), file has {len(raw)} bytes."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
