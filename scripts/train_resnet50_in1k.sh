#!/usr/bin/env bash
# ResNet-50 ImageNet-1k. Trains on ${DATA_ROOT:-data/imagenet}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmpretrain/resnet50_8xb32_in1k imagenet "$@"
