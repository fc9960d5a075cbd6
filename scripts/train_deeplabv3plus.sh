#!/usr/bin/env bash
# DeepLabV3+ R50-D8 Cityscapes 512x1024. Trains on ${DATA_ROOT:-data/cityscapes}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmseg/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024 cityscapes "$@"
