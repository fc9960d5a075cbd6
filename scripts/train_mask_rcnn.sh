#!/usr/bin/env bash
# Mask R-CNN R50-FPN 1x COCO. Trains on ${DATA_ROOT:-data/coco}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmdet/mask-rcnn_r50_fpn_1x_coco coco "$@"
