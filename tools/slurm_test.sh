#!/usr/bin/env bash
# Test a checkpoint on a Slurm cluster: one task per GPU, started by srun
# (mmengine's slurm launcher reads rank and world size from SLURM_*).
# Usage: [GPUS=8] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT \
#            [tools/test.py arguments...]
# GPUS (default 8) tasks in all, GPUS_PER_NODE (default 8) per node,
# CPUS_PER_TASK (default 5) cores each; SRUN_ARGS adds srun options;
# PYTHON picks the interpreter (default: python on PATH).
set -e

if [ "$#" -lt 4 ]; then
    echo "Usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py arguments...]" >&2
    exit 2
fi

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
PYTHON=${PYTHON:-python}
TOOLS_DIR=$(dirname "$0")
if [ "$GPUS" -lt "$GPUS_PER_NODE" ]; then
    GPUS_PER_NODE=$GPUS
fi

# SRUN_ARGS is split on spaces on purpose: it holds several options.
# shellcheck disable=SC2086
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher slurm "${@:5}"
