"""The model card: parameters of the model itself; FLOPs at the validation input, or one error without them."""
import torch

from swanlab_backend.insights import model_card


def _classifier():
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules
    register_all_modules()
    return MODELS.build(dict(
        type='ImageClassifier', backbone=dict(type='ResNet_CIFAR', depth=18, frozen_stages=1),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512, loss=dict(type='CrossEntropyLoss')),
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1])))


def test_the_card_counts_parameters_and_flops_at_the_validation_input():
    from mmpretrain.structures import DataSample
    model = _classifier()
    dataset = [dict(inputs=torch.zeros(3, 32, 40, dtype=torch.uint8), data_samples=DataSample().set_gt_label(1))]
    text, error = model_card.measure(model, dataset)
    assert error is None, error
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable < total  # the frozen stem
    assert f'parameters: {total} in all, {trainable} trainable' in text
    assert 'model: ImageClassifier' in text and 'backbone: ResNet_CIFAR' in text
    assert 'input size: 3 x 32 x 40' in text
    flops = int(text.split('FLOPs: ')[1].split('(')[1].split(')')[0])
    assert 0.5e9 < flops * 1024 / (32 * 40) < 0.6e9  # ResNet-18 (CIFAR) is ~0.56 GFLOPs at 32 x 32
    assert model.training  # put back in training mode


def test_a_flop_count_failure_still_gives_the_card():
    model = _classifier()
    text, error = model_card.measure(model, None)
    assert isinstance(error, ValueError) and 'FLOPs: not counted (ValueError' in text
    assert f'parameters: {sum(p.numel() for p in model.parameters())} in all' in text
