#!/usr/bin/env bash
# RTMDet-tiny 300e COCO. Trains on ${DATA_ROOT:-data/coco}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmdet/rtmdet_tiny_8xb32-300e_coco coco "$@"
