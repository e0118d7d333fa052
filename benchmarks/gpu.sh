#!/usr/bin/env bash
# Everything that needs an accelerator, as one command (run from the repository root
# on a machine with one GPU and jax[cuda] installed):
#
#   bash benchmarks/gpu.sh [OUT_DIR]
#
# 1. the PPO profile (both encoders; matmul ceiling measured in the same run) at the
#    main job's shapes and at GPU-sized batches (16 seeds);
# 2. the main job at runlocal (wall time per phase in its report.md);
# 3. the full-scale set (benchmarks/full_set.sh), unless SKIP_FULL=1.
# Numbers go to OUT_DIR (default gpu_results/); record them in benchmarks/RESULTS.md
# with the machine's name.
set -euo pipefail
OUT=${1:-gpu_results}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/machine.txt"
python -c "import jax; print(jax.__version__, jax.devices())" | tee -a "$OUT/machine.txt"
python benchmarks/ppo_profile.py --repeats=5 --matmul_n=8192 | tee "$OUT/profile.txt"
python benchmarks/ppo_profile.py --repeats=5 --matmul_n=8192 --num_seeds=16 \
  | tee "$OUT/profile_16_seeds.txt"
/usr/bin/time -v python -m experiments.main --workdir="$OUT/main_job" 2>&1 \
  | tee "$OUT/main_job.txt"
if [[ "${SKIP_FULL:-0}" != "1" ]]; then
  bash benchmarks/full_set.sh "$OUT/full" 2>&1 | tee "$OUT/full_set.txt"
fi
