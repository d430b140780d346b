#!/usr/bin/env bash
# The default pair's recipe as one prepared run for a machine with a GPU: the same code and data as the CPU
# recipe (python -m vault.train.recipe), with a larger oracle, more generated data and bigger batches.
# Prepare the data on any machine first (WORK is reused: hints and tokenizer are cached there), then run
# this where the GPU is; the models land in $WORK/models, with their cards.
#
#   bash scripts/train-gpu.sh                         # on the GPU machine
#   DEVICE=cpu SIZE=oracle-small GENRES=20 GENERATED=10 ORACLE_MINUTES=0.2 DRAFT_MINUTES=0.1 \
#     TOKENS=2000 WORK=/tmp/gpu-try bash scripts/train-gpu.sh   # a tiny rehearsal on a CPU
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cuda}
WORK=${WORK:-runs/gpu}
SIZE=${SIZE:-oracle-large}
GENRES=${GENRES:-30000}
GENERATED=${GENERATED:-3000}
TOKENS=${TOKENS:-65536}
ORACLE_MINUTES=${ORACLE_MINUTES:-40}
DRAFT_MINUTES=${DRAFT_MINUTES:-8}
common=(--device "$DEVICE" --work "$WORK" --out "$WORK/models" --seed 0 --genres "$GENRES"
        --generated "$GENERATED" --tab-repeat 4 --tokens-per-batch "$TOKENS")
python -m vault.train.recipe "${common[@]}" --oracle-size "$SIZE" --oracle-minutes "$ORACLE_MINUTES" --only oracle
python -m vault.train.recipe "${common[@]}" --only draft --distill --draft-minutes "$DRAFT_MINUTES"
