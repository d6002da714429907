"""Reads the frontend's state files (frontend/nn/serialize.h) in Python, for the tests that load
our parameters into PyTorch: "CRTDSTAT", version and entry count (uint32 LE), then per entry the
name (uint32 length + UTF-8) and a complete .npy image (uint64 length + bytes)."""
import io
import struct

import numpy as np


def read_state(path):
    """The entries of a state file as {name: numpy array}."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:8] == b'CRTDSTAT', f'{path}: bad magic'
    version, count = struct.unpack_from('<II', data, 8)
    assert version == 1, f'{path}: version {version}'
    pos, entries = 16, {}
    for _ in range(count):
        (name_len,) = struct.unpack_from('<I', data, pos)
        pos += 4
        name = data[pos:pos + name_len].decode('utf-8')
        pos += name_len
        (npy_len,) = struct.unpack_from('<Q', data, pos)
        pos += 8
        entries[name] = np.load(io.BytesIO(data[pos:pos + npy_len]), allow_pickle=False)
        pos += npy_len
    assert pos == len(data), f'{path}: {len(data) - pos} trailing bytes'
    return entries
