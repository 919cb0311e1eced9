#!/usr/bin/env python3
"""Reference values of the generic perceptual loss in PyTorch float64, for @gpl/loss's tests.

Writes packages/loss/src/fixtures/torch-reference.json: for a few small VGG-like networks with
supplied weights (biases, masks, kernel sizes 1/3/5/7, every kind of level weighting, odd sizes),
the loss and its gradient with respect to the prediction. Weights and inputs come from an
integer formula that TypeScript reproduces bit for bit (see `pattern`), so the fixture stores
only the case definitions and the results, and the tests never need torch.

Usage: python3 tools/torch/gpl_reference.py [--out PATH]   (needs `apt-get install python3-torch`)
"""
import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

MODULUS = 65521


def pattern(count, salt):
    """Values in [-0.5, 0.5): ((k·7919 + salt·104729 + 12345) mod 65521) / 65521 − 0.5, as float64.

    Every step is exact integer arithmetic or one correctly rounded IEEE division, so JavaScript
    computes the same doubles; both sides then round to float32."""
    return [((k * 7919 + salt * 104729 + 12345) % MODULUS) / MODULUS - 0.5 for k in range(count)]


def f32(values):
    return torch.tensor(values, dtype=torch.float32).double()


CASES = [
    dict(name="vgg[1,2] 3x3, biases, all levels, odd size", inChannels=3, blocks=[1, 2], channels=[4, 6],
         kernelSize=3, bias=True, levels="all", mask=False, shape=[2, 9, 7, 3]),
    dict(name="vgg[1,1,1] 5x5, mask, weighted levels", inChannels=2, blocks=[1, 1, 1], channels=[4, 4, 8],
         kernelSize=5, bias=False, levels="weighted", mask=True, shape=[1, 12, 12, 2]),
    dict(name="vgg[2] 1x1, biases, final layer", inChannels=4, blocks=[2], channels=[5],
         kernelSize=1, bias=True, levels="final", mask=False, shape=[1, 5, 6, 4]),
    dict(name="vgg[1,1] 7x7 depth-like, mask, explicit levels", inChannels=1, blocks=[1, 1], channels=[3, 4],
         kernelSize=7, bias=False, levels=[0.3, 1], mask=True, shape=[2, 10, 10, 1]),
    # Constant 8×8 patches: inside a patch the first ReLU's outputs are equal, so max-pool windows
    # hold tied maxima and the gradient depends on the routing rule (PyTorch: the first maximum).
    dict(name="vgg[1,1] 3x3, biases, piecewise-constant input (tied maxima)", inChannels=3, blocks=[1, 1], channels=[6, 8],
         kernelSize=3, bias=True, levels="final", mask=False, shape=[2, 16, 16, 3], patches=8),
]


def weights_of(case):
    """Per convolution: OIHW float64 kernel (from the HWIO pattern, He-like scale) and bias or None."""
    out = []
    cin = case["inChannels"]
    conv = 0
    k = case["kernelSize"]
    for b, count in enumerate(case["blocks"]):
        for _ in range(count):
            cout = case["channels"][b]
            fan_in = k * k * cin
            scale = math.sqrt(24 / fan_in)  # std of U[-0.5, 0.5) is 1/√12: this gives He's √(2/n)
            hwio = f32([v * scale for v in pattern(k * k * cin * cout, 10 + conv)]).reshape(k, k, cin, cout)
            bias = f32([v * 0.1 for v in pattern(cout, 50 + conv)]) if case["bias"] else None
            out.append((hwio.permute(3, 2, 0, 1).contiguous(), bias))
            cin = cout
            conv += 1
    return out


def level_weights(levels, taps):
    if levels == "final":
        return [1.0 if i == taps - 1 else 0.0 for i in range(taps)]
    if levels == "all":
        return [1.0] * taps
    if levels == "weighted":
        return [2.0 ** -(taps - 1 - i) for i in range(taps)]
    return [float(w) for w in levels]


def embed(x, case, weights):
    taps = []
    conv = 0
    for b, count in enumerate(case["blocks"]):
        if b > 0:
            x = F.max_pool2d(x, 2, 2)
        for _ in range(count):
            kernel, bias = weights[conv]
            x = F.relu(F.conv2d(x, kernel, bias, padding=case["kernelSize"] // 2))
            conv += 1
        taps.append(x)
    return taps


def image(case, salt):
    """An NCHW input from `pattern(·, salt) + 0.5`: one value per element, or with `patches` P one
    per P×P patch (element (n, y, x, c) takes pattern index ((n·⌈H/P⌉ + y//P)·⌈W/P⌉ + x//P)·C + c)."""
    n, h, w, c = case["shape"]
    p = case.get("patches")
    if p is None:
        return (f32(pattern(n * h * w * c, salt)) + 0.5).reshape(n, h, w, c).permute(0, 3, 1, 2).contiguous()
    ph, pw = -(-h // p), -(-w // p)
    values = pattern(n * ph * pw * c, salt)
    flat = [values[((b * ph + y // p) * pw + x // p) * c + k] for b in range(n) for y in range(h) for x in range(w) for k in range(c)]
    return (f32(flat) + 0.5).reshape(n, h, w, c).permute(0, 3, 1, 2).contiguous()


def reference(case):
    n, h, w, c = case["shape"]
    pred = image(case, 1).requires_grad_(True)
    target = image(case, 2)
    mask = None
    if case["mask"]:
        mask = torch.tensor([1.0 if v > -0.2 else 0.0 for v in pattern(n * h * w, 3)], dtype=torch.float64).reshape(n, 1, h, w)
    weights = weights_of(case)
    x = pred * mask if mask is not None else pred
    y = target * mask if mask is not None else target
    with torch.no_grad():
        ty = embed(y, case, weights)
    px = embed(x, case, weights)
    lw = level_weights(case["levels"], len(px))
    loss = sum(wl * torch.mean((p - t) ** 2) for wl, p, t in zip(lw, px, ty) if wl > 0)
    loss.backward()
    grad = pred.grad.permute(0, 2, 3, 1).reshape(-1)
    return float(loss), [float(f"{g:.10g}") for g in grad.tolist()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--out", default=os.path.join(root, "packages/loss/src/fixtures/torch-reference.json"))
    args = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    cases = []
    for case in CASES:
        loss, grad = reference(case)
        cases.append({**case, "loss": loss, "gradient": grad})
        print(f"{case['name']}: loss {loss:.10g}, max |grad| {max(abs(g) for g in grad):.3g}")
    doc = {
        "generator": "tools/torch/gpl_reference.py",
        "torch": torch.__version__,
        "dtype": "float64 (inputs and weights are float32 values)",
        "pattern": "((k*7919 + salt*104729 + 12345) % 65521) / 65521 - 0.5; pred salt 1 (+0.5), target salt 2 (+0.5), "
                   "with 'patches' P one value per P×P patch (see image()), mask salt 3 (> -0.2 → 1, per pixel), kernel of conv i salt 10+i (HWIO order, ×√(24/(k²·c_in))), "
                   "bias of conv i salt 50+i (×0.1)",
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
