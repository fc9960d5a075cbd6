"""The model card logged at step 0: the model and backbone types, parameters (total, trainable), and FLOPs
at the recipe's input size.

The input size is the first validation sample's, through the recipe's own pipeline and data preprocessor
(what validation feeds the model); FLOPs are ``mmengine.analysis.get_model_complexity_info``'s count at that
input (one fused multiply-add is one FLOP), taken once, in eval mode without gradients, before training.
A model that cannot be traced (FLOPs unknown) still gets its card, and the caller one warning.
"""
from typing import Any, Optional, Tuple

import torch


def measure(model: Any, dataset: Optional[Any]) -> Tuple[str, Optional[Exception]]:
    """The card's text, and the error that stopped the FLOP count (None when counted)."""
    model = getattr(model, 'module', model)  # DDP's wrapper
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    backbone = getattr(model, 'backbone', None)
    lines = ['Model card', '', f'model: {type(model).__name__}',
             f'backbone: {type(backbone).__name__ if backbone is not None else "-"}',
             f'parameters: {total} in all, {trainable} trainable']
    error = None
    try:
        inputs = _validation_inputs(model, dataset)
        lines.append(f'input size: {" x ".join(map(str, inputs.shape[1:]))} (channels x height x width: the first '
                     "validation image through the recipe's pipeline and data preprocessor)")
        lines.append(f'FLOPs: {_flops(model, inputs)} at that input size (mmengine.analysis; a multiply-add is one)')
    except Exception as e:  # FLOPs are extra: the card goes out without them
        error = e
        lines.append(f'FLOPs: not counted ({type(e).__name__}: {e})')
    return '\n'.join(lines), error


def _validation_inputs(model: Any, dataset: Optional[Any]) -> torch.Tensor:
    if dataset is None or not len(dataset):
        raise ValueError('no validation sample to measure the input size from')
    from mmengine.dataset import pseudo_collate
    return model.data_preprocessor(pseudo_collate([dataset[0]]), False)['inputs']


def _flops(model: Any, inputs: torch.Tensor) -> str:
    from mmengine.analysis import get_model_complexity_info
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            result = get_model_complexity_info(model, inputs=(inputs,), show_table=False, show_arch=False)
    finally:
        model.train(was_training)
    return f'{result["flops_str"]} ({int(result["flops"])})'
