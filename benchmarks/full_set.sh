#!/usr/bin/env bash
# The full-scale set of DESIGN section 7 experiments, one after another, each timed.
#
#   bash benchmarks/full_set.sh [RUNS_DIR] [extra flags for every experiment]
#
# Every experiment resumes where it stopped (run it again after an interruption);
# experiments share the imitated prior (the prior cache under RUNS_DIR) and copy the
# main job's finished arms (--config.reuse_from). Wall times go to RUNS_DIR/times.tsv.
set -euo pipefail
RUNS=${1:-runs/full}
shift || true
mkdir -p "$RUNS"
MAIN="$RUNS/trait_rl_vs_baseline"
run() {  # name config [flags...]
  local name=$1 config=$2
  shift 2
  local t0=$SECONDS
  python -m experiments.main --config="configs/$config.py" --workdir="$RUNS/$name" "$@"
  printf '%s\t%d\n' "$name" $((SECONDS - t0)) | tee -a "$RUNS/times.tsv"
}
run trait_rl_vs_baseline trait_rl_vs_baseline "$@"
for exp in health_only_transfer no_health_science generic_helpfulness_control \
    persona_persistence harmful_finetune long_interaction_pressure emergent_misalignment \
    refusal_side_effects persistence_objectives; do
  run "$exp" "$exp" --config.reuse_from="$MAIN" "$@"
done
run surface_overlap_sweep surface_overlap_sweep --sweep --config.reuse_from="$MAIN" "$@"
