"""pycocotools' own numbers for ground-truth / results file pairs, as JSON on stdout.

Used by cocoeval-pycocotools.spec.ts when pycocotools is importable:
    python3 pycocotools-reference.py JOBS.json
where JOBS.json is [{"gt": path, "dt": path, "iouType": "bbox" | "segm"}, …]; prints one
{"stats": [12], "precision": [T*R*K*A*M in C order], "recall": [T*K*A*M], "seconds": evaluate +
accumulate + summarize} per job, as a JSON list.
"""
import contextlib
import io
import json
import sys
import time

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def run(job):
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
