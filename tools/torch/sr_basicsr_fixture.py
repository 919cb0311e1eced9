"""Writes the MSRResNet fixture of packages/tasks/sr/src/pretrained.spec.ts with PyTorch itself.

BasicSR's MSRResNet x4 (basicsr/archs/srresnet_arch.py), written out here at 8 features and 1
block, with deterministic weights, saved the way BasicSR saves networks (torch.save of
{'params': state_dict}), plus its output on a fixed 6x5 input. Run with /usr/bin/python3 (torch
1.13); the spec never needs torch.

  /usr/bin/python3 tools/torch/sr_basicsr_fixture.py
"""
import gzip
import io
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'tasks', 'sr', 'src', 'fixtures')


class ResidualBlockNoBN(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.conv1 = nn.Conv2d(f, f, 3, 1, 1)
        self.conv2 = nn.Conv2d(f, f, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNet(nn.Module):
    def __init__(self, f=8, blocks=1):
        super().__init__()
        self.conv_first = nn.Conv2d(3, f, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(f) for _ in range(blocks)])
        self.upconv1 = nn.Conv2d(f, f * 4, 3, 1, 1)
        self.upconv2 = nn.Conv2d(f, f * 4, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.conv_hr = nn.Conv2d(f, f, 3, 1, 1)
        self.conv_last = nn.Conv2d(f, 3, 3, 1, 1)

    def forward(self, x):
        lrelu = lambda t: F.leaky_relu(t, 0.1)
        out = self.body(lrelu(self.conv_first(x)))
        out = lrelu(self.pixel_shuffle(self.upconv1(out)))
        out = lrelu(self.pixel_shuffle(self.upconv2(out)))
        out = self.conv_last(lrelu(self.conv_hr(out)))
        return out + F.interpolate(x, scale_factor=4, mode='bilinear', align_corners=False)


def main():
    torch.manual_seed(0)
    net = MSRResNet().double()
    # Deterministic weights on a coarse grid, so float32 holds them exactly.
    with torch.no_grad():
        for i, p in enumerate(net.parameters()):
            k = torch.arange(p.numel(), dtype=torch.float64)
            p.copy_((((k * 37 + i * 101) % 41) - 20).reshape(p.shape) / 256.0)
    h, w = 6, 5
    k = torch.arange(3 * h * w, dtype=torch.float64)
    x = (((k * 13) % 29) / 28.0).reshape(1, 3, h, w)
    with torch.no_grad():
        y = net(x)
    os.makedirs(OUT, exist_ok=True)
    buf = io.BytesIO()
    torch.save({'params': {k: v.float() for k, v in net.state_dict().items()}}, buf)
    with open(os.path.join(OUT, 'msrresnet-f8b1-params.pth.gz'), 'wb') as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))
    with open(os.path.join(OUT, 'msrresnet-f8b1-output.json'), 'w') as f:
        json.dump({'input_nchw': [1, 3, h, w], 'input': x.flatten().tolist(), 'output_nchw': list(y.shape), 'output': [round(v, 7) for v in y.flatten().tolist()]}, f)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
