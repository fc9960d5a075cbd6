"""Keys and values as the dashboard gets them (README: "Use it in your own config", rows 8-10)."""
import math

import numpy as np
import pytest
import torch

from swanlab_backend.mmengine.metrics import MAX_KEY_LENGTH, KeyMapper, ScalarConverter, sanitize_key


@pytest.mark.parametrize('key, expected', [
    ('a:b', 'a_b'), ('x<y>z', 'x_y_z'), ('loss|cls?*', 'loss_cls__'), ('val//coco///mAP', 'val/coco/mAP'),
    (' ./lr/. ', 'lr'), ('', '_empty'), ('tab\there', 'tab_here'), ('#%', '__'), ('ok/key_1.5', 'ok/key_1.5')])
def test_keys_follow_the_documented_rule(key, expected):
    assert sanitize_key(key) == expected


def test_long_keys_are_cut_with_a_hash_that_keeps_them_apart():
    first, second = sanitize_key('k' * 300 + 'a'), sanitize_key('k' * 300 + 'b')
    assert len(first) == len(second) == MAX_KEY_LENGTH
    assert first != second and first.startswith('k' * 191 + '~')


def test_sections_are_added_once():
    keys = KeyMapper()
    assert keys('train', 'loss') == 'train/loss'
    assert keys('train', 'train/loss') == 'train/loss'  # log_with_hierarchy=True already says it
    assert keys('val', 'coco/bbox_mAP') == 'val/coco/bbox_mAP'
    assert keys(None, 'val_img') == 'val_img'


@pytest.mark.parametrize('value, expected', [
    (np.bool_(True), 1.0), (np.bool_(False), 0.0), (True, 1.0), (3, 3.0), (np.float32(0.5), 0.5),
    (np.int64(7), 7.0), (torch.tensor(2.5), 2.5), (torch.tensor([4.0]), 4.0), (np.array([[1.5]]), 1.5)])
def test_numbers_in_any_form_become_floats(value, expected):
    assert ScalarConverter()('k', value) == expected


@pytest.mark.parametrize('value', ['text', None, torch.tensor([1.0, 2.0]), np.zeros(3), [1.0]])
def test_what_is_not_one_number_is_skipped(value):
    assert ScalarConverter()('k', value) is None


@pytest.mark.parametrize('value', [float('nan'), math.inf, np.float32('-inf'), torch.tensor(float('nan'))])
def test_non_finite_numbers_pass_for_the_writers_alert(value):
    """The writer alerts on them and leaves them off the curves (tests/unit/test_alert_decisions.py)."""
    number = ScalarConverter()('k', value)
    assert isinstance(number, float) and not math.isfinite(number)
