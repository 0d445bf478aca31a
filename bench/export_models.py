#!/usr/bin/env python3
"""Export seeded, randomised torchvision DenseNets for the peer benchmarks.

Usage:
    /usr/bin/python3 bench/export_models.py [--models densenet121,densenet169] [--out bench/.cache]

For each requested model (torchvision densenet121/169/201/161, weights=None):
  * torch.manual_seed(MODEL_SEED), build the model, then randomise every BatchNorm
    (weight ~ U(0.5, 1.5), bias ~ N(0, 0.2), running_mean ~ N(0, 0.3), running_var ~ U(0.5, 2)),
    eval mode. The seed is re-applied per model, so each model's weights do not depend on
    which other models were exported in the same call (a missing file can be regenerated alone).
  * <model>.safetensors  torchvision state_dict names, float32 (num_batches_tracked kept as I64)
  * <model>.onnx         torch.onnx.export, opset 13, input "input", output "logits", dynamic batch
  * <model>.ref_b1.npy   PyTorch logits for input_b1.npy (float32, (1, 1000)), a reference
  * <model>.meta.json    parameter count and MACs per 224x224 image (conv + linear), seeds
And once per output directory:
  * input_b1.npy / input_b8.npy  seeded N(0, 1) float32, shapes (1,3,224,224) and (8,3,224,224)

Every output that already exists is kept (a cache); files are written to a temporary name and
renamed, so an interrupted run never leaves a truncated file behind. Needs the Debian packages
python3-torch, python3-torchvision, python3-onnx (no safetensors package: written by hand here).
"""

import argparse
import json
import os
import struct
import sys
import time

MODELS = ("densenet121", "densenet169", "densenet201", "densenet161")
MODEL_SEED = 20240601
INPUT_SEED = 12345
OPSET = 13
SIZE = 224


def log(msg):
    print(f"[export_models] {msg}", flush=True)


def atomic_path(path):
    return f"{path}.tmp-{os.getpid()}"


def finish(tmp, path):
    os.replace(tmp, path)


def write_safetensors(path, state_dict, metadata):
    """Minimal safetensors writer: u64 LE header length, JSON header, raw little-endian data."""
    import torch

    dtype_names = {torch.float32: "F32", torch.int64: "I64"}
    items = []
    for name, t in state_dict.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in dtype_names:
            t = t.to(torch.float32)
        items.append((name, t))
    # 8-byte dtypes first (as the reference implementation does), so every tensor starts at an
    # offset aligned to its element size (JS typed-array views need that); otherwise keep the
    # state_dict order.
    items.sort(key=lambda kv: -kv[1].element_size())

    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name, t in items:
        arr = t.numpy()
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        data = arr.tobytes(order="C")
        header[name] = {
            "dtype": dtype_names[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    tmp = atomic_path(path)
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    finish(tmp, path)


def save_npy(path, arr):
    import numpy as np

    tmp = atomic_path(path)
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(arr, dtype="<f4"))
    finish(tmp, path)


def build_model(name):
    import torch
    import torchvision

    torch.manual_seed(MODEL_SEED)
    model = getattr(torchvision.models, name)(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    return model


def count_macs(model, size=SIZE):
    """MACs of conv and linear layers for one size x size image (the usual 'GMAC' figure)."""
    import torch

    total = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += out.numel() // out.shape[0] * k

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return total[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="densenet121",
                    help=f"comma-separated subset of {','.join(MODELS)} (default densenet121)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache"),
                    help="output directory (default bench/.cache)")
    ap.add_argument("--force", action="store_true", help="rewrite outputs even if they exist")
    args = ap.parse_args()

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in names if m not in MODELS]
    if bad:
        sys.exit(f"[export_models] unknown model(s) {bad}; choose from {list(MODELS)}")

    try:
        import numpy as np
        import torch
        import torchvision  # noqa: F401
    except ImportError as e:
        sys.exit(f"[export_models] {e}. Install: apt-get install python3-torch python3-torchvision python3-onnx")

    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    need = lambda p: args.force or not os.path.exists(p)  # noqa: E731
    did = []

    inputs = {}
    for b in (1, 8):
        p = os.path.join(args.out, f"input_b{b}.npy")
        if need(p):
            # Independent, fixed seed per batch size (b1 is not the first image of b8).
            g = torch.Generator().manual_seed(INPUT_SEED + b)
            x = torch.randn(b, 3, SIZE, SIZE, generator=g, dtype=torch.float32)
            save_npy(p, x.numpy())
            did.append(p)
            log(f"wrote {p}  shape {tuple(x.shape)}")
        inputs[b] = p

    for name in names:
        st = os.path.join(args.out, f"{name}.safetensors")
        onnx_path = os.path.join(args.out, f"{name}.onnx")
        ref = os.path.join(args.out, f"{name}.ref_b1.npy")
        meta = os.path.join(args.out, f"{name}.meta.json")
        todo = [p for p in (st, onnx_path, ref, meta) if need(p)]
        if not todo:
            log(f"{name}: cached ({st}, {onnx_path})")
            continue
        t0 = time.time()
        model = build_model(name)
        sd = model.state_dict()
        if need(st):
            write_safetensors(st, sd, {
                "format": "pt", "model": name, "source": f"torchvision {__import__('torchvision').__version__}",
                "weights": "None (seeded init) + randomised BatchNorm", "seed": MODEL_SEED,
            })
            did.append(st)
            log(f"{name}: wrote {st}  ({len(sd)} tensors, {os.path.getsize(st) / 1e6:.1f} MB)")
        if need(onnx_path):
            tmp = atomic_path(onnx_path)
            with torch.no_grad():
                torch.onnx.export(
                    model, torch.zeros(1, 3, SIZE, SIZE), tmp,
                    opset_version=OPSET, input_names=["input"], output_names=["logits"],
                    dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                    do_constant_folding=True,
                )
            try:
                import onnx
                onnx.checker.check_model(tmp)
            except ImportError:
                log("python3-onnx not installed: skipped onnx.checker")
            finish(tmp, onnx_path)
            did.append(onnx_path)
            log(f"{name}: wrote {onnx_path}  (opset {OPSET}, {os.path.getsize(onnx_path) / 1e6:.1f} MB)")
        if need(ref):
            x = torch.from_numpy(np.load(inputs[1]))
            with torch.no_grad():
                y = model(x).numpy()
            save_npy(ref, y)
            did.append(ref)
            log(f"{name}: wrote {ref}  (PyTorch logits for input_b1, top-1 {int(y.argmax())}, "
                f"max|y| {float(np.abs(y).max()):.4g})")
        if need(meta):
            info = {
                "model": name,
                "params": int(sum(p.numel() for p in model.parameters())),
                "macs_per_image": int(count_macs(model)),
                "size": SIZE,
                "model_seed": MODEL_SEED,
                "input_seed": INPUT_SEED,
                "torch": torch.__version__,
                "opset": OPSET,
            }
            tmp = atomic_path(meta)
            with open(tmp, "w") as f:
                json.dump(info, f, indent=2)
                f.write("\n")
            finish(tmp, meta)
            did.append(meta)
            log(f"{name}: wrote {meta}  ({info['macs_per_image'] / 1e9:.3f} GMAC/image, "
                f"{info['params'] / 1e6:.2f} M params)")
        log(f"{name}: done in {time.time() - t0:.1f} s")

    log(f"{len(did)} file(s) written, everything else cached" if did else "nothing to do: all outputs cached")


if __name__ == "__main__":
    main()
