"""CIFAR-10: download, verify, extract safely, load the official python batches.

The official "python version" is a tarball holding ``cifar-10-batches-py/`` with
``data_batch_1`` .. ``data_batch_5`` (10,000 training images each), ``test_batch``
(10,000 test images) and ``batches.meta``. Each batch is a pickled dict: ``b"data"`` is an
``N x 3072`` uint8 array whose rows are one image in channel-major order (1024 red, 1024
green, then 1024 blue values of a 32 x 32 image, row by row), ``b"labels"`` holds ``N``
integers in ``0..9``; ``batches.meta`` holds ``b"label_names"``.

Images are kept as ``N x 3 x 32 x 32`` uint8 arrays (NCHW); :data:`MEAN` and :data:`STD`
are the per-channel statistics of the training images (values in [0, 1]).
"""

import hashlib
import pickle
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
NUM_CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)


class DownloadError(RuntimeError):
    """The archive could not be fetched, or its checksum is wrong."""


def _where_to_put(data_dir):
    return (
        f"Put the official python version of CIFAR-10 in {Path(data_dir) / FOLDER}/ "
        f"(files {', '.join(TRAIN_FILES)}, {TEST_FILE}, {META_FILE}): download {URL} "
        f"(md5 {MD5}) and run `tar -xzf {ARCHIVE_NAME} -C {data_dir}`, or run "
        f"`python -m course_helpers.cifar10 download --data-dir {data_dir}` on a machine "
        "with internet access."
    )


@dataclass(frozen=True)
class CIFAR10:
    """The dataset in memory: uint8 images ``N x 3 x 32 x 32`` and int64 labels ``N``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple


PALETTE = np.array(
    [[230, 40, 40], [40, 200, 40], [40, 60, 230], [230, 210, 40], [200, 40, 210]], dtype=float
)


def _synthetic_split(n, noise, rng):
    labels = rng.integers(0, NUM_CLASSES, n)
    images = rng.normal(128.0, noise, (n, *IMAGE_SHAPE))
    coord = np.arange(32)
    for i, k in enumerate(labels):
        stripes = ((coord + rng.integers(0, 8)) // 4) % 2 == 0
        mask = np.broadcast_to(stripes[:, None] if k < 5 else stripes[None, :], (32, 32))
        images[i][:, mask] = PALETTE[k % 5][:, None] + rng.normal(0.0, noise, (3, mask.sum()))
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def synthetic_cifar10(n_train=5000, n_test=1000, *, noise=40.0, seed=0):
    """A learnable CIFAR-shaped dataset for offline runs: coloured stripes on noise.

    Class ``k`` has stripes 4 pixels wide in colour ``k mod 5``, horizontal for ``k < 5``
    and vertical otherwise, at a random phase; background and stripes carry Gaussian noise
    of standard deviation ``noise`` (grey levels). Larger ``noise`` makes it harder: with
    40 a small CNN reaches about 100% in a few epochs, with 200 the colours blur and the
    classes overlap. Same shapes and dtypes as :func:`load_cifar10`.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"Invalid {name}: {value!r} ({name} must be an integer >= 1)")
    if not (isinstance(noise, int | float) and noise >= 0 and np.isfinite(noise)):
        raise ValueError(f"Invalid noise: {noise!r} (noise must be a finite number >= 0)")
    rng = np.random.default_rng(seed)
    train = _synthetic_split(n_train, noise, rng)
    test = _synthetic_split(n_test, noise, rng)
    return CIFAR10(
        *train,
        *test,
        classes=tuple(
            f"{c}-{o}"
            for o in ("horizontal", "vertical")
            for c in ("red", "green", "blue", "yellow", "purple")
        ),
    )


def batches_dir(data_dir):
    """The folder holding the batch files: ``data_dir/cifar-10-batches-py`` or ``data_dir``.

    Raises FileNotFoundError, saying where to put the files, when neither holds them.
    """
    data_dir = Path(data_dir)
    for candidate in (data_dir / FOLDER, data_dir):
        if (candidate / TEST_FILE).is_file():
            return candidate
    if not data_dir.is_dir():
        raise FileNotFoundError(
            f"CIFAR-10 data directory {data_dir} does not exist. " + (_where_to_put(data_dir))
        )
    raise FileNotFoundError(
        f"No CIFAR-10 batches found in {data_dir} or {data_dir / FOLDER}. "
        + _where_to_put(data_dir)
    )


def _unpickle(path):
    """Read one official pickle.

    ``pickle`` can run arbitrary code while loading; these files are the official dataset
    the user downloaded (checked against its md5 by :func:`download`), so they are
    trusted. Do not point this at files of unknown origin.
    """
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Missing CIFAR-10 file {path}. " + _where_to_put(Path(path).parent.parent)
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise ValueError(
            f"{path} is not a valid CIFAR-10 pickle ({type(err).__name__}: {err}); "
            "delete the folder and extract the official archive again"
        ) from err


def read_batch(path):
    """One batch file as ``(images, labels)``: uint8 ``N x 3 x 32 x 32`` and int64 ``N``.

    Raises ValueError when the pickle is corrupt or its arrays have the wrong keys,
    shapes, dtypes or label values.
    """
    batch = _unpickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(
            f"{path} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels'"
        )
    data = batch[b"data"]
    if not (
        isinstance(data, np.ndarray)
        and data.dtype == np.uint8
        and data.ndim == 2
        and data.shape[1] == 3 * 32 * 32
    ):
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise ValueError(
            f"{path}: b'data' must be an N x 3072 uint8 array, got shape {shape} and dtype {dtype}"
        )
    labels = np.asarray(batch[b"labels"])
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{path}: b'labels' must hold {data.shape[0]} integers, got shape "
            f"{labels.shape} and dtype {labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(
            f"{path}: labels must be in 0..{NUM_CLASSES - 1}, got {labels.min()}..{labels.max()}"
        )
    return data.reshape(-1, *IMAGE_SHAPE), labels.astype(np.int64)


def load_cifar10(data_dir):
    """Load the five training batches, the test batch and the class names from ``data_dir``.

    ``data_dir`` is the folder that holds ``cifar-10-batches-py/`` (or that folder itself).
    Raises FileNotFoundError (saying where to put the files and how to download them) when
    a file is missing, ValueError when one is corrupt.
    """
    folder = batches_dir(data_dir)
    train = [read_batch(folder / name) for name in TRAIN_FILES]
    test_images, test_labels = read_batch(folder / TEST_FILE)
    meta = _unpickle(folder / META_FILE)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not (isinstance(names, list | tuple) and len(names) == NUM_CLASSES):
        raise ValueError(f"{folder / META_FILE}: b'label_names' must list {NUM_CLASSES} names")
    classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    return CIFAR10(
        train_images=np.concatenate([images for images, _ in train]),
        train_labels=np.concatenate([labels for _, labels in train]),
        test_images=test_images,
        test_labels=test_labels,
        classes=classes,
    )


def md5sum(path, chunk_size=1 << 20):
    """Hex md5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _checked_members(tar, dest):
    """The members of ``tar``, refusing anything that is not a plain file or folder inside
    ``dest``: absolute names, ``..`` components, links and device files raise ValueError."""
    dest = dest.resolve()
    members = tar.getmembers()
    for member in members:
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts:
            raise ValueError(f"Unsafe path in archive: {member.name!r}")
        if not (member.isfile() or member.isdir()):
            raise ValueError(f"Unsafe member in archive: {member.name!r} is a link or special file")
        if not (dest / name).resolve().is_relative_to(dest):
            raise ValueError(f"Unsafe path in archive: {member.name!r} leaves {dest}")
    return members


def safe_extract(archive, dest):
    """Extract a tar archive into ``dest`` after checking every member.

    Only regular files and folders whose paths stay inside ``dest`` are accepted (checked
    here before anything is written); tarfile's ``"data"`` filter is applied on top where
    this Python has it. Raises ValueError for an unsafe archive, writing nothing.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = _checked_members(tar, dest)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:
            tar.extractall(dest, members=members)


def _fetch(url, path, timeout, progress):
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=timeout) as response, open(path, "wb") as f:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=ARCHIVE_NAME, disable=not progress
        ) as bar:
            while chunk := response.read(1 << 20):
                f.write(chunk)
                bar.update(len(chunk))


def download(data_dir, url=URL, md5=MD5, timeout=60.0, progress=True):
    """Fetch the official archive into ``data_dir``, check its md5, extract it safely.

    Skips the download when ``data_dir`` already holds the batches, and the fetch when a
    complete archive with the right md5 is already there. Returns the batch folder.
    Raises DownloadError (saying where to put the files by hand) when offline or when the
    checksum differs; a download with a wrong checksum is deleted.
    """
    data_dir = Path(data_dir)
    try:
        return batches_dir(data_dir)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    archive = data_dir / ARCHIVE_NAME
    if not (archive.is_file() and md5sum(archive) == md5):
        partial = archive.with_name(ARCHIVE_NAME + ".part")
        try:
            _fetch(url, partial, timeout, progress)
        except (urllib.error.URLError, OSError) as err:
            partial.unlink(missing_ok=True)
            raise DownloadError(
                f"Could not download {url}: {err}. " + _where_to_put(data_dir)
            ) from err
        actual = md5sum(partial)
        if actual != md5:
            partial.unlink()
            raise DownloadError(
                f"Checksum mismatch for {url}: md5 {actual}, expected {md5}. "
                + _where_to_put(data_dir)
            )
        partial.replace(archive)
    safe_extract(archive, data_dir)
    return batches_dir(data_dir)
