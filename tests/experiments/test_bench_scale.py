"""The capacity model of `ringwatch bench scale` on measured rows (no cluster needed)."""

from __future__ import annotations

from experiments.bench_scale import Target, capacity, task_seconds, to_markdown


def row(engine: str, stage: str, wall: float, tasks: dict, workers: dict) -> dict:
    return {
        "engine": engine,
        "stage": stage,
        "wall_s": wall,
        "startup_s": 2.0,
        "client_gib": 1.35,
        "tasks": tasks,
        "workers": workers,
    }


ROWS = [
    row("one process", "features", 100.0, {}, {}),
    row(
        "local:2",
        "features",
        62.0,
        {
            "bucket_stage": {"seconds": 80.0, "tasks": 8},
            "split_events": {"seconds": 20.0, "tasks": 4},
        },
        {"w1": 1.35, "w2": 1.1},
    ),
    row("local:2", "score", 12.0, {"score_bucket": {"seconds": 10.0, "tasks": 8}}, {"w1": 0.5}),
]


def compute(start: float, stop: float) -> dict:
    return {"action": "compute", "start": start, "stop": stop}


def test_task_seconds_add_up_compute_per_task_name() -> None:
    transfer = {"action": "transfer", "start": 0, "stop": 1}
    stream = [
        {"key": "bucket_stage-ab12-0", "startstops": [compute(1, 4)]},
        {"key": "bucket_stage-ab12-1", "startstops": [transfer, compute(2, 3)]},
    ]
    assert task_seconds(stream) == {"bucket_stage": {"seconds": 4.0, "tasks": 2}}


def test_capacity_scales_measured_costs_to_the_target() -> None:
    model = capacity(ROWS, accounts=1_000_000, events=50_000_000, target=Target())
    assert model["measured"]["buckets"] == 8 and model["measured"]["workers"] == 2
    # 100 task-seconds per 50 M events -> 2,000 s at 1 B; 10 s per 1 M accounts -> 200 s at 20 M
    assert model["task_hours"] == round(2_200 / 3600, 2)
    # the client: (62 - 2) + (12 - 2) s minus 110 task-seconds over 2 workers, x 20
    assert model["client_serial_hours"] == round((70 - 55) * 20 / 3600, 2)
    assert model["workers_for_target"] == 1
    assert model["client_gib"] == round(0.35 + 1.0 * 20, 1)
    assert "**1 workers**" in to_markdown(ROWS, model)


def test_unreachable_when_the_client_alone_is_too_slow() -> None:
    model = capacity(ROWS, accounts=10_000, events=500_000, target=Target())
    assert model["workers_for_target"] is None
    assert "not reachable" in to_markdown(ROWS, model)
