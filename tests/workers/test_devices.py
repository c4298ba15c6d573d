"""Planning worker slots over GPUs, and the environment each worker process starts with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gapsearch.errors import StudyFileError, UserError
from gapsearch.spec.loader import parse_study
from gapsearch.workers.devices import NO_GPU, plan_workers, visible_gpus
from tests.conftest import TINY_STUDY


def gpus_of(slots) -> list[str | None]:
    return [slot.gpu for slot in slots]


def test_trials_per_gpu_fills_each_gpu_in_turn():
    slots = plan_workers([0, 1], 2, None)
    assert gpus_of(slots) == ["0", "0", "1", "1"]
    assert [slot.environment()["CUDA_VISIBLE_DEVICES"] for slot in slots] == ["0", "0", "1", "1"]
    assert [slot.environment()["GAPSEARCH_WORKER_ID"] for slot in slots] == ["0", "1", "2", "3"]
    assert all(slot.environment()["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for slot in slots)


def test_fewer_workers_than_slots_spread_over_the_gpus():
    assert gpus_of(plan_workers([0, 1, 2, 3], 1, 2)) == ["0", "2"]
    assert gpus_of(plan_workers([0, 1], 3, 5)) == ["0", "0", "0", "1", "1"]


def test_a_worker_alone_on_its_gpu_keeps_the_default_memory_settings():
    (slot,) = plan_workers([3], 1, None, memory_limit=2048)
    assert slot.environment() == {"GAPSEARCH_WORKER_ID": "0", "CUDA_VISIBLE_DEVICES": "3"}
    shared = plan_workers([3], 2, None, memory_limit=2048)
    assert shared[1].environment()["GAPSEARCH_GPU_MEMORY_LIMIT"] == "2048"


def test_all_and_none():
    assert gpus_of(plan_workers("all", 1, None, available=["0", "1"])) == ["0", "1"]
    assert gpus_of(plan_workers("all", 2, 3, available=["5", "7"])) == ["5", "5", "7"]
    assert gpus_of(plan_workers("all", 1, 3, available=[])) == [None, None, None]  # no GPU: CPU workers
    assert gpus_of(plan_workers("none", 1, 2)) == [NO_GPU, NO_GPU]
    assert gpus_of(plan_workers("all", 1, None, available=[])) == [None]


def test_too_many_workers_for_the_gpus():
    with pytest.raises(UserError) as caught:
        plan_workers([0], 1, 3)
    assert str(caught.value) == (
        "3 workers do not fit on 1 GPU (0) with trials_per_gpu 1 (at most 1); "
        "use --trials-per-gpu 3, fewer workers, or --gpus none"
    )


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert visible_gpus() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []


def parse(extra: str):
    return parse_study(yaml.safe_load(TINY_STUDY + extra), source=Path("s.yaml"))


def test_the_workers_key():
    workers = parse("workers: {gpus: '0, 2,3', trials_per_gpu: 2, max_retries: 1}\n").workers
    assert (workers.gpus, workers.trials_per_gpu, workers.max_retries) == ([0, 2, 3], 2, 1)
    defaults = parse("").workers
    assert (defaults.count, defaults.gpus, defaults.heartbeat_interval, defaults.grace_period) == (None, "all", 10, 30)
    assert (defaults.recycle_after, defaults.max_restarts_per_minute) == (None, 5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "workers: {gpus: some}",
            "s.yaml: workers.gpus: 'some' is not 'all', 'none' or a comma-separated list of GPU "
            "numbers such as '0,2,3'",
        ),
        (
            "workers: {gpus: [0, -1]}",
            "s.yaml: workers.gpus: [0, -1] is not a list of GPU numbers (0, 1, ...); expected for example [0, 2, 3]",
        ),
        ("workers: {count: 0}", "s.yaml: workers.count: must be >= 1, but got 0"),
        ("workers: {outage_window: 0}", "s.yaml: workers.outage_window: must be > 0.0, but got 0"),
        ("workers: {recycle_after: 0}", "s.yaml: workers.recycle_after: must be >= 1, but got 0"),
        ("workers: {max_restarts_per_minute: -1}", "s.yaml: workers.max_restarts_per_minute: must be >= 0, but got -1"),
        ("workers: {gpu: all}", "s.yaml: workers.gpu: unknown key; did you mean 'gpus'?"),
        (
            "workers: {grace_period: 5, heartbeat_interval: 10}",
            "s.yaml: workers: grace_period must be longer than "
            "heartbeat_interval, but got (grace_period=5, heartbeat_interval=10)",
        ),
    ],
)
def test_bad_workers_keys(extra, message):
    with pytest.raises(StudyFileError) as caught:
        parse(extra + "\n")
    assert str(caught.value) == message


def test_validate_describes_the_workers():
    from gapsearch.spec.describe import describe_workers

    assert describe_workers(parse("")) == (
        "one per GPU slot, or 1 without a GPU (gpus all, 1 per GPU); heartbeat 10s, grace 30s, 3 retries, "
        "at most 5 restarts a minute, outage window 60s, checkpoints in .gapsearch-checkpoints"
    )
    custom = parse(
        "workers: {count: 4, gpus: [0, 1], trials_per_gpu: 2, gpu_memory_limit: 4000, max_retries: 1, "
        "outage_window: 5, checkpoints: null, max_restarts_per_minute: 2, recycle_after: 50}\n"
    )
    assert describe_workers(custom) == (
        "4 (gpus 0,1, 2 per GPU, 4000 MiB each); heartbeat 10s, grace 30s, 1 retries, at most 2 restarts a minute, "
        "recycled every 50 trials, outage window 5s, no checkpoints"
    )
