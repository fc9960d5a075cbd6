#!/usr/bin/env bash
# SegFormer MiT-B0 ADE20K 512x512. Trains on ${DATA_ROOT:-data/ade/ADEChallengeData2016}; without it, runs the demo on generated data.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lib/run_recipe.sh" mmseg/segformer_mit-b0_8xb2-160k_ade20k-512x512 ade20k "$@"
