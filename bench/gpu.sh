#!/usr/bin/env bash
# The benchmarks on a GPU machine, one command: every backend, settings sized for a GPU.
#
#   bench/gpu.sh OUT_DIR [PART ...]
#
# PART (default: all of them, in this order):
#   speed      training steps/s, keras_gan vs native: MNIST GAN (batch 100, the paper's; 500 steps)
#              and pix2pix 256x256 at batch 1 (50 steps) and batch 16 (20 steps), best of 3
#   memory     peak memory of each side alone (host RSS and the GPU's allocator peak), same benches
#   inference  generate (1000 samples per call) and translate (256x256, batch 1 and 16, paper mode)
#   layouts    torch only: each U-Net convolution channels-last vs NCHW on the GPU
#              (the data for keras_gan.layers.conv's small-map rule, measured on the CPU so far)
#
# Writes OUT_DIR/<bench>_<backend>.json (every process's row and the summary) and .txt (the table),
# and OUT_DIR/device.txt (nvidia-smi, versions). Environment:
#   PROCESSES=5                         fresh processes per backend and bench (median and range over them)
#   BACKENDS="tensorflow jax torch"     which backends
#   PYTHON=.venv/bin/python             the interpreter (default: .venv/bin/python if present, else python3)
#   PYTHON_TENSORFLOW, PYTHON_JAX, PYTHON_TORCH
#                                       one backend's own interpreter: the three frameworks' CUDA builds
#                                       usually live in separate environments (README, "GPUs")
#   EXTRA="--steps 2 --repeats 1"       options appended to every bench's (a quick check that all runs)
# Each bench checks nothing about the device itself; the tables' "device" column says where each
# backend ran, so a "cpu" there means that framework's CUDA build is missing. A failing bench is
# reported and the others still run; the exit status is then 1.
# On a lent machine with a 10-minute limit per command, run the parts one at a time, e.g.
#   PROCESSES=3 bench/gpu.sh out speed; PROCESSES=3 bench/gpu.sh out memory; ...
set -uo pipefail

if [ $# -lt 1 ]; then
    sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
fi
OUT=$1; shift
PARTS=${*:-speed memory inference layouts}
PROCESSES=${PROCESSES:-5}
BACKENDS=${BACKENDS:-tensorflow jax torch}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$HERE/../.venv/bin/python" ]; then PYTHON=$HERE/../.venv/bin/python; else PYTHON=python3; fi
fi
for part in $PARTS; do
    case $part in speed|memory|inference|layouts) ;; *) echo "unknown part: $part (speed, memory, inference, layouts)" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"
status=0

python_for() {  # the interpreter of backend $1: PYTHON_<BACKEND> or PYTHON
    local var="PYTHON_$(echo "$1" | tr '[:lower:]' '[:upper:]')"
    echo "${!var:-$PYTHON}"
}

run() {  # run NAME BACKEND SCRIPT ARGS...: one bench on one backend, table and JSON into $OUT
    local name=$1 backend=$2 script=$3; shift 3
    echo "== $name $backend: $script $*" >&2
    if ! "$(python_for "$backend")" "$HERE/$script" --backend "$backend" --processes "$PROCESSES" \
            --json "$OUT/${name}_$backend.json" "$@" ${EXTRA:-} | tee "$OUT/${name}_$backend.txt"; then
        echo "== $name $backend FAILED" >&2
        status=1
    fi
}

{
    nvidia-smi 2>&1 || echo "no nvidia-smi"
    for backend in $BACKENDS; do
        KERAS_BACKEND=$backend "$(python_for "$backend")" -c "import importlib, sys, keras
print('$backend:', 'python', sys.version.split()[0], 'keras', keras.__version__,
      '$backend', importlib.import_module('$backend').__version__)" 2>/dev/null || echo "$backend: does not import"
    done
} > "$OUT/device.txt"

for part in $PARTS; do
    for backend in $BACKENDS; do
        case $part in
            speed)
                run gan_mnist "$backend" bench_gan_mnist.py --steps 500 --repeats 3
                run pix2pix_b1 "$backend" bench_pix2pix.py --batch-size 1 --steps 50 --repeats 3
                run pix2pix_b16 "$backend" bench_pix2pix.py --batch-size 16 --steps 20 --repeats 3 ;;
            memory)
                run gan_mnist_memory "$backend" bench_gan_mnist.py --memory --steps 100 --repeats 1
                run pix2pix_b1_memory "$backend" bench_pix2pix.py --memory --batch-size 1 --steps 10 --repeats 1
                run pix2pix_b16_memory "$backend" bench_pix2pix.py --memory --batch-size 16 --steps 5 --repeats 1 ;;
            inference)
                run inference "$backend" bench_inference.py --steps 50 --images 64 --repeats 3 ;;
            layouts)
                if [ "$backend" = torch ]; then
                    echo "== layouts torch" >&2
                    "$(python_for torch)" "$HERE/bench_conv_layouts.py" --repeats 20 ${EXTRA:+--repeats 1} | tee "$OUT/conv_layouts_torch.txt" \
                        || status=1
                fi ;;
        esac
    done
done
echo "results in $OUT" >&2
exit $status
