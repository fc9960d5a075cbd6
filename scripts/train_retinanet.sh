#!/usr/bin/env bash
# RetinaNet R50-FPN 1x COCO. Trains on ${DATA_ROOT:-data/coco}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmdet/retinanet_r50_fpn_1x_coco coco "$@"
