#!/usr/bin/python3
"""Export the reduced DenseNet fixtures of test/fixtures to ONNX for densenet-wasm's tests.

Usage:
    /usr/bin/python3 scripts/make_onnx_fixtures.py [--out test/fixtures/onnx]

Reads <name>.safetensors and manifest.json from test/fixtures (made by make_fixtures.py),
loads the weights into torchvision.models.DenseNet with the manifest's configuration, and
writes into --out:

    <name>.opset13.onnx   torch.onnx.export, opset 13, training=PRESERVE: BatchNormalization
                          nodes are kept with the very weights of the .safetensors file, so
                          the runtime must give bit-identical outputs for both files
                          (tiny121, narrow_odd, bc_style)
    narrow_odd.opset7.onnx
                          the same at opset 7: initializers also listed as graph inputs, Pad
                          with attribute pads (older exporters)
    narrow_odd.folded.onnx
                          the default export (training=EVAL, opset 13): PyTorch folds each
                          BatchNorm that follows a conv into that conv's weights (in float32)
    bc_style.caffe2.onnx  a Caffe2-zoo-style graph built with onnx.helper (opset 9): input
                          `data_0` of fixed shape, chains of two-input Concats, explicit Pad
                          before the stem max pool, a fixed-size AveragePool and a 1x1-conv
                          classifier giving output `fc6_1` of shape [N, classes, 1, 1];
                          initializers also listed as graph inputs
    manifest.json         one entry per file: {file, fixture, style, opset, output_shape}

All models take the fixture's <name>.input.npy and are compared in the tests with PyTorch's
<name>.output.npy (reshaped to [N, classes, 1, 1] for the Caffe2-style graph). Every file
is checked with onnx.checker. Needs the Debian packages python3-torch, python3-torchvision,
python3-onnx (torch 1.13, torchvision 0.14, onnx 1.12 when the fixtures were made).
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torchvision.models import DenseNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import read_safetensors  # noqa: E402  (the fixtures' own minimal reader)

FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
BN_EPS = 1e-5


def load_model(entry):
    model = DenseNet(growth_rate=entry["growth_rate"], block_config=tuple(entry["block_config"]),
                     num_init_features=entry["num_init_features"], bn_size=entry["bn_size"],
                     num_classes=entry["num_classes"])
    tensors = read_safetensors(os.path.join(FIXTURES_DIR, entry["name"] + ".safetensors"))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    return model.eval(), tensors


def export(model, entry, path, opset, keep_batchnorm):
    x = torch.zeros(1, *entry["input_shape"][1:])
    mode = torch.onnx.TrainingMode.PRESERVE if keep_batchnorm else torch.onnx.TrainingMode.EVAL
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=opset, training=mode,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=not keep_batchnorm)


def caffe2_style(entry, tensors, path):
    """DenseNet in the shape of the ONNX zoo's Caffe2 conversions, from torchvision weights."""
    nodes, inits = [], []
    n, c, h, w = entry["input_shape"]

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def bn_relu(x, prefix, out):
        names = [const(f"{out}_{p}", tensors[f"{prefix}.{q}"]) for p, q in
                 (("s", "weight"), ("b", "bias"), ("rm", "running_mean"), ("riv", "running_var"))]
        nodes.append(helper.make_node("BatchNormalization", [x] + names, [out + "_bn"], name=out + "/bn", epsilon=BN_EPS))
        nodes.append(helper.make_node("Relu", [out + "_bn"], [out], name=out + "/relu"))
        return out

    def conv(x, weight, out, k, stride=1, pad=0, bias=None):
        inputs = [x, const(out + "_w", weight)] + ([const(out + "_b", bias)] if bias is not None else [])
        nodes.append(helper.make_node("Conv", inputs, [out], name=out, kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[pad] * 4))
        return out

    x = conv("data_0", tensors["features.conv0.weight"], "conv1", 7, 2, 3)
    x = bn_relu(x, "features.norm0", "conv1_relu")
    nodes.append(helper.make_node("Pad", [x], ["pool1_pad"], name="pool1/pad", mode="constant",
                                  pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.0))
    nodes.append(helper.make_node("MaxPool", ["pool1_pad"], ["pool1"], name="pool1", kernel_shape=[3, 3], strides=[2, 2]))
    x, size = "pool1", (h // 2 - 1) // 2 + 1
    blocks = entry["block_config"]
    for b, layers in enumerate(blocks):
        for l in range(layers):
            p, t = f"features.denseblock{b + 1}.denselayer{l + 1}", f"{b + 2}_{l + 1}"
            y = bn_relu(x, p + ".norm1", f"conv{t}_x1_relu")
            y = conv(y, tensors[p + ".conv1.weight"], f"conv{t}_x1", 1)
            y = bn_relu(y, p + ".norm2", f"conv{t}_x2_relu")
            y = conv(y, tensors[p + ".conv2.weight"], f"conv{t}_x2", 3, pad=1)
            nodes.append(helper.make_node("Concat", [x, y], [f"concat_{t}"], name=f"concat_{t}", axis=1))
            x = f"concat_{t}"
        if b < len(blocks) - 1:
            p, t = f"features.transition{b + 1}", f"{b + 2}_blk"
            y = bn_relu(x, p + ".norm", f"conv{t}_relu")
            y = conv(y, tensors[p + ".conv.weight"], f"conv{t}", 1)
            nodes.append(helper.make_node("AveragePool", [y], [f"pool{b + 2}"], name=f"pool{b + 2}",
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x, size = f"pool{b + 2}", size // 2
    x = bn_relu(x, "features.norm5", "conv5_blk_relu")
    nodes.append(helper.make_node("AveragePool", [x], ["pool5"], name="pool5", kernel_shape=[size, size], strides=[1, 1]))
    classes = entry["num_classes"]
    conv("pool5", tensors["classifier.weight"].reshape(classes, -1, 1, 1), "fc6_1", 1, bias=tensors["classifier.bias"])

    inputs = [helper.make_tensor_value_info("data_0", TensorProto.FLOAT, [n, c, h, w])]
    inputs += [helper.make_tensor_value_info(t.name, TensorProto.FLOAT, list(t.dims)) for t in inits]
    outputs = [helper.make_tensor_value_info("fc6_1", TensorProto.FLOAT, [n, classes, 1, 1])]
    graph = helper.make_graph(nodes, "densenet_caffe2_style", inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="make_onnx_fixtures.py (Caffe2 zoo style)",
                              opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 4
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(FIXTURES_DIR, "onnx"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    entries = {e["name"]: e for e in json.load(open(os.path.join(FIXTURES_DIR, "manifest.json")))}

    manifest = []

    def record(file, fixture, style, opset, output_shape):
        path = os.path.join(args.out, file)
        onnx.checker.check_model(onnx.load(path))
        manifest.append(dict(file=file, fixture=fixture, style=style, opset=opset, output_shape=output_shape))
        print(f"  {file}: {style}, opset {opset}, {os.path.getsize(path)} bytes")

    for name in ("tiny121", "narrow_odd", "bc_style"):
        e = entries[name]
        model, tensors = load_model(e)
        export(model, e, os.path.join(args.out, f"{name}.opset13.onnx"), 13, keep_batchnorm=True)
        record(f"{name}.opset13.onnx", name, "torchvision", 13, e["output_shape"])
        if name == "narrow_odd":
            export(model, e, os.path.join(args.out, f"{name}.opset7.onnx"), 7, keep_batchnorm=True)
            record(f"{name}.opset7.onnx", name, "torchvision", 7, e["output_shape"])
            export(model, e, os.path.join(args.out, f"{name}.folded.onnx"), 13, keep_batchnorm=False)
            record(f"{name}.folded.onnx", name, "torchvision-folded", 13, e["output_shape"])
        if name == "bc_style":
            caffe2_style(e, tensors, os.path.join(args.out, f"{name}.caffe2.onnx"))
            record(f"{name}.caffe2.onnx", name, "caffe2", 9, e["output_shape"] + [1, 1])
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, m["file"])) for m in manifest)
    print(f"wrote {len(manifest)} ONNX fixtures to {os.path.normpath(args.out)} ({total / 2**20:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
