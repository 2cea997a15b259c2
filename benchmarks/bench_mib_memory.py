"""Peak memory of a lazy ``.mib`` pipeline against the file size, before and after
choosing the navigation chunks by bytes.

rosettasciio's lazy Merlin reader with its default ``chunks="auto"`` splits the
detector axes; every per-pattern transform must then merge them back into whole
patterns, and the merged chunks are many times dask's chunk size.  This script
writes a Merlin ``.mib`` file of the size of a real acquisition (default: a
128 x 128 scan of 256 x 256 12-bit frames, 2.15 GB, with a ``.hdr`` beside it;
frame headers laid out like those of ``test_CL30cm.mib`` recorded on a real
Merlin), then in a fresh process per case (so the peak resident memory is the
case's own) runs the package's default feature transform lazily:

    hs.load(FILE, lazy=True[, chunks=navigation_chunks(...)]) ->
    get_cepstrum(lazy_output=True).get_ring_features(...) -> save(.zspy)

(the default cepstrum ring features of ``manifold_decomposition``, streamed to a
``.zspy`` beside the scan: 6414 float32 numbers per pattern, 0.4 GB, which held
in memory would themselves grow with the scan).

The cases are ``default`` (rosettasciio's chunks), ``navigation_chunks``
(:func:`hyperspy_manifold.io.navigation_chunks` passed to ``hs.load``, what the
docs recommend), ``load_scan`` (the loader of ``hyperspy-manifold cluster``,
which applies it) and ``rechunk`` (rosettasciio's chunks, then ``rechunk`` to
those of ``navigation_chunks``).  Reported: peak RSS (``ru_maxrss`` of the
child), its ratio to the file size, the peak of the anonymous part of the RSS
(sampled at 20 Hz: the rest is pages of the memory-mapped file, which the
kernel can drop), the chunks and the wall time.  The file is written into a temporary folder under ``--dir`` (free space
is checked first) and deleted at the end.

Run: ``python benchmarks/bench_mib_memory.py [--scan 128] [--detector 256]
[--dir /tmp] [--cases default navigation_chunks rechunk]``.  Not part of the test suite (a few minutes).
"""

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import RSSSampler, report, run_child


class AnonRSSSampler(RSSSampler):
    """Peak of ``RssAnon`` (heap, arrays): resident memory that is not a page of
    a mapped file."""

    def run(self):
        status = Path("/proc/self/status")
        while not self._done.is_set():
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    self.peak = max(self.peak, int(line.split()[1]) / 1024)
            time.sleep(self.interval)


#: The frame header of a real single-chip Merlin frame (``test_CL30cm.mib``,
#: 384 bytes padded with NUL); fields 1 (frame number), 6 (pixel type), 9 and 51
#: (time stamps) and 53 (counter depth) are filled in per frame.
HEADER_FIELDS = (
    "MQ1,{frame:06d},00384,01,{width:04d},{height:04d},U16,   1x1,01,"
    "2021-03-18 15:{minute:02d}:{second:09.6f},1.000000,0,0,0,4.000000E+1,"
    "5.110000E+2,0.000000E+0,0.000000E+0,0.000000E+0,0.000000E+0,0.000000E+0,"
    "0.000000E+0,3RX,068,511,000,000,000,000,000,000,100,255,100,125,100,100,080,"
    "100,090,030,128,004,255,126,128,174,172,511,511,MQ1A,"
    "2021-03-18T14:{minute:02d}:{second:012.9f}Z,1000000ns,12,"
)
HEADER_SIZE = 384

HDR = """HDR,\t
Time and Date Stamp (day, mnth, yr, hr, min, s):\t18/03/2021 15:28:11
Chip ID:\tW559_G11, - , - , -
Chip Type (Medipix 3.0, Medipix 3.1, Medipix 3RX):\tMedipix 3RX
Assembly Size (NX1, 2X2):\t   1x1
Chip Mode  (SPM, CSM, CM, CSCM):\tSPM
Counter Depth (number):\t12
Gain:\tSLGM
Active Counters:\tCounter 0
Acquisition Type (Normal, Th_scan, Config):\tNormal
Frames in Acquisition (Number):\t{frames}
Frames per Trigger (Number):\t{per_line}
Trigger Start (Positive, Negative, Internal):\tRising Edge
Trigger Stop (Positive, Negative, Internal):\tInternal
Sensor Bias (V):\t120 V
Sensor Polarity (Positive, Negative):\tPositive
Readout System:\tMerlin Quad
Software Version:\t0.76.1.101
End\t
"""


def frame_header(index, width, height, dwell_s=1e-3):
    """The 384-byte header of frame ``index`` (0-based), a 1 ms dwell apart."""
    t = index * dwell_s
    text = HEADER_FIELDS.format(
        frame=index + 1,
        width=width,
        height=height,
        minute=int(t // 60) % 60,
        second=t % 60,
    )
    raw = text.encode("ascii")
    assert len(raw) <= HEADER_SIZE, len(raw)
    return raw.ljust(HEADER_SIZE, b"\0")


def write_mib(path, scan, detector, seed=0):
    """A ``scan x scan`` Merlin file of ``detector x detector`` big-endian uint16
    frames: a bright disc on a diffuse background with Poisson noise, one scan
    row at a time (memory: one row of frames)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    k = np.arange(detector) - detector / 2
    r = np.hypot(*np.meshgrid(k, k, indexing="ij"))
    mean = 2.0 + 400.0 * (r < detector / 16) + 30.0 * np.exp(-r / (detector / 6))
    frame = np.dtype(
        [("header", f"S{HEADER_SIZE}"), ("data", ">u2", (detector, detector))]
    )
    with open(path, "wb") as f:
        for row in range(scan):
            block = np.empty(scan, dtype=frame)
            block["header"] = [
                frame_header(row * scan + i, detector, detector) for i in range(scan)
            ]
            block["data"] = rng.poisson(mean, size=(scan, detector, detector))
            block.tofile(f)
    Path(path).with_suffix(".hdr").write_text(
        HDR.format(frames=scan * scan, per_line=scan)
    )
    return Path(path).stat().st_size


def run(path, case):
    """Child process: the lazy feature pipeline on ``path``; a JSON row."""
    import warnings

    import hyperspy.api as hs
    import numpy as np

    import hyperspy_manifold as hm

    warnings.simplefilter("ignore")
    sampler = AnonRSSSampler()
    sampler.start()
    t0 = time.perf_counter()
    if case == "default":
        s = hs.load(path, lazy=True)
    elif case == "load_scan":
        from hyperspy_manifold.cli import load_scan

        s = load_scan(path)
    elif case == "rechunk":
        from hyperspy_manifold.io import navigation_chunks

        s = hs.load(path, lazy=True)
        s.data = s.data.rechunk(navigation_chunks(s))
    else:
        from hyperspy_manifold.io import navigation_chunks

        s = hs.load(path, lazy=True)
        s = hs.load(path, lazy=True, chunks=navigation_chunks(s))
    chunks = [c[0] for c in s.data.chunks]
    c = hm.get_cepstrum(s, lazy_output=True, show_progressbar=False)
    ky = s.data.shape[-1]
    ring = c.get_ring_features(3, ky // 4, in_pixels=True, lazy_output=True)
    out = Path(path).with_name(f"features_{case}.zspy")
    ring.save(out, overwrite=True)
    shutil.rmtree(out)
    seconds = time.perf_counter() - t0
    return {
        "case": case,
        "chunks": "x".join(map(str, chunks)),
        "chunk_MB": s.data.dtype.itemsize * int(np.prod(chunks)) / 2**20,
        "time_s": seconds,
        "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_anon_rss_MB": sampler.stop(),
        "features": list(ring.data.shape),
    }


def child(path, case):
    return run_child(__file__, [path, case])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", type=int, default=128, help="patterns per side")
    parser.add_argument("--detector", type=int, default=256, help="pixels per side")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["default", "navigation_chunks", "load_scan", "rechunk"],
    )
    parser.add_argument(
        "--file", type=Path, help="an existing .mib to use instead (kept)"
    )
    parser.add_argument("--child", nargs=2, metavar=("PATH", "CASE"))
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(run(*args.child)), flush=True)
        return

    if args.file:
        rows = [child(args.file, case) for case in args.cases]
        for row in rows:
            print(row, flush=True)
        return
    size = args.scan**2 * (HEADER_SIZE + 2 * args.detector**2)
    free = shutil.disk_usage(args.dir).free
    if free < 2 * size:
        sys.exit(
            f"--dir {args.dir} has {free / 1e9:.1f} GB free; the file needs "
            f"{size / 1e9:.2f} GB (and as much again to spare)"
        )
    folder = Path(tempfile.mkdtemp(prefix="hm_mib_memory_", dir=args.dir))
    try:
        path = folder / "scan.mib"
        t0 = time.perf_counter()
        file_size = write_mib(path, args.scan, args.detector)
        print(
            f"wrote {path} ({file_size / 1e9:.2f} GB) in "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        rows = []
        for case in args.cases:
            row = child(path, case)
            row["file_GB"] = file_size / 1e9
            row["peak_rss_over_file"] = row["peak_rss_MB"] * 2**20 / file_size
            rows.append(row)
            print(row, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(f"mib_memory_{args.scan}x{args.detector}", rows)


if __name__ == "__main__":
    main()
