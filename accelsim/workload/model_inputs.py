"""Input batches for running an imported model: an .npy array used as is, or image files normalised.

Images are resized to the model's input (bilinear), scaled to [0, 1] and normalised per channel with
a mean and standard deviation, by default ImageNet's (the torchvision convention).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from accelsim.errors import ConfigError

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "IMAGE_SUFFIXES", "load_array", "load_images"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
"""ImageNet per-channel mean and standard deviation of RGB in [0, 1] (torchvision's normalisation)."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def load_array(path: Path, shape: Sequence[int | None]) -> np.ndarray:
    """An N x C x H x W float32 array from an .npy file; `shape` is the model's input (None: any size)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{path}: file not found" if not path.is_dir() else f"{path}: is a folder; expected an .npy file"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ConfigError(f"{path}: not a readable .npy array ({e})") from None
    if not isinstance(array, np.ndarray):
        raise ConfigError(f"{path}: holds several arrays (.npz); expected one N x C x H x W .npy array")
    if array.dtype != np.float32:
        raise ConfigError(f"{path}: dtype {array.dtype}; expected float32 (the array is used as is)")
    _check_shape(path, array.shape, shape)
    return array


def load_images(
    folder: Path,
    shape: Sequence[int | None],
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> tuple[np.ndarray, list[Path]]:
    """The PNG / JPEG files of `folder` (sorted by name) as one N x C x H x W float32 batch."""
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(
            f"{folder}: {'is a file' if folder.exists() else 'not found'}; expected a folder of images"
        )
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ConfigError(f"{folder}: no image files; allowed: {', '.join(IMAGE_SUFFIXES)}")
    channels, h, w = shape[1], shape[2], shape[3]
    if h is None or w is None or channels not in (1, 3):
        raise ConfigError(
            f"the model's input is {_show(shape)}: --images needs a fixed height and width and 1 or 3 "
            "channels; give --inputs (an .npy array) instead"
        )
    for name, values in (("mean", mean), ("std", std)):
        if len(values) != channels:
            raise ConfigError(f"--{name}: {len(values)} values for {channels} channels")
    if any(v <= 0 for v in std):
        raise ConfigError(f"--std: every value must be positive, got {list(std)}")
    batch = np.empty((len(files), channels, h, w), dtype=np.float32)
    for i, path in enumerate(files):
        try:
            with Image.open(path) as image:
                pixels = image.convert("RGB" if channels == 3 else "L").resize(
                    (w, h), Image.Resampling.BILINEAR
                )
                rgb = np.asarray(pixels, dtype=np.float32) / 255.0
        except (OSError, UnidentifiedImageError, ValueError) as e:
            raise ConfigError(f"{path}: not a readable image ({e})") from None
        rgb = rgb.reshape(h, w, channels).transpose(2, 0, 1)
        batch[i] = (rgb - np.asarray(mean, np.float32)[:, None, None]) / np.asarray(std, np.float32)[
            :, None, None
        ]
    return batch, files


def _show(shape: Sequence[int | None]) -> str:
    return " x ".join("?" if d is None else str(d) for d in shape)


def _check_shape(path: Path, got: tuple[int, ...], want: Sequence[int | None]) -> None:
    if len(got) != 4 or any(d is not None and d != g for d, g in zip(want[1:], got[1:], strict=True)):
        raise ConfigError(
            f"{path}: array of shape {' x '.join(map(str, got))}; the model's input is N x "
            f"{_show(want[1:])} (N images)"
        )
    if got[0] < 1:
        raise ConfigError(f"{path}: the array holds no images")
