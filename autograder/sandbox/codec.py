"""Plain-data codec for messages between the grader and the child that runs student code.

Only JSON crosses the pipe. Values that JSON cannot hold are tagged objects:

- ``{"__ndarray__": <base64 of .npy bytes>}``: a NumPy array, read back with
  ``np.load(..., allow_pickle=False)`` so no object array (and no pickle) can cross;
- ``{"__float__": "nan" | "inf" | "-inf"}``: a non-finite float;
- ``{"__tuple__": [...]}``: a tuple.

Decoding never executes anything: ``json.loads`` builds dicts, lists, strings, numbers,
booleans and None, and the hook above only turns tagged dicts into arrays, floats and
tuples. This module is imported by both sides and needs only the standard library and
NumPy (imported on first use, so a child that never sends an array never imports it).
"""

import base64
import io
import json
import math
import os
import select
import struct
import sys
import time

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">Q")


class CodecError(ValueError):
    """A value cannot be sent as plain data, or a message is malformed."""


class TooLarge(CodecError):
    """A message is larger than the reader's limit."""


def _np():
    import numpy

    return numpy


def to_plain(value, _depth=0):
    """Turn ``value`` into JSON-able data, or raise CodecError naming what is not plain."""
    if _depth > 64:
        raise CodecError("value is nested more than 64 levels deep")
    if value is None or type(value) is bool or type(value) is str:
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, (list, tuple)):
        items = [to_plain(v, _depth + 1) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise CodecError(f"dict keys must be str, got {type(key).__name__}")
            if key.startswith("__") and key.endswith("__"):
                raise CodecError(f"dict key {key!r} is reserved")
            out[key] = to_plain(item, _depth + 1)
        return out
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        value = value.numpy()
    if "numpy" in sys.modules:
        np = sys.modules["numpy"]
        if isinstance(value, np.generic):
            value = np.asarray(value)
        if isinstance(value, np.ndarray):
            array = np.asarray(value, order="C")
            if array.dtype.kind not in "biufc":
                raise CodecError(f"arrays must be numeric, got dtype {array.dtype}")
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii")}
    # Plain numbers of other types (e.g. subclasses) are converted by value.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return to_plain(float(value))
    raise CodecError(f"cannot send a value of type {type(value).__name__} as plain data")


def _hook(obj):
    if len(obj) == 1:
        if "__ndarray__" in obj:
            data = base64.b64decode(obj["__ndarray__"], validate=True)
            array = _load_array(data)
            if array.dtype.kind not in "biufc":
                raise CodecError(f"array of dtype {array.dtype} is not numeric")
            return array
        if "__float__" in obj:
            text = obj["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise CodecError(f"bad non-finite float tag {text!r}")
            return float(text)
        if "__tuple__" in obj:
            if not isinstance(obj["__tuple__"], list):
                raise CodecError("bad tuple tag")
            return tuple(obj["__tuple__"])
    return obj


def _load_array(data):
    """An array from .npy bytes whose header must describe exactly the data that follows
    (a forged header cannot make the reader allocate more than it was sent)."""
    np = _np()
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise CodecError(f"unsupported .npy version {version}")
    if dtype.kind not in "biufc" or dtype.hasobject:
        raise CodecError(f"array of dtype {dtype} is not numeric")
    count = 1
    for n in shape:
        count *= int(n)
    if count * dtype.itemsize != len(data) - stream.tell():
        raise CodecError(f"array header of shape {shape} does not match its {len(data)} bytes")
    return np.load(io.BytesIO(data), allow_pickle=False)


def from_plain_json(text):
    """Decode a JSON message written by :func:`write_message`."""
    try:
        return json.loads(text, object_hook=_hook)
    except (ValueError, TypeError, RecursionError, EOFError, OSError, MemoryError) as exc:
        raise CodecError(f"malformed message: {type(exc).__name__}: {str(exc)[:200]}") from None


def write_message(fd, value, *, already_plain=False, deadline=None):
    """Write ``value`` as one length-prefixed JSON message to the file descriptor ``fd``.

    With a ``deadline`` (a ``time.monotonic()`` value; ``fd`` should then be
    non-blocking) it raises TimeoutError when the reader stops reading, instead of
    blocking forever on a full pipe.
    """
    plain = value if already_plain else to_plain(value)
    data = json.dumps(plain, allow_nan=False, separators=(",", ":")).encode("utf-8")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                raise TimeoutError("the other side stopped reading")
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue


def read_message(fd, deadline=None, limit=MAX_MESSAGE_BYTES):
    """Read one length-prefixed message of at most ``limit`` bytes from ``fd``.

    Raises EOFError when the other side closed the channel, TimeoutError when
    ``deadline`` (a ``time.monotonic()`` value) passes first and TooLarge (before
    reading it) when the message is over ``limit``.
    """
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if size > limit:
        raise TooLarge(f"an answer of {size} bytes, over the limit of {limit} bytes")
    data = _read_exact(fd, size, deadline)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(f"message is not UTF-8: {exc}") from None
    return from_plain_json(text)


def read_line(fd, deadline, limit):
    """Read one line of at most ``limit`` bytes (without its newline) from ``fd``."""
    data = b""
    while not data.endswith(b"\n"):
        if len(data) > limit:
            raise CodecError("line too long")
        data += _read_exact(fd, 1, deadline)
    return data[:-1].decode("ascii", "replace")


def _read_exact(fd, size, deadline):
    chunks = []
    while size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError("no answer before the deadline")
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
