"""Every recipe with its dataset and what its smoke run must show in the dashboard."""
from typing import List, NamedTuple


class SmokeCase(NamedTuple):
    recipe: str                # path under recipes/, without .py
    dataset: str               # ci/tiny_datasets.py generator
    model_type: str            # config model.type
    val_metrics: List[str]     # must be under val/ (and test/)

    @property
    def name(self) -> str:
        return self.recipe.split('/')[-1]

    @property
    def config(self) -> str:
        return f'recipes/{self.recipe}.py'


SMOKE_CASES = [
    SmokeCase('mmdet/faster-rcnn_r50_fpn_1x_coco', 'coco', 'FasterRCNN', ['coco/bbox_mAP']),
    SmokeCase('mmdet/retinanet_r50_fpn_1x_coco', 'coco', 'RetinaNet', ['coco/bbox_mAP']),
    SmokeCase('mmdet/mask-rcnn_r50_fpn_1x_coco', 'coco', 'MaskRCNN', ['coco/bbox_mAP', 'coco/segm_mAP']),
    SmokeCase('mmdet/rtmdet_tiny_8xb32-300e_coco', 'coco', 'RTMDet', ['coco/bbox_mAP']),
    SmokeCase('mmseg/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024', 'cityscapes', 'EncoderDecoder', ['mIoU']),
    SmokeCase('mmseg/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024', 'cityscapes', 'EncoderDecoder',
              ['mIoU']),
    SmokeCase('mmseg/segformer_mit-b0_8xb2-160k_ade20k-512x512', 'ade20k', 'EncoderDecoder', ['mIoU']),
    SmokeCase('mmpretrain/resnet50_8xb32_in1k', 'imagenet', 'ImageClassifier', ['accuracy/top1']),
    SmokeCase('mmpretrain/resnet18_8xb16_cifar10', 'cifar10', 'ImageClassifier', ['accuracy/top1']),
]
