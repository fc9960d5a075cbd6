"""The model card logged at step 0: the model and backbone types, parameters (total, trainable), and FLOPs
at the recipe's input size.

The input size is the first validation sample's, through the recipe's own pipeline and data preprocessor
(what validation feeds the model); FLOPs are ``mmengine.analysis``'s count at that input (``FlopAnalyzer``, as
``get_model_complexity_info`` counts; one fused multiply-add is one FLOP), taken once, in eval mode without
gradients, before training.
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
        data = _validation_inputs(model, dataset)
        lines.append(f'input size: {" x ".join(map(str, data["inputs"].shape[1:]))} (channels x height x width: the '
                     "first validation image through the recipe's pipeline and data preprocessor)")
        lines.append(f'FLOPs: {_flops(model, data)} at that input size (mmengine.analysis; a multiply-add is one)')
    except Exception as e:  # FLOPs are extra: the card goes out without them
        error = e
        lines.append(f'FLOPs: not counted ({type(e).__name__}: {e})')
    return '\n'.join(lines), error


def _validation_inputs(model: Any, dataset: Optional[Any]) -> dict:
    if dataset is None or not len(dataset):
        raise ValueError('no validation sample to measure the input size from')
    from mmengine.dataset import pseudo_collate
    return model.data_preprocessor(pseudo_collate([dataset[0]]), False)


class _Tensors(torch.nn.Module):
    """The model's ``tensor`` mode on one batch, as a module of the input alone (what a trace takes); detectors
    need the samples' image sizes beside it."""

    def __init__(self, model: Any, data_samples: Any):
        super().__init__()
        self.model, self.data_samples = model, data_samples

    def forward(self, inputs: torch.Tensor) -> Any:
        return self.model(inputs, self.data_samples, mode='tensor')


def _flops(model: Any, data: dict) -> str:
    from mmengine.analysis import FlopAnalyzer  # what get_model_complexity_info counts with, without its
    was_training = model.training                 # second trace (activations) and its warnings per operator
    model.eval()
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(_Tensors(model, data.get('data_samples')), (data['inputs'],))
            flops = int(analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False).total())
    finally:
        model.train(was_training)
    return f'{flops / 1e9:.3f}G ({flops})'
