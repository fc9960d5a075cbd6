"""Both sides: images, whatever ``add_image`` receives, as an RGB(A) or grayscale uint8 array.

MMEngine's task visualizers hand over RGB uint8 HWC arrays, but user hooks pass
tensors in CHW order, floats in [0, 1], grayscale or RGBA images, and very large
canvases. Each is converted here; nothing raises into training. The training side
logs the pixels (:func:`swanlab_backend.media.image`); the writer downscales and
encodes them, where it costs training nothing.
"""
from typing import Any

import numpy as np
from PIL import Image

MAX_IMAGE_SIDE = 2048


def to_uint8_image(image: Any) -> np.ndarray:
    """Returns an ``HxW``, ``HxWx3`` or ``HxWx4`` uint8 copy of ``image``.

    Raises:
        ValueError: when ``image`` has no image shape (the caller reports it).
    """
    if hasattr(image, 'detach'):  # torch.Tensor, without importing torch here
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)  # CHW -> HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f'an image must be HxW, HxWxC or CxHxW with C in 1, 3, 4; got shape {array.shape}')
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)  # a copy is made only if needed; callers copy below
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    array = np.nan_to_num(array.astype(np.float32))
    if array.size and array.max() <= 1.0 and array.min() >= 0.0:
        array = array * 255.0  # float images in [0, 1]
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


def downscale(array: np.ndarray, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """Shrinks ``array`` so that its longer side is at most ``max_side``."""
    height, width = array.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return array
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(array).resize(size, Image.BILINEAR))
