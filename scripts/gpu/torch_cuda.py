"""Runs one of the PyTorch reference scripts (../shared/bench/torch/*.py, written for the CPU)
on the GPU, unchanged: every tensor and module it creates goes to CUDA device 0, the clock it
reads waits for the GPU first (so a repetition's time covers its kernels), and each JSON line
it prints gains "device" and "gpu".

TF32 is off for matmul and cuDNN, as in Strata's CUDA backend (FP32 GEMMs unless asked);
pass --tf32 before the script to allow it.

Usage: python torch_cuda.py [--tf32] SCRIPT.py [SCRIPT ARGS...]
"""
import json
import runpy
import sys
import time

import torch


def main():
    args = sys.argv[1:]
    tf32 = False
    if args and args[0] == "--tf32":
        tf32, args = True, args[1:]
    if not args:
        sys.exit(__doc__)
    if not torch.cuda.is_available():
        sys.exit("torch_cuda.py: torch.cuda.is_available() is False; no GPU run")
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_default_device("cuda")
    gpu = torch.cuda.get_device_name(0)

    perf_counter = time.perf_counter

    def synchronized_clock():
        torch.cuda.synchronize()
        return perf_counter()

    time.perf_counter = synchronized_clock

    dumps = json.dumps

    def dumps_with_device(obj, *a, **k):
        if isinstance(obj, dict) and "impl" in obj:
            obj = dict(obj, device="cuda", gpu=gpu, tf32=tf32)
        return dumps(obj, *a, **k)

    json.dumps = dumps_with_device
    script = args[0]
    sys.argv = args
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
