#!/usr/bin/env python3
"""Weight-file fixtures for @gpl/weights and the pretrained import, written by PyTorch itself.

A reduced-width ResNet-18 in torchvision's module layout (conv1/bn1/layer1.0.conv1/…/downsample.0,1/fc,
widths 8-16-32-64) with random weights and BatchNorm statistics, saved as:
  resnet18-w8.pth               torch.save(state_dict)                (zip + pickle, float32)
  resnet18-w8.safetensors       the safetensors layout, float32       (written from the spec: no safetensors package here)
  resnet18-w8-fp16.safetensors  float16
  resnet18-w8-bf16.pth          torch.save of bfloat16 tensors
  resnet18-w8-mmseg.pth         {'meta': {...}, 'state_dict': {'backbone.' + k: v}} as mmseg saves it
  not-a-checkpoint.pth          torch.save of a plain list
  views.pth                     a transposed view, an offset view of a shared storage, float16 edge values
each gzipped (`<name>.gz`, the tests gunzip them: the bytes inside are PyTorch's own),
and reference.json: the input formula and layer4's output (eval mode) for the float32 weights and
for the float16/bfloat16-rounded ones, so the TypeScript tests compare without torch.

Usage: /usr/bin/python3 tools/torch/weights_fixtures.py [--out DIR]   (needs `apt-get install python3-torch`)
"""
import argparse
import collections
import gzip
import json
import os
import struct

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + idt)


class ResNet(nn.Module):
    """torchvision.models.ResNet's names and forward, with the widths divided by 8."""

    def __init__(self, widths=(8, 16, 32, 64), layers=(2, 2, 2, 2), classes=10):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(widths[0], layers[0], 1)
        self.layer2 = self._make_layer(widths[1], layers[1], 2)
        self.layer3 = self._make_layer(widths[2], layers[2], 2)
        self.layer4 = self._make_layer(widths[3], layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], classes)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def pattern_input(n, c, h, w):
    """x[i] = ((i·7919) mod 251)/251 − 0.5 over the NCHW index i (reproduced in TypeScript)."""
    i = torch.arange(n * c * h * w, dtype=torch.float64)
    return (((i * 7919) % 251) / 251 - 0.5).reshape(n, c, h, w).float()


SAFE_DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16'}


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype in (torch.float16, torch.bfloat16) else t.numpy().tobytes()
        header[name] = {'dtype': SAFE_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)  # the reference writer pads the header to 8 bytes
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'weights', 'src', 'fixtures'))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    net = ResNet()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(123)
    # Values on a 1/64 grid (exact in float16 and bfloat16 as well): the files then gzip to a
    # fraction of their size, which keeps the committed fixtures small.
    with torch.no_grad():
        for t in list(net.parameters()) + [b for n, b in net.named_buffers() if 'running' in n]:
            t.copy_(torch.round(t * 64) / 64)
    net.eval()
    sd = net.state_dict()
    torch.save(sd, os.path.join(out, 'resnet18-w8.pth'))
    floats = collections.OrderedDict((k, v) for k, v in sd.items() if v.is_floating_point())
    write_safetensors(os.path.join(out, 'resnet18-w8.safetensors'), floats, {'format': 'pt'})
    write_safetensors(os.path.join(out, 'resnet18-w8-fp16.safetensors'), collections.OrderedDict((k, v.half()) for k, v in floats.items()), {'format': 'pt'})
    torch.save(collections.OrderedDict((k, v.bfloat16() if v.is_floating_point() else v) for k, v in sd.items()), os.path.join(out, 'resnet18-w8-bf16.pth'))
    mm = {'meta': {'mmseg_version': '0.30.0', 'CLASSES': ('road', 'car'), 'PALETTE': [[128, 64, 128], [0, 0, 142]], 'iter': 40000},
          'state_dict': collections.OrderedDict(('backbone.' + k, v) for k, v in sd.items())}
    mm['state_dict']['decode_head.conv_seg.weight'] = torch.zeros(2, 64, 1, 1)
    torch.save(mm, os.path.join(out, 'resnet18-w8-mmseg.pth'))
    torch.save([1, 2, 3], os.path.join(out, 'not-a-checkpoint.pth'))
    # A non-contiguous view (a transpose) and an offset view into a shared storage.
    base = torch.arange(12, dtype=torch.float32)
    torch.save(collections.OrderedDict([('transposed', base[:6].reshape(2, 3).t()), ('offset', base[6:].reshape(3, 2)), ('half', torch.tensor([1.5, -2.0, 65504.0, 2.0 ** -24], dtype=torch.float16))]), os.path.join(out, 'views.pth'))
    for name in os.listdir(out):
        if name.endswith(('.pth', '.safetensors')):
            path = os.path.join(out, name)
            with open(path, 'rb') as f, open(path + '.gz', 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9, mtime=0) as g:
                g.write(f.read())
            os.remove(path)

    x = pattern_input(1, 3, 64, 64)
    ref = {'input': {'shape': [1, 3, 64, 64], 'formula': '((i*7919) % 251)/251 - 0.5 over the NCHW index'}}
    with torch.no_grad():
        for tag, cast in (('float32', None), ('float16', torch.float16), ('bfloat16', torch.bfloat16)):
            if cast is not None:
                rounded = ResNet()
                rounded.load_state_dict({k: (v.to(cast).float() if v.is_floating_point() else v) for k, v in sd.items()})
                rounded.eval()
                y = rounded.features(x)
            else:
                y = net.features(x)
            ref[tag] = {'shape': list(y.shape), 'layout': 'NCHW', 'values': [round(float(v), 7) for v in y.flatten()]}
    ref['torch'] = torch.__version__
    ref['keys'] = list(sd.keys())
    with open(os.path.join(out, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
    print('wrote', out)


if __name__ == '__main__':
    main()
