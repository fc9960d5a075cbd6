#!/usr/bin/env bash
# ResNet-18 CIFAR-10. Trains on ${DATA_ROOT:-data/cifar10}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmpretrain/resnet18_8xb16_cifar10 cifar10 "$@"
