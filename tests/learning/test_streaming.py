"""Streaming training: lazily read runs and a window store on disk give the in-memory results with bounded memory."""

import dataclasses
import gc

import numpy as np
import pytest
import torch

from learned_actuators.data.joint_log import JointLog
from learned_actuators.data.lazy_runs import LazyRuns
from learned_actuators.data.splits import slice_log
from learned_actuators.data.torque_profile import read_torque_profile_npz
from learned_actuators.errors import UserInputError
from learned_actuators.learning import train
from learned_actuators.learning.data_cfg import check_data_cfg
from learned_actuators.learning.data_loading import load_data, splits_of
from learned_actuators.learning.features import loss_mask
from learned_actuators.learning.rollout import load_of
from learned_actuators.learning.run_passes import frame_sample
from learned_actuators.learning.trainer import prepare_training
from learned_actuators.learning.window_store import FrameArray, StoreFolder
from learned_actuators.learning.windows import TrainingWindows
from tests.learning.conftest import make_runs, quick_cfg
from tests.learning.streaming_data import data_cfg, stream_cfg, write_profiles

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    return write_profiles(tmp_path_factory.mktemp("profiles"))


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.net.parameters()])


@pytest.mark.parametrize("fit_frames", [2_000_000, 500])
def test_streaming_trains_the_same_net_as_in_memory(profiles, tmp_path, fit_frames):
    cfg = stream_cfg("gru_pd", val_ratio=0.3, augment_mirror=True, max_epochs=3, fit_frames=fit_frames)
    cfg.physics = dataclasses.replace(cfg.physics, fit=True)
    memory_runs, lazy_runs = load_data(data_cfg(profiles, False)), load_data(data_cfg(profiles, True))
    assert isinstance(lazy_runs, LazyRuns) and len(lazy_runs) == len(memory_runs) == 6
    in_memory = train(cfg, memory_runs)
    streamed = train(cfg, lazy_runs, run_dir=tmp_path / "run")
    assert torch.equal(_weights(in_memory.model), _weights(streamed.model))
    assert in_memory.history == streamed.history
    assert in_memory.model.physics == streamed.model.physics
    for split in ("train", "val"):
        for key, value in in_memory.metrics[split].items():
            assert streamed.metrics[split][key] == pytest.approx(value, rel=1e-9)
    assert streamed.model.info["torque_scale"] == in_memory.model.info["torque_scale"]
    assert not (tmp_path / "run" / "streaming_store").exists()  # removed once the run finished


def _reference_windows(model, logs, cfg):
    """Every window as the trainer cut them before the store (stacked copies of overlapping frames)."""
    kind, dt = model.kind, model.dt
    length = kind.window_steps(cfg, dt)
    stride = max(1, round((cfg.stride_s or cfg.seq_len_s / 2) / dt)) if kind.recurrent else 1
    burn = round(cfg.burn_in_s / dt) if kind.recurrent else 0
    out = []
    for log in logs:
        x = model.input_norm.apply(model.raw_inputs(log))
        m = loss_mask(log)
        y = np.where(m, model.output_norm.apply(model.target(log)[:, None])[:, 0], 0.0)
        raw = np.stack([log.q[:, 0], log.qd[:, 0], log.q_target[:, 0]], axis=-1)
        kp = model.run_params(log).kp if kind.uses_physics else 0.0
        if kind.rollout_loss(cfg):  # the command: no target velocity or feed-forward logged, the run's gains
            command = np.stack(np.broadcast_arrays(0.0, 0.0, kp, model.physics.kd, log.q[:, 0])[:4], axis=-1)
            raw = np.concatenate([raw, command], axis=1)
        scal = (kp, *(load_of(log) if kind.rollout_loss(cfg) else (1.0, 0.0)))
        if not kind.recurrent:
            out += [(x[i], y[i], True, raw[i], scal) for i in np.flatnonzero(m)]
            continue
        n, win = len(log), min(length, len(log))
        starts = list(range(0, n - win + 1, stride))
        starts += [n - win] if starts[-1] != n - win else []
        for s in starts:
            mm = m[s : s + win].copy()
            mm[:burn] = False
            if mm.any():
                pad = length - win
                padded = [np.concatenate([a[s : s + win], np.zeros((pad, *a.shape[1:]))]) for a in (x, y, raw)]
                out.append((padded[0], padded[1], np.r_[mm, np.zeros(pad, bool)], padded[2], scal))
    return out


@pytest.mark.parametrize("model_type", ["gru_pd", "mlp"])
def test_windows_from_the_store_equal_the_windows_of_the_runs(tmp_path, model_type):
    runs = make_runs(kps=(2.0, 4.0, 3.0), duration=1.5)
    runs[1] = dataclasses.replace(runs[1], valid=np.arange(len(runs[1])) % 7 != 0)
    short = slice_log(runs[2], 0, 30, "short")
    logs = [runs[0], short, runs[1]]
    cfg = quick_cfg(model_type, rollout_loss=dataclasses.replace(quick_cfg("gru_pd").rollout_loss, enabled=True))
    model = prepare_training(cfg, logs, None, None).model
    expected = _reference_windows(model, logs, cfg)
    for store in (None, StoreFolder(tmp_path / "store")):
        windows = TrainingWindows(model, logs, cfg, store)
        assert len(windows) == len(expected)
        idx = torch.arange(len(windows)).flip(0)
        got = windows.batch(idx)
        for k, i in enumerate(idx.tolist()):
            x, y, m, raw, scal = expected[i]
            np.testing.assert_array_equal(got.x[k].numpy(), np.asarray(x, np.float32))
            np.testing.assert_array_equal(got.y[k].numpy(), np.asarray(y, np.float32))
            np.testing.assert_array_equal(got.m[k].numpy(), m)
            np.testing.assert_array_equal(got.raw[k].numpy(), np.asarray(raw, np.float32))
            np.testing.assert_array_equal(got.scal[k].numpy(), np.asarray(scal, np.float32))
        assert got.m.dtype == torch.bool and got.x.dtype == torch.float32
        windows.close()


def test_an_interrupted_store_is_rebuilt_and_a_complete_one_reused(profiles, tmp_path, monkeypatch):
    cfg = stream_cfg("gru_pd")
    runs = load_data(data_cfg(profiles, True))
    model = prepare_training(cfg, runs, None, None).model
    reference = TrainingWindows(model, list(runs), cfg)
    folder = tmp_path / "store"
    calls = {"n": 0}
    append = FrameArray.append

    def failing(self, block, out=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process is stopped while the frames are written
        return append(self, block, out)

    monkeypatch.setattr(FrameArray, "append", failing)
    with pytest.raises(KeyboardInterrupt):
        TrainingWindows(model, runs, cfg, StoreFolder(folder))
    monkeypatch.setattr(FrameArray, "append", append)
    assert not (folder / "manifest.json").exists()
    (folder / "frames.bin").write_bytes(b"\0" * 64)  # a stray partial frames file is never used
    reads = runs.reads
    rebuilt = TrainingWindows(model, runs, cfg, StoreFolder(folder))
    assert runs.reads > reads
    idx = torch.arange(len(reference))
    for a, b in zip(rebuilt.batch(idx), reference.batch(idx), strict=True):
        assert torch.equal(a, b)
    rebuilt.close()
    reads = runs.reads
    reused = TrainingWindows(model, runs, cfg, StoreFolder(folder))
    assert runs.reads == reads  # nothing read again
    assert torch.equal(reused.batch(idx).x, reference.batch(idx).x)
    reused.close()
    other = dataclasses.replace(cfg, seq_len_s=0.2)  # other windows: the store's key differs, rebuilt
    assert len(TrainingWindows(model, runs, other, StoreFolder(folder))) != len(reference)


def _live_logs() -> int:
    gc.collect()
    return sum(type(o) is JointLog for o in gc.get_objects())


def test_lazy_runs_hold_one_file_at_a_time(profiles):
    before = _live_logs()
    runs = LazyRuns.index(profiles, ("*.npz",), read_torque_profile_npz)
    assert _live_logs() == before  # building the index keeps no run
    assert [i.name for i in runs.infos] == [f"run_{f:03d}/j{j}" for f in range(3) for j in range(2)]
    most = 0
    for _, run in runs.subset([5, 0, 3, 1, 4, 2]).in_file_order():
        most = max(most, _live_logs() - before)
        assert isinstance(run, JointLog) and len(run) == runs.infos[0].length
    del run
    assert most == 2 and runs.reads == 3  # one file's two joint runs at a time, each file read once
    assert _live_logs() == before
    first = runs[0]
    np.testing.assert_array_equal(first.q[:, 0], read_torque_profile_npz(profiles / "run_000.npz").q[:, 0])


def test_streaming_needs_only_metadata_to_split(profiles):
    runs = load_data(data_cfg(profiles, True))
    reads = runs.reads
    ((_, split),) = splits_of(runs, data_cfg(profiles, True, ratios=[0.5, 0.2, 0.3]))
    in_memory = splits_of(load_data(data_cfg(profiles, False)), data_cfg(profiles, False, ratios=[0.5, 0.2, 0.3]))
    assert runs.reads == reads and isinstance(split.train, LazyRuns)
    for part in ("train", "val", "test"):
        assert [i.name for i in getattr(split, part).infos] == [g.name for g in getattr(in_memory[0][1], part)]
    for check in (lambda: splits_of(runs, _blocks(profiles)), lambda: check_data_cfg(_blocks(profiles))):
        with pytest.raises(UserInputError, match=r"data\.split=blocks cuts runs into time blocks"):
            check()


def _blocks(profiles):
    return dataclasses.replace(data_cfg(profiles, True), split="blocks")


def test_runs_of_different_rates_give_the_clear_error(tmp_path):
    write_profiles(tmp_path / "mixed", files=2, dt=0.005)
    write_profiles(tmp_path / "other", files=1, dt=0.01, seed=3)
    (tmp_path / "other" / "run_000.npz").rename(tmp_path / "mixed" / "slow.npz")
    with pytest.raises(UserInputError, match=r"slow\.npz.*sampled at 100 Hz"):
        load_data(data_cfg(tmp_path / "mixed", True))
    runs = load_data(data_cfg(tmp_path / "mixed", True, accept=["rate_mismatch"]))
    with pytest.raises(UserInputError, match=r"slow\.npz: sampling period 0\.01 s differs"):
        train(stream_cfg("gru_pd"), runs)
    with pytest.raises(UserInputError, match=r"data\.streaming=true reads run files one at a time"):
        load_data(dataclasses.replace(data_cfg(tmp_path / "mixed", True), reader="bench_csv"))


def test_normalisation_and_frame_sample_equal_the_whole_data_when_it_fits():
    runs = make_runs(kps=(2.0, 4.0, 3.0))
    cfg = quick_cfg("gru_pd")
    model = prepare_training(cfg, runs, None, None).model
    windows = TrainingWindows(model, runs, cfg)
    inputs, outputs, peak = model.input_norm, model.output_norm, windows.torque_peak
    whole = np.concatenate([model.raw_inputs(g)[loss_mask(g)] for g in runs])
    np.testing.assert_allclose(inputs.mean, whole.mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(inputs.spread, whole.std(axis=0), rtol=1e-12)
    assert peak == max(float(np.abs(g.tau[loss_mask(g), 0]).max()) for g in runs)
    targets = np.concatenate([model.target(g)[loss_mask(g)] for g in runs])
    np.testing.assert_allclose(outputs.spread, targets.std(keepdims=True), rtol=1e-12)
    frames = sum(len(g) for g in runs)
    assert all(a is b for a, b in zip(frame_sample(runs, frames), runs, strict=True))
    thinned = frame_sample(runs, frames // 3)
    assert sum(len(g) for g in thinned) <= frames // 3 + len(runs)
    np.testing.assert_array_equal(thinned[1].q, runs[1].q[::3])
    assert all(g.q.base is None and g.tau.base is None for g in thinned)  # copies: a view would keep the whole run
