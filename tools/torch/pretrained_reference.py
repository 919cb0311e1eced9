#!/usr/bin/env python3
"""Reference features of torchvision-layout networks for @gpl/loss's pretrained mode.

VGG11, ResNet-18 and AlexNet written here with torchvision's module names (torchvision itself is
not installed), their weights drawn from the integer formula of gpl_reference.py keyed by state-dict
order (so TypeScript rebuilds the same state dict without a fixture file), run in eval mode on a
formula input; the final feature map the loss network taps (VGG: the last ReLU before the last
pooling; ResNet-18: layer4; AlexNet: the ReLU after conv5) is summarised by 16 sampled values, its
sum and its sum of squares.

Usage: /usr/bin/python3 tools/torch/pretrained_reference.py [--out PATH]   (needs python3-torch)
"""
import argparse
import json
import math
import os

import torch
import torch.nn as nn

MODULUS = 65521


def pattern(count, salt):
    k = torch.arange(count, dtype=torch.float64)
    return torch.remainder(k * 7919 + salt * 104729 + 12345, MODULUS) / MODULUS - 0.5


def fill(net):
    """Parameter/buffer i of the state dict (in order): convs and linears He-scaled, BatchNorm around 1."""
    with torch.no_grad():
        floats = [(n, t) for n, t in net.state_dict().items() if t.is_floating_point()]
        for salt, (name, t) in enumerate(floats):
            v = pattern(t.numel(), salt)
            if name.endswith('running_var'):
                v = 1 + (v + 0.5)
            elif name.endswith('running_mean') or name.endswith('bias'):
                v = 0.1 * v
            elif t.dim() == 1:  # BatchNorm weight
                v = 1 + 0.4 * v
            else:
                fan_in = t[0].numel()
                v = v * math.sqrt(24 / fan_in)
            t.copy_(v.reshape(t.shape).float())


def vgg11():
    layers, c = [], 3
    for v in [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    net = nn.Module()
    net.features = nn.Sequential(*layers)
    # The tap: the last ReLU, before the final pooling.
    net.tap = lambda x: net.features[:-1](x)
    return net


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + idt)


def resnet18():
    net = nn.Module()
    net.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(64)
    c = 64
    for i, w in enumerate([64, 128, 256, 512]):
        s = 1 if i == 0 else 2
        setattr(net, f'layer{i + 1}', nn.Sequential(Block(c, w, s), Block(w, w, 1)))
        c = w
    net.fc = nn.Linear(512, 1000)

    def tap(x):
        x = nn.functional.max_pool2d(torch.relu(net.bn1(net.conv1(x))), 3, 2, 1)
        return net.layer4(net.layer3(net.layer2(net.layer1(x))))

    net.tap = tap
    return net


def alexnet():
    net = nn.Module()
    net.features = nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    net.classifier = nn.Sequential(nn.Dropout(), nn.Linear(256 * 36, 8))  # torchvision's is 9216→4096; a small one keeps the fixture fast
    net.tap = lambda x: net.features[:-1](x)
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'loss', 'src', 'fixtures', 'torchvision-pretrained.json'))
    out = ap.parse_args().out
    x = pattern(3 * 64 * 64, 1).reshape(1, 3, 64, 64).float() + 0.5
    cases = {}
    for name, make in (('vgg11', vgg11), ('resnet18', resnet18), ('alexnet', alexnet)):
        net = make()
        fill(net)
        net.eval()
        with torch.no_grad():
            y = net.tap(x).double()  # NCHW
        nhwc = y.permute(0, 2, 3, 1).flatten()
        picks = [int(i * (nhwc.numel() - 1) / 15) for i in range(16)]
        cases[name] = {
            'keys': [[k, list(v.shape)] for k, v in net.state_dict().items() if v.is_floating_point()],
            'shape_nhwc': [y.shape[0], y.shape[2], y.shape[3], y.shape[1]],
            'picks': picks,
            'values': [float(nhwc[i]) for i in picks],
            'sum': float(nhwc.sum()),
            'sum_sq': float((nhwc ** 2).sum()),
        }
    doc = {'input': 'x[i] = pattern(3·64·64, salt 1)[i] + 0.5 over the NCHW index, 1×3×64×64',
           'weights': 'floating-point state-dict entry i (in order): pattern(numel, i); conv/linear ×√(24/fan_in); bias and running_mean ×0.1; BatchNorm weight 1 + 0.4·p; running_var 1 + (p + 0.5)',
           'torch': torch.__version__, 'cases': cases}
    with open(out, 'w') as f:
        json.dump(doc, f, indent=1)
    print('wrote', out)


if __name__ == '__main__':
    main()
