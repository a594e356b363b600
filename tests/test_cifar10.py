"""course_utils.cifar10: loading, download checks, safe extraction, augmentation, models,
training on a learnable synthetic dataset, seeded determinism and the command line."""

import hashlib
import io
import json
import pickle
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.cifar10 import (
    MEAN,
    OPTIMIZERS,
    STD,
    DownloadError,
    FastNet,
    ResNet18,
    TrainConfig,
    WarmupLinearLR,
    cutout,
    download,
    load_cifar10,
    normalize,
    random_crop,
    random_flip,
    read_batch,
    register_optimizer,
    safe_extract,
    synthetic_cifar10,
    train,
)
from course_utils.cifar10.data import md5sum
from course_utils.cifar10.distributed import GlobalBatchNorm2d, shard_bounds

ROOT = Path(__file__).resolve().parents[1]
NAMES = [
    b"airplane",
    b"automobile",
    b"bird",
    b"cat",
    b"deer",
    b"dog",
    b"frog",
    b"horse",
    b"ship",
    b"truck",
]


def _official_batch(n, rng):
    return {
        b"batch_label": b"testing batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def write_official(root, n=6, seed=0):
    """The official layout with ``n`` random images per batch; returns the batches."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _official_batch(n, rng)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=2))
    meta = {b"label_names": NAMES, b"num_vis": 3072, b"num_cases_per_batch": n}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def synthetic_data(n_train, n_test):
    return synthetic_cifar10(n_train, n_test, seed=0)


def test_synthetic_dataset_has_the_official_shapes_and_all_classes():
    data = synthetic_cifar10(300, 50, noise=10.0, seed=3)
    assert data.train_images.shape == (300, 3, 32, 32) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (50, 3, 32, 32) and data.test_labels.dtype == np.int64
    assert set(data.train_labels.tolist()) == set(range(10)) and len(data.classes) == 10
    red_horizontal = data.train_images[data.train_labels == 0][0].astype(int)
    rows, cols = red_horizontal[0].std(axis=1), red_horizontal[0].std(axis=0)
    assert rows.mean() < cols.mean()
    same = synthetic_cifar10(300, 50, noise=10.0, seed=3)
    assert np.array_equal(same.train_images, data.train_images)


@pytest.mark.parametrize("kwargs", [{"n_train": 0}, {"n_test": 2.5}, {"noise": -1.0}])
def test_synthetic_dataset_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="Invalid"):
        synthetic_cifar10(**{"n_train": 10, "n_test": 10, **kwargs})


# --- loading ------------------------------------------------------------------------------


def test_load_matches_official_layout(tmp_path):
    batches = write_official(tmp_path, n=4)
    data = load_cifar10(tmp_path)
    assert data.train_images.shape == (20, 3, 32, 32) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (4, 3, 32, 32)
    assert data.train_labels.dtype == np.int64
    assert data.classes[0] == "airplane" and data.classes[9] == "truck"
    row = batches["data_batch_2"][b"data"][1]
    image = data.train_images[4 + 1]
    for c, y, x in [(0, 0, 0), (1, 5, 7), (2, 31, 30), (0, 16, 3)]:
        assert image[c, y, x] == row[c * 1024 + y * 32 + x]
    assert data.test_labels.tolist() == batches["test_batch"][b"labels"]
    assert load_cifar10(tmp_path / "cifar-10-batches-py").train_images.shape == (20, 3, 32, 32)


def test_missing_directory_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as err:
        load_cifar10(tmp_path / "nowhere")
    assert "cifar-10-batches-py" in str(err.value) and "download" in str(err.value)


def test_missing_file_is_named(tmp_path):
    write_official(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_cifar10(tmp_path)


def test_corrupt_pickle(tmp_path):
    write_official(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a valid CIFAR-10 pickle"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, "N x 3072"),
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "2 integers"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "0..9"),
        ({b"labels": [0]}, "b'data'"),
    ],
)
def test_invalid_batch_contents(tmp_path, batch, message):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError, match=message):
        read_batch(path)


def test_normalize_by_hand():
    images = np.zeros((2, 3, 4, 4), np.uint8)
    images[0, 0, 1, 2] = 255
    images[1, 2, 3, 3] = 51
    x = normalize(images)
    assert x.dtype == torch.float32 and x.is_contiguous(memory_format=torch.channels_last)
    assert x[0, 0, 1, 2].item() == pytest.approx((1.0 - 0.4914) / 0.2470, rel=1e-6)
    assert x[1, 2, 3, 3].item() == pytest.approx((0.2 - 0.4465) / 0.2616, rel=1e-6)
    assert x[0, 1, 0, 0].item() == pytest.approx(-0.4822 / 0.2435, rel=1e-6)
    assert (MEAN, STD) == ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    with pytest.raises(ValueError, match="uint8"):
        normalize(np.zeros((1, 3, 4, 4), np.float32))


# --- download and extraction ----------------------------------------------------------------


def _tarball(path, members):
    """members: (name, bytes) for files, (name, ("symlink"|"hardlink", target)) for links."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type = tarfile.SYMTYPE if content[0] == "symlink" else tarfile.LNKTYPE
                info.linkname = content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


def test_md5sum_known_value(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    assert md5sum(tmp_path / "abc", chunk_size=2) == "900150983cd24fb0d6963f7d28e17f72"


def test_download_from_file_url_checks_md5_and_extracts(tmp_path):
    source = tmp_path / "source"
    write_official(source, n=3)
    members = sorted(p for p in source.rglob("*") if p.is_file())
    archive = _tarball(
        tmp_path / "c.tar.gz", [(str(p.relative_to(source)), p.read_bytes()) for p in members]
    )
    digest = hashlib.md5(archive.read_bytes()).hexdigest()
    target = tmp_path / "data"
    folder = download(target, url=archive.as_uri(), md5=digest, progress=False)
    assert folder == target / "cifar-10-batches-py"
    assert load_cifar10(target).train_images.shape == (15, 3, 32, 32)


def test_download_wrong_md5_stops_and_deletes(tmp_path):
    archive = _tarball(tmp_path / "c.tar.gz", [("cifar-10-batches-py/test_batch", b"x")])
    target = tmp_path / "data"
    with pytest.raises(DownloadError, match="Checksum mismatch") as err:
        download(target, url=archive.as_uri(), md5="0" * 32, progress=False)
    assert "cifar-10-batches-py" in str(err.value)
    assert list(target.iterdir()) == []


def test_download_offline_says_where_to_put_files(tmp_path):
    with pytest.raises(DownloadError, match="Could not download") as err:
        download(tmp_path, url="http://127.0.0.1:9/cifar.tar.gz", timeout=5, progress=False)
    assert "tar -xzf" in str(err.value)


@pytest.mark.parametrize(
    "member",
    [
        ("../evil.txt", b"evil"),
        ("ok/../../evil.txt", b"evil"),
        ("/tmp/evil_abs_cifar.txt", b"evil"),
        ("link", ("symlink", "../evil.txt")),
        ("hard", ("hardlink", "/etc/passwd")),
    ],
)
def test_safe_extract_rejects_escaping_members(tmp_path, member):
    archive = _tarball(tmp_path / "bad.tar.gz", [("good.txt", b"fine"), member])
    dest = tmp_path / "dest"
    with pytest.raises(ValueError, match="Unsafe"):
        safe_extract(archive, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert list(dest.iterdir()) == []


def test_safe_extract_accepts_plain_files(tmp_path):
    archive = _tarball(tmp_path / "ok.tar.gz", [("a/b.txt", b"hello")])
    safe_extract(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "a" / "b.txt").read_bytes() == b"hello"


# --- augmentation ---------------------------------------------------------------------------


def _batch(n=16, seed=0):
    return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("mode", ["reflect", "zeros"])
def test_crop_is_a_window_of_the_padded_image(mode):
    images = _batch()
    out = random_crop(images, 4, mode, torch.Generator().manual_seed(1))
    assert out.shape == images.shape and out.dtype == images.dtype
    np_mode = {"reflect": "reflect", "zeros": "constant"}[mode]
    padded = np.pad(images.numpy(), ((0, 0), (0, 0), (4, 4), (4, 4)), mode=np_mode)
    offsets = set()
    for n in range(len(images)):
        found = [
            (dy, dx)
            for dy in range(9)
            for dx in range(9)
            if np.array_equal(out[n].numpy(), padded[n, :, dy : dy + 32, dx : dx + 32])
        ]
        assert found, f"image {n} is not a window of its padded input"
        offsets.add(found[0])
    assert len(offsets) > 1


def test_flip_picks_image_or_mirror_and_undoes_itself():
    images = _batch(64)
    out = random_flip(images, torch.Generator().manual_seed(3))
    flipped = [not torch.equal(out[n], images[n]) for n in range(64)]
    for n in range(64):
        expected = images[n].numpy()[:, :, ::-1] if flipped[n] else images[n].numpy()
        assert np.array_equal(out[n].numpy(), expected)
    assert 10 < sum(flipped) < 54
    again = random_flip(out, torch.Generator().manual_seed(3))
    assert torch.equal(again, images)


def test_cutout_zeroes_one_clipped_square():
    images = torch.ones(32, 3, 32, 32)
    out = cutout(images, 8, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    for n in range(32):
        zero = (out[n] == 0).numpy()
        assert (zero == zero[0]).all()
        rows, cols = np.nonzero(zero[0].any(1))[0], np.nonzero(zero[0].any(0))[0]
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8
        assert zero[0].sum() == len(rows) * len(cols)
        assert np.array_equal(rows, np.arange(rows[0], rows[-1] + 1))
    assert torch.equal(cutout(images, 0), images)


# --- models and config ------------------------------------------------------------------------


def _conv_bn_params(cin, cout):
    return 9 * cin * cout + 2 * cout


def test_fastnet_parameter_count_and_output():
    w = 64
    expected = (
        _conv_bn_params(3, w)
        + _conv_bn_params(w, 2 * w)
        + 2 * _conv_bn_params(2 * w, 2 * w)
        + _conv_bn_params(2 * w, 4 * w)
        + _conv_bn_params(4 * w, 8 * w)
        + 2 * _conv_bn_params(8 * w, 8 * w)
        + 8 * w * 10
    )
    model = FastNet(width=w)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert FastNet(width=4)(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_resnet18_has_the_published_size():
    assert sum(p.numel() for p in ResNet18().parameters()) == 11_173_962


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lr", -0.1),
        ("epochs", 0),
        ("momentum", 1.0),
        ("optimizer", "lbfgs"),
        ("schedule", "nope"),
        ("label_smoothing", 1.5),
        ("width", 0),
        ("device", "tpu"),
    ],
)
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=f"Invalid {field}: {value!r}"):
        TrainConfig(**{field: value})


def test_warmup_linear_by_hand():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = WarmupLinearLR(opt, warmup_steps=2, total_steps=6)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(7):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0])


# --- training ---------------------------------------------------------------------------------


TINY = TrainConfig(epochs=1, batch_size=32, width=4, device="cpu", lr=0.05)


def _without_times(metrics):
    keep = {k: v for k, v in metrics.items() if k not in ("train_time_s", "images_per_s")}
    keep["epochs"] = [
        {k: v for k, v in e.items() if k not in ("epoch_time_s", "images_per_s")}
        for e in metrics["epochs"]
    ]
    return keep


def test_default_model_learns_synthetic_data():
    data = synthetic_data(2000, 500)
    config = TrainConfig(epochs=3, batch_size=128, width=8, lr=0.1, device="cpu")
    metrics = train(config, data)
    assert metrics["final_test_accuracy"] >= 0.9, metrics["epochs"]
    assert metrics["epochs"][-1]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_seeded_runs_are_identical_and_seeds_differ():
    data = synthetic_data(200, 64)
    config = replace(TINY, epochs=2, cutout=8)
    first, second = train(config, data), train(config, data)
    assert _without_times(first) == _without_times(second)
    other = train(replace(config, seed=1), data)
    assert other["epochs"][0]["train_loss"] != first["epochs"][0]["train_loss"]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_runs(name):
    lr = 0.05 if name in ("sgd", "adagrad") else 1e-3
    metrics = train(replace(TINY, optimizer=name, lr=lr, limit_train=64), synthetic_data(64, 16))
    assert np.isfinite(metrics["epochs"][0]["train_loss"])


def test_registered_optimizer_is_used():
    calls = []

    def plain_sgd(params, *, lr, momentum, weight_decay):
        calls.append(lr)
        return torch.optim.SGD(params, lr=lr)

    register_optimizer("test_plain_sgd", plain_sgd, overwrite=True)
    try:
        train(replace(TINY, optimizer="test_plain_sgd", limit_train=32), synthetic_data(32, 8))
        assert calls == [TINY.lr]
        with pytest.raises(ValueError, match="exists"):
            register_optimizer("test_plain_sgd", plain_sgd)
    finally:
        del OPTIMIZERS["test_plain_sgd"]


def test_cli_train_writes_metrics_and_plot(tmp_path):
    write_official(tmp_path / "data", n=16)
    out = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils.cifar10",
            "train",
            "--data-dir",
            str(tmp_path / "data"),
            "--epochs",
            "2",
            "--batch-size",
            "16",
            "--width",
            "4",
            "--device",
            "cpu",
            "--schedule",
            "onecycle",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    assert metrics["config"]["schedule"] == "onecycle" and metrics["train_size"] == 80
    assert all(e["images_per_s"] > 0 for e in metrics["epochs"])
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_missing_data(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils.cifar10",
            "train",
            "--data-dir",
            str(tmp_path / "none"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "cifar-10-batches-py" in result.stderr


# --- data parallel under torchrun ---------------------------------------------------------


@pytest.mark.parametrize("batch_size, world_size", [(16, 2), (17, 2), (1, 2), (10, 3), (5, 8)])
def test_shards_tile_the_batch_and_differ_by_at_most_one(batch_size, world_size):
    bounds = [shard_bounds(batch_size, r, world_size) for r in range(world_size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == batch_size
    assert all(stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:], strict=False))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_global_batchnorm_without_a_process_group_is_batchnorm():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 5, 5, requires_grad=True)
    ours, ref = GlobalBatchNorm2d(3), torch.nn.BatchNorm2d(3)
    ours.load_state_dict(ref.state_dict())
    ours(x).square().sum().backward()
    grad, x.grad = x.grad.clone(), None
    ref(x).square().sum().backward()
    torch.testing.assert_close(grad, x.grad)
    torch.testing.assert_close(ours.running_var, ref.running_var)


def _torchrun_train(tmp_path, out, nproc, **extra):
    """The CLI on the test data, under torchrun with ``nproc`` processes (0: no torchrun)."""
    launcher = [sys.executable, "-m"]
    if nproc:
        launcher += ["torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m"]
    options = {
        "--data-dir": tmp_path / "data",
        "--out": out,
        "--epochs": 2,
        "--batch-size": 16,
        "--width": 4,
        "--lr": 0.1,
        "--device": "cpu",
        "--seed": 3,
        "--dtype": "float64",
        **extra,
    }
    args = [str(v) for item in options.items() for v in item]
    result = subprocess.run(
        [*launcher, "course_utils.cifar10", "train", *args, "--save-model"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics, torch.load(out / "model.pt")


def test_two_gloo_processes_equal_one_process_on_the_same_global_batches(tmp_path):
    """torchrun with two CPU processes (gloo) gives the single process's run.

    In float64, so that rounding cannot flip a max-pooling choice (float32 runs that sum
    in a different order can drift apart that way). 65 images in batches of 16 make the
    last global batch a single image: one rank's shard is empty there.
    """
    write_official(tmp_path / "data", n=13, seed=5)
    one, weights_one = _torchrun_train(tmp_path, tmp_path / "one", 0)
    two, weights_two = _torchrun_train(tmp_path, tmp_path / "two", 2)
    assert one["world_size"] == 1 and two["world_size"] == 2
    for a, b in zip(one["epochs"], two["epochs"], strict=True):
        for key in ("train_loss", "test_loss", "lr", "train_accuracy", "test_accuracy"):
            assert b[key] == pytest.approx(a[key], rel=1e-9), key
    assert weights_one.keys() == weights_two.keys()
    for name, w in weights_one.items():
        if w.is_floating_point():
            assert w.dtype == torch.float64
            torch.testing.assert_close(weights_two[name], w, rtol=1e-8, atol=1e-10, msg=name)
        else:
            assert torch.equal(weights_two[name], w), name
