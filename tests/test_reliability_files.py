"""Files that would load wrong or slowly: chunks sized by bytes, a ``.zspy`` with a
chunk file missing, a file whose extension lies (issue 13, item 11)."""

import math
import shutil
import time

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from conftest import DATA

from hyperspy_manifold import cli
from hyperspy_manifold.io import (
    TARGET_CHUNK_BYTES,
    check_file_format,
    check_scan_file,
    check_zarr_chunks,
    navigation_chunks,
)

MERLIN = DATA / "merlin_4x2" / "001_4x2_6bit.mib"
BLOCKFILE = DATA / "nanomegas_test1.blo"


# ------------------------------------------------------------- chunks by bytes


@pytest.mark.parametrize(
    "shape, dtype",
    [
        ((128, 128, 256, 256), ">u2"),  # Merlin 12-bit, 2.15 GB
        ((512, 512, 256, 256), ">u4"),  # Merlin 24-bit, 69 GB
        ((4096, 4096, 64, 64), "uint8"),  # fast camera, many small patterns
        ((1000, 515, 128, 128), "float32"),  # awkward scan width
        ((300_000, 96, 96), "uint16"),  # a 1D stack of frames
        ((64, 64, 2048, 2048), "float64"),  # one pattern over the target
    ],
)
def test_navigation_chunks_are_about_the_target_size(shape, dtype):
    chunks = navigation_chunks(shape, dtype)
    nav = len(shape) - 2
    assert chunks[nav:] == (-1, -1)  # signal axes whole
    assert all(1 <= c <= n for c, n in zip(chunks[:nav], shape))
    normalized = da.core.normalize_chunks(chunks, shape, dtype=dtype)
    pattern_bytes = np.dtype(dtype).itemsize * math.prod(shape[nav:])
    largest = pattern_bytes * math.prod(max(c) for c in normalized[:nav])
    if pattern_bytes >= TARGET_CHUNK_BYTES:
        assert largest == pattern_bytes  # one pattern per chunk, never split
    else:
        assert TARGET_CHUNK_BYTES / 2 < largest <= TARGET_CHUNK_BYTES
    # whole scan rows first: a chunk of a memory-mapped file is one contiguous read
    if chunks[nav - 1] < shape[nav - 1]:
        assert all(c == 1 for c in chunks[: nav - 1])


def test_navigation_chunks_of_a_small_scan_is_one_chunk():
    assert navigation_chunks((2, 4, 256, 256), "uint8") == (2, 4, -1, -1)


def test_navigation_chunks_target_and_signal():
    s = hs.load(MERLIN, lazy=True)
    # 8 patterns of 64 kB: a 150 kB target holds two of them, whole rows first
    assert navigation_chunks(s, target_bytes=150_000) == (1, 2, -1, -1)
    s = hs.load(MERLIN, lazy=True, chunks=navigation_chunks(s, target_bytes=150_000))
    assert s.data.chunks == ((1, 1), (2, 2), (256,), (256,))
    assert np.array_equal(s.data.compute(), hs.load(MERLIN).data)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"data": (4, 4, 8, 8)}, TypeError, "`dtype` is required"),
        (
            {"data": (4, 8, 8), "dtype": "uint8", "signal_dimension": 4},
            ValueError,
            "`signal_dimension` must be between 0 and 3",
        ),
        (
            {"data": (4, 8, 8), "dtype": "uint8", "target_bytes": 0},
            ValueError,
            "`target_bytes` must be positive",
        ),
    ],
)
def test_navigation_chunks_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        navigation_chunks(**kwargs)


def test_load_scan_chunks_by_bytes(monkeypatch):
    """The CLI's loader splits the scan by bytes, detector axes whole (it used
    rosettasciio's chunks, which split the detector of a large .mib)."""
    monkeypatch.setattr("hyperspy_manifold.io.TARGET_CHUNK_BYTES", 150_000)
    s = cli.load_scan(MERLIN)
    assert s.data.chunks == ((1, 1), (2, 2), (256,), (256,))
    assert np.array_equal(s.data.compute(), hs.load(MERLIN).data)


# ------------------------------------------------------------ damaged .zspy


@pytest.fixture
def zspy(tmp_path):
    """A 4 x 6 scan of 8 x 8 patterns in 2 x 3 navigation chunks, saved as .zspy."""
    data = np.arange(4 * 6 * 8 * 8, dtype=np.uint16).reshape(4, 6, 8, 8) % 997 + 1
    s = hs.signals.Signal2D(data).as_lazy()
    s.data = s.data.rechunk((2, 3, 8, 8))
    path = tmp_path / "scan.zspy"
    s.save(path)
    return path, data


def _chunk_file(path, key):
    return path / "Experiments" / "__unnamed__" / "data" / key.replace(".", "/")


def test_zarr_reads_a_missing_chunk_as_zeros(zspy):
    """The premise: without a check, a deleted chunk file loads as zeros."""
    path, data = zspy
    _chunk_file(path, "1.0.0.0").unlink()
    loaded = hs.load(path, lazy=True).data.compute()
    assert (loaded[2:4, 0:3] == 0).all()
    assert np.array_equal(loaded[:2], data[:2])


def test_missing_chunk_is_an_error(zspy):
    path, _ = zspy
    check_zarr_chunks(path)  # intact: no error
    _chunk_file(path, "1.0.0.0").unlink()
    with pytest.raises(
        OSError,
        match=r"scan\.zspy is damaged: 1 of 4 chunk.*data/1/0/0/0', chunk \(1, 0, 0, 0\)",
    ):
        check_zarr_chunks(path)
    with pytest.raises(
        cli.CLIError, match=r"cannot read scan\.zspy: .*missing.*read them as 0"
    ):
        cli.load_scan(path)


def test_missing_chunk_in_a_zipped_zspy(tmp_path, zspy):
    path, _ = zspy
    _chunk_file(path, "0.1.0.0").unlink()
    archive = shutil.make_archive(str(tmp_path / "zipped"), "zip", root_dir=path)
    zipped = tmp_path / "zipped.zspy"
    shutil.move(archive, zipped)
    with pytest.raises(OSError, match=r"zipped\.zspy is damaged.*data/0/1/0/0'"):
        check_scan_file(zipped)


# ------------------------------------------------------ extension that lies


@pytest.mark.parametrize(
    "source, name, match",
    [
        (
            MERLIN,
            "scan.blo",
            r"scan\.blo is a Quantum Detectors Merlin file.*scan\.mib",
        ),
        (BLOCKFILE, "scan.mib", r"scan\.mib is a NanoMegas blockfile.*scan\.blo"),
        (
            DATA / "topspin_test_B.app5",
            "scan.mib",
            r"scan\.mib is an HDF5 file.*scan\.hspy",
        ),
    ],
)
def test_extension_that_lies_fails_at_once(tmp_path, source, name, match):
    path = tmp_path / name
    shutil.copy(source, path)
    with pytest.raises(ValueError, match=match):
        check_file_format(path)
    t0 = time.perf_counter()
    with pytest.raises(cli.CLIError, match=f"cannot read {name}: {match}"):
        cli.load_scan(path)
    assert time.perf_counter() - t0 < 2


def test_extension_without_its_signature(tmp_path):
    path = tmp_path / "noise.blo"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(
        ValueError, match=r"noise\.blo is not a NanoMegas blockfile.*b'IMGBLO'"
    ):
        check_file_format(path)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md"),
    ids=lambda p: p.name,
)
def test_real_files_pass_the_checks(path):
    check_scan_file(path)
