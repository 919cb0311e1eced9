"""pycocotools' own numbers for ground-truth / results file pairs, as JSON on stdout.

Used by cocoeval-pycocotools.spec.ts when pycocotools is importable:
    python3 pycocotools-reference.py JOBS.json
where JOBS.json is a list of
- {"gt": path, "dt": path, "iouType": "bbox" | "segm"}: prints {"stats": [12], "precision":
  [T*R*K*A*M in C order], "recall": [T*K*A*M], "seconds": evaluate + accumulate + summarize};
- {"dts": [RLE], "gts": [RLE], "iscrowd": [0/1]} (uncompressed RLEs): prints {"iou": maskUtils.iou
  flattened (D×G), "bbox": toBbox of the dts, "area": area of the dts};
one result per job, as a JSON list.
"""
import contextlib
import io
import json
import sys
import time

from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def masks(job):
    dts = [mask_utils.frPyObjects(r, *r['size']) for r in job['dts']]
    gts = [mask_utils.frPyObjects(r, *r['size']) for r in job['gts']]
    return {
        'iou': mask_utils.iou(dts, gts, job['iscrowd']).ravel().tolist(),
        'bbox': mask_utils.toBbox(dts).tolist(),
        'area': [int(a) for a in mask_utils.area(dts)],
    }


def run(job):
    if 'dts' in job:
        return masks(job)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(job['gt'])
        dt = gt.loadRes(job['dt'])
        start = time.perf_counter()
        ev = COCOeval(gt, dt, job['iouType'])
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        seconds = time.perf_counter() - start
    return {
        'stats': [float(s) for s in ev.stats],
        'precision': ev.eval['precision'].ravel().tolist(),
        'recall': ev.eval['recall'].ravel().tolist(),
        'seconds': seconds,
    }


with open(sys.argv[1]) as f:
    jobs = json.load(f)
json.dump([run(job) for job in jobs], sys.stdout)
