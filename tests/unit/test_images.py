"""Images in the forms hooks hand over become uint8 HxW(xC) arrays (README, row 12)."""
import numpy as np
import pytest
import torch

from swanlab_backend.images import downscale, to_uint8_image


def test_float_images_in_0_1_are_scaled_to_0_255():
    image = to_uint8_image(np.full((4, 5, 3), 0.5, dtype=np.float32))
    assert image.dtype == np.uint8 and image.shape == (4, 5, 3) and (image == 128).all()


def test_chw_tensors_become_hwc():
    chw = torch.zeros(3, 6, 8)
    chw[0] = 1.0
    image = to_uint8_image(chw)
    assert image.shape == (6, 8, 3) and tuple(image[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize('shape, out', [((6, 8), (6, 8)), ((6, 8, 1), (6, 8)), ((6, 8, 4), (6, 8, 4)),
                                        ((1, 6, 8), (6, 8))])
def test_gray_and_rgba_keep_their_channels(shape, out):
    assert to_uint8_image(np.zeros(shape, dtype=np.uint8)).shape == out


def test_bool_masks_and_out_of_range_values_are_clipped():
    assert to_uint8_image(np.ones((2, 2), dtype=bool)).max() == 255
    assert to_uint8_image(np.array([[-20.0, 300.0]])).tolist() == [[0, 255]]


@pytest.mark.parametrize('shape', [(5,), (2, 3, 4, 5), (6, 8, 2)])
def test_what_is_no_image_raises_a_clear_error(shape):
    with pytest.raises(ValueError, match='an image must be HxW, HxWxC or CxHxW'):
        to_uint8_image(np.zeros(shape))


def test_large_images_are_downscaled_keeping_the_aspect():
    assert downscale(np.zeros((8000, 4000, 3), dtype=np.uint8), 2048).shape == (2048, 1024, 3)
    small = np.zeros((10, 10), dtype=np.uint8)
    assert downscale(small, 2048) is small
