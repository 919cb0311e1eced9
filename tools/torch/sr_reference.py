"""Reference numbers for packages/tasks/sr/src/*.spec.ts (the specs store them; they never run Python).

Independent formulations of what the TypeScript computes:
- MATLAB imresize(img, scale, 'bicubic'): the resize written as dense weight matrices
  (out = Wr @ img @ Wc^T per channel), built from MATLAB's contributions() with antialiasing;
- SSIM (Wang et al.) with the 11x11 Gaussian window (sigma 1.5) applied as a 2-D window at every
  valid position (not separably), on Y of BT.601 YCbCr, as BasicSR's calculate_ssim(test_y_channel).

Run: /usr/bin/python3 tools/torch/sr_reference.py
"""
import math

import numpy as np


def cubic(x):
    ax = np.abs(x)
    return ((1.5 * ax**3 - 2.5 * ax**2 + 1) * (ax <= 1)
            + (-0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def weight_matrix(in_len, out_len, scale):
    """Dense out_len x in_len matrix of MATLAB's contributions (symmetric padding folded in)."""
    if scale < 1:
        kernel = lambda x: scale * cubic(scale * x)
        width = 4.0 / scale
    else:
        kernel, width = cubic, 4.0
    m = np.zeros((out_len, in_len))
    taps = math.ceil(width) + 2
    aux = np.concatenate([np.arange(1, in_len + 1), np.arange(in_len, 0, -1)])
    for x in range(1, out_len + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        idx = left + np.arange(taps)
        w = kernel(u - idx)
        w = w / w.sum()
        for i, wi in zip(idx, w):
            m[x - 1, aux[(i - 1) % len(aux)] - 1] += wi
    return m


def imresize(img, scale):
    h, w, c = img.shape
    oh, ow = math.ceil(h * scale), math.ceil(w * scale)
    wr, wc = weight_matrix(h, oh, scale), weight_matrix(w, ow, scale)
    out = np.stack([wr @ img[:, :, k].astype(np.float64) @ wc.T for k in range(c)], axis=2)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def to_y(img):
    img = img.astype(np.float64)
    return (65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255 + 16


def psnr_y(a, b, border):
    ya, yb = to_y(a), to_y(b)
    if border:
        ya, yb = ya[border:-border, border:-border], yb[border:-border, border:-border]
    mse = np.mean((ya - yb) ** 2)
    return 10 * math.log10(255**2 / mse)


def ssim_y(a, b, border):
    ya, yb = to_y(a), to_y(b)
    if border:
        ya, yb = ya[border:-border, border:-border], yb[border:-border, border:-border]
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    g /= g.sum()
    win = np.outer(g, g)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    h, w = ya.shape
    vals = []
    for y in range(h - 10):
        for x in range(w - 10):
            pa, pb = ya[y:y + 11, x:x + 11], yb[y:y + 11, x:x + 11]
            ma, mb = (win * pa).sum(), (win * pb).sum()
            va = (win * pa * pa).sum() - ma * ma
            vb = (win * pb * pb).sum() - mb * mb
            cov = (win * pa * pb).sum() - ma * mb
            vals.append(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2)))
    return float(np.mean(vals))


def pattern(h, w, seed):
    """The specs' test image: the same formula in TypeScript."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing='ij')
    return ((y * 37 + x * 11 + c * 71 + ((x * y + seed) % 13) * 5) % 256).astype(np.uint8)


if __name__ == '__main__':
    img = pattern(8, 12, 0)
    down = imresize(img, 0.25)
    print('imresize 8x12 pattern(0) x1/4 ->', down.shape, down.reshape(-1).tolist())
    small = pattern(3, 2, 1)
    up = imresize(small, 4)
    print('imresize 3x2 pattern(1) x4 ->', up.shape, 'sum', int(up.astype(np.int64).sum()), 'row 5 ch 0', up[5, :, 0].tolist())
    a = pattern(32, 28, 2)
    b = pattern(32, 28, 5)
    print('pattern(32,28,2) vs pattern(32,28,5) border 4: psnr_y %.10f ssim_y %.10f' % (psnr_y(a, b, 4), ssim_y(a, b, 4)))
