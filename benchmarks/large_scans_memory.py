"""Peak RSS of ocromni reading the 16 largest SROIE scans (4961x7016, 35 MP) in batches of 8.

    python benchmarks/large_scans_memory.py [DATA]

The perception benchmark's peak-RSS row covers all of SROIE; this isolates the worst
case, the large scans, that sets it. Prints pages, seconds and peak RSS in MB.
"""

import resource
import sys
import time
from pathlib import Path

import ocromni.api

data = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data")
paths = sorted((data / "sroie" / "img").iterdir(), key=lambda p: -p.stat().st_size)[:16]
start = time.time()
pages = sum(1 for _ in ocromni.api.iter_recognize([str(p) for p in paths], batch_size=8))
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{pages} pages, {time.time() - start:.1f} s, peak RSS {peak_mb} MB")
