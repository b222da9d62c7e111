"""Sample codecs: the extension of a field's name picks the codec both ways (`.png`/`.jpg` images through OpenCV,
`.npy` arrays through `np.save` without pickle, `.json` metadata)."""

import io
import json

import cv2
import numpy as np


def encode_field(name: str, value) -> bytes:
    """Encode one sample field by the extension of its name."""
    ext = name.rsplit(".", 1)[-1]
    if ext == "png":
        ok, buf = cv2.imencode(".png", value, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    elif ext == "jpg":
        ok, buf = cv2.imencode(".jpg", value, [cv2.IMWRITE_JPEG_QUALITY, 95])
    elif ext == "npy":
        out = io.BytesIO()
        np.save(out, np.ascontiguousarray(value), allow_pickle=False)
        return out.getvalue()
    elif ext == "json":
        return json.dumps(value, sort_keys=True).encode()
    else:
        raise ValueError(f"no encoder for sample field {name!r}")
    if not ok:
        raise ValueError(f"OpenCV could not encode sample field {name!r}")
    return buf.tobytes()


_NPY_HEADERS: dict[bytes, tuple[tuple[int, ...], bool, np.dtype]] = {}


def encode_sample(sample: dict) -> dict:
    """A sample with every field encoded to bytes (`__key__` kept), ready for `ShardSet.write_encoded`."""
    key = sample["__key__"]
    if "." in key or "/" in key:
        raise ValueError(f"sample key {key!r} must not contain '.' or '/'")
    return {"__key__": key} | {k: encode_field(k, v) for k, v in sample.items() if k != "__key__"}


def decode_npy(data: bytes) -> np.ndarray:
    """`np.load` for .npy bytes, parsing each distinct header once (the samples of a split share a few)."""
    if data[:6] != b"\x93NUMPY" or data[6] != 1:
        return np.load(io.BytesIO(data), allow_pickle=False)  # other format versions: the general path
    end = 10 + int.from_bytes(data[8:10], "little")
    spec = _NPY_HEADERS.get(data[:end])
    if spec is None:
        header = io.BytesIO(data[:end])
        header.seek(8)  # past the magic string and version
        spec = _NPY_HEADERS.setdefault(data[:end], np.lib.format.read_array_header_1_0(header))
    shape, fortran_order, dtype = spec
    if dtype.hasobject:
        raise ValueError("object arrays are not allowed in shards")
    array = np.frombuffer(data, dtype, offset=end).reshape(shape, order="F" if fortran_order else "C")
    return array.copy()  # writable and independent of the sample's bytes


def decode_field(name: str, data: bytes):
    """Decode one sample field by the extension of its name; unknown extensions stay bytes."""
    ext = name.rsplit(".", 1)[-1]
    if ext in ("png", "jpg", "jpeg"):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise ValueError(f"corrupt image in sample field {name!r}")
        return image
    if ext == "npy":
        return decode_npy(data)
    if ext == "json":
        return json.loads(data)
    return data


def decode_sample(sample: dict) -> dict:
    """Decode every field of a raw webdataset sample; `__key__` and `__url__` pass through."""
    return {k: (v if k.startswith("__") else decode_field(k, v)) for k, v in sample.items()}
