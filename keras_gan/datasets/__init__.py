"""Data sets with the papers' splits, read from local files or downloaded."""

from keras_gan.datasets.facades import (
    CMP_CLASS_COLORS,
    CMP_CLASS_NAMES,
    FacadesDataset,
    FacadesPairs,
    facades,
    facades_layout,
    label_map_classes,
)
from keras_gan.datasets.idx import DataFileError, read_idx
from keras_gan.datasets.image_folder import ImageFolderDataset
from keras_gan.datasets.mnist import MNISTSplit, mnist
from keras_gan.datasets.paths import DATA_DIR_ENV
from keras_gan.datasets.paired_folder import PairedImageFolder, paired_layout
from keras_gan.datasets.replica_batches import ReplicaBatches
from keras_gan.datasets.shuffled import EpochShuffledArrays
from keras_gan.datasets.toy import (
    count_covered_modes,
    per_label_mode_accuracy,
    ring_modes,
    ring_of_gaussians,
)

__all__ = [
    "CMP_CLASS_COLORS",
    "CMP_CLASS_NAMES",
    "DATA_DIR_ENV",
    "DataFileError",
    "EpochShuffledArrays",
    "FacadesDataset",
    "FacadesPairs",
    "ImageFolderDataset",
    "MNISTSplit",
    "PairedImageFolder",
    "ReplicaBatches",
    "count_covered_modes",
    "facades",
    "facades_layout",
    "label_map_classes",
    "mnist",
    "paired_layout",
    "per_label_mode_accuracy",
    "read_idx",
    "ring_modes",
    "ring_of_gaussians",
]
