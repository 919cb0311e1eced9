#!/usr/bin/env python3
"""PyTorch column of `nx run loss:bench`: one GPL training step on CPU, timed like @gpl/loss.

A frozen, randomly initialised VGG-like network (He init, zero bias, ReLU, 2×2 max pooling
between blocks) embeds the prediction (with autograd) and the target (under no_grad); the loss is
the mean squared difference of the final-layer embeddings and the step ends with its gradient
with respect to the prediction. No weight gradient is computed (the weights do not require it).

Usage: python3 tools/torch/gpl_bench.py --blocks 2,2,3,3,3 --shape 2x128x256x19 --threads 2 --repeats 5
Prints one JSON line: {"torch": version, "threads": n, "forwardSeconds": median, "trainSeconds": median}.

With --serve it prints {"torch": version, "threads": n} once the network is built and warmed up,
then reads commands from stdin, one per line, `forward K` or `train K`, runs that step K times
back to back and prints {"seconds": [s1, …, sK]}: loss:bench then alternates blocks of its own
steps with blocks of PyTorch's.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

CHANNELS = [64, 128, 256, 512, 512]


def build(blocks, in_channels, kernel, generator):
    weights = []
    cin = in_channels
    for b, count in enumerate(blocks):
        cout = CHANNELS[min(b, len(CHANNELS) - 1)]
        for _ in range(count):
            std = math.sqrt(2 / (kernel * kernel * cin))
            weights.append(torch.randn(cout, cin, kernel, kernel, generator=generator) * std)
            cin = cout
    return weights


def embed(x, blocks, weights, kernel):
    i = 0
    for b, count in enumerate(blocks):
        if b > 0:
            x = F.max_pool2d(x, 2, 2)
        for _ in range(count):
            x = F.relu(F.conv2d(x, weights[i], padding=kernel // 2))
            i += 1
    return x


def median(fn, repeats):
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", default="2,2,3,3,3")
    parser.add_argument("--shape", default="2x128x256x19", help="N x H x W x C, as @gpl/loss writes it (NHWC)")
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help="time single steps on command from stdin")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    blocks = [int(b) for b in args.blocks.split(",")]
    n, h, w, c = (int(v) for v in args.shape.split("x"))
    g = torch.Generator().manual_seed(1)
    weights = build(blocks, c, args.kernel, g)
    pred = torch.softmax(torch.randn(n, c, h, w, generator=g), 1)
    target = torch.softmax(torch.randn(n, c, h, w, generator=g), 1)

    def forward():
        with torch.no_grad():
            return torch.mean((embed(pred, blocks, weights, args.kernel) - embed(target, blocks, weights, args.kernel)) ** 2).item()

    def train():
        x = pred.clone().requires_grad_(True)
        with torch.no_grad():
            t = embed(target, blocks, weights, args.kernel)
        loss = torch.mean((embed(x, blocks, weights, args.kernel) - t) ** 2)
        (grad,) = torch.autograd.grad(loss, x)
        return grad

    if args.serve:
        forward()
        train()
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
        steps = {"forward": forward, "train": train}
        for line in sys.stdin:
            words = line.split()
            step = steps.get(words[0]) if len(words) == 2 and words[1].isdigit() else None
            if step is None:
                print(json.dumps({"error": f"unknown command {line.strip()!r}; expected 'forward K' or 'train K'"}), flush=True)
                continue
            seconds = []
            for _ in range(int(words[1])):
                t0 = time.perf_counter()
                step()
                seconds.append(time.perf_counter() - t0)
            print(json.dumps({"seconds": seconds}), flush=True)
        return

    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "forwardSeconds": median(forward, args.repeats),
        "trainSeconds": median(train, args.repeats),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
