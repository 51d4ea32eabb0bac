"""`ringwatch bench rings`: leave-one-archetype-out ring and account recovery on simulated worlds.

For every camouflage level and seed one world is simulated. Then, for each bad archetype, a copy
of the world's folder whose labels omit every account of that archetype (it was never
labelled) goes through the product's steps (detection.commands: features with the ring
verdict, training, label-derived features and scoring — what `ringwatch train` and `score`
run, without the MLflow run and the written list), and the held-out archetype is measured:
ring F1 (best match per true ring), member purity (share of bad accounts in the reported rings
that hold its members), recall in the top K of the accounts without a known label (K = how
many bad accounts have none) and average precision over those accounts. The same world with
all its labels is the comparison run, and the rule verdict (`--verdict rules`, label-free)
the baseline. Benign accounts in reported rings (look-alikes of abuse among them) are counted.

Archetypes and their sources: experiments/simulate/archetypes.py. Only the truth file tells
archetypes apart; the product never sees it.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

import polars as pl
from sklearn.metrics import average_precision_score

from common.errors import UserError
from common.progress import Say, silent
from experiments.ring_eval import best_match_f1
from experiments.rings_report import summarise
from experiments.simulate import WorldConfig, simulate_to
from experiments.simulate.config import CAMOUFLAGE_LEVELS
from experiments.simulate.kinds import BAD_KINDS

#: Bad archetypes held out one at a time, and the truth kinds each one covers (a follower
#: farm's customers go with the farm).
ARCHETYPES: dict[str, tuple[str, ...]] = {
    kind: (kind, "follower_customer") if kind == "follower_farm" else (kind,)
    for kind in BAD_KINDS
    if kind != "follower_customer"
}
#: Benign kinds that look like abuse (shared kit, lockstep, schedules).
LOOKALIKES = ("fan", "agency_brand", "family", "newsroom", "nat_user")
TABLES = ("accounts", "events", "edges")


def names(values: list[str]) -> list[str]:
    """Options given repeated and/or comma-separated, flattened."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


@dataclass(frozen=True)
class RingsBench:
    """What one benchmark run covers."""

    seeds: tuple[int, ...] = (1, 2, 3)
    accounts: int = 20_000
    camouflage: tuple[str, ...] = ("light", "heavy")
    archetypes: tuple[str, ...] = tuple(ARCHETYPES)
    weeks: int = 4

    def check(self) -> RingsBench:
        """Raise UserError naming the first bad option; return self when all are fine."""
        unknown = [a for a in self.archetypes if a not in ARCHETYPES]
        if unknown:
            raise UserError(f"--archetypes: unknown {unknown[0]!r}; one of {', '.join(ARCHETYPES)}")
        odd = [c for c in self.camouflage if c not in CAMOUFLAGE_LEVELS]
        if odd:
            raise UserError(
                f"--camouflage: {odd[0]!r} is not one of {', '.join(CAMOUFLAGE_LEVELS)}"
            )
        if not self.seeds or not self.archetypes or not self.camouflage:
            raise UserError("--seeds, --archetypes and --camouflage must not be empty")
        self.world(self.camouflage[0], self.seeds[0]).check()
        return self

    @staticmethod
    def from_options(seeds: str, accounts: int, camouflage: str, archetypes, weeks: int):
        """A checked benchmark from the command line's comma-separated options."""
        try:
            numbers = tuple(int(s) for s in names([seeds]))
        except ValueError:
            raise UserError(
                f"--seeds must be whole numbers, comma-separated (got {seeds!r})"
            ) from None
        chosen = tuple(names(archetypes or []) or ARCHETYPES)
        levels = tuple(names([camouflage]))
        return RingsBench(numbers, accounts, levels, chosen, weeks).check()

    @property
    def runs(self) -> int:
        """Detection runs the benchmark makes (one per world and held-out archetype, plus all)."""
        return len(self.seeds) * len(self.camouflage) * (len(self.archetypes) + 1)

    def world(self, camouflage: str, seed: int) -> WorldConfig:
        """The simulated world of one camouflage level and seed."""
        return WorldConfig(
            accounts=self.accounts, weeks=self.weeks, seed=seed, camouflage=camouflage
        )

    def command(self) -> str:
        """The command line that runs this benchmark."""
        seeds = ",".join(map(str, self.seeds))
        text = f"ringwatch bench rings --seeds {seeds} --accounts {self.accounts}"
        text += f" --camouflage {','.join(self.camouflage)}"
        if self.archetypes != tuple(ARCHETYPES):
            text += f" --archetypes {','.join(self.archetypes)}"
        return text


# --- the product's steps (detection.commands), as `ringwatch train`, `score` and `rings` run them


def detect(data: Path, say: Say) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Features, a trained model and its scores, as `ringwatch train` and `score` make them
    (without MLflow and the written list): (account_id + score, the reported rings'
    membership, the labels known at the snapshot)."""
    from detection import commands
    from detection.score import score_chunks
    from detection.settings import Settings
    from features.io.load import labels_known_at, load_dataset

    settings = Settings()
    ds = load_dataset(data)
    table = commands.build_features(ds, settings, None, say)
    say("training")
    known = labels_known_at(ds)
    model = commands.fit(table, ds.labels, table.rings.components, settings, known).model
    frame = commands.label_features(table.frame, model, table.graphs, known)
    say("scoring")
    scores = score_chunks(model, frame, settings.score.chunk_size).select("account_id", "score")
    return scores, table.rings.membership, known.select("account_id", "label")


def rule_rings(data: Path, out: Path, say: Say) -> pl.DataFrame:
    """`ringwatch rings DATA --verdict rules`: the rule verdict's membership."""
    from detection import commands

    choice = {}
    if "verdict" in commands.RingsRequest.__dataclass_fields__:
        choice = {"verdict": "rules"}
    elif find_spec("features.graph.verdict") is not None:  # a learned verdict we cannot turn off
        raise RuntimeError("bench rings cannot select the rule verdict: adapt rule_rings")
    request = commands.RingsRequest(data=data, out=out, workspace=None, **choice)
    return commands.rings(request, say).rings.membership


# --- one world ----------------------------------------------------------------------------


def link_tables(data: Path, into: Path) -> None:
    """`into` holds `data`'s input tables as links (part-file folders as folders of links)."""
    into.mkdir(parents=True)
    for path in sorted(data.iterdir()):
        if path.name.split(".")[0] not in TABLES:
            continue
        if path.is_dir():
            (into / path.name).mkdir()
            for part in sorted(path.iterdir()):
                (into / path.name / part.name).symlink_to(part.resolve())
        else:
            (into / path.name).symlink_to(path.resolve())


def hold_out(data: Path, into: Path, truth: pl.DataFrame, kinds: tuple[str, ...]) -> Path:
    """A copy of the world's folder (no truth) whose labels omit every account of `kinds`."""
    link_tables(data, into)
    hidden = truth.filter(pl.col("kind").is_in(list(kinds))).select("account_id")
    labels = pl.read_parquet(data / "labels.parquet").join(hidden, on="account_id", how="anti")
    labels.write_parquet(into / "labels.parquet")
    return into


def ring_figures(membership: pl.DataFrame, truth: pl.DataFrame, kinds: tuple[str, ...]) -> dict:
    """Ring F1 (best match per true ring of `kinds`) and the purity of the rings holding them."""
    per_ring = best_match_f1(truth, membership).filter(pl.col("kind").is_in(list(kinds)))
    members = truth.filter(pl.col("kind").is_in(list(kinds)) & pl.col("ring_id").is_not_null())
    touching = membership.join(members.select("account_id"), on="account_id")["ring_id"]
    found = membership.filter(pl.col("ring_id").is_in(touching.implode()))
    bad = found.join(truth.select("account_id", "is_bad"), on="account_id", how="left")
    return {
        "true_rings": per_ring.height,
        "ring_f1": float(per_ring["f1"].mean()) if per_ring.height else float("nan"),
        "purity": float(bad["is_bad"].fill_null(False).mean()) if bad.height else float("nan"),
    }


def account_figures(
    scores: pl.DataFrame, truth: pl.DataFrame, known: pl.DataFrame, kinds: tuple[str, ...]
) -> dict:
    """Recall of the accounts of `kinds` in the top K of the unlabelled accounts (K = bad ones
    among them) and average precision (all bad kinds) over the unlabelled accounts."""
    unlabelled = (
        scores.join(known, on="account_id", how="anti")
        .join(truth.select("account_id", "is_bad", "kind"), on="account_id")
        .sort(["score", "account_id"], descending=[True, False])
    )
    bad = unlabelled["is_bad"].to_numpy()
    k = int(bad.sum())
    mine = unlabelled["kind"].is_in(list(kinds)).to_numpy()
    both = 0 < k < unlabelled.height
    return {
        "k": k,
        "recall_at_k": float(mine[:k].sum() / mine.sum()) if mine.any() else float("nan"),
        "ap": float(average_precision_score(bad, unlabelled["score"])) if both else float("nan"),
    }


def benign_figures(membership: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Benign accounts in reported rings: how many, their share of all benign accounts, and
    how many are look-alikes of abuse."""
    members = membership.select("account_id").unique().join(truth, on="account_id")
    benign = members.filter(~pl.col("is_bad"))
    lookalike = benign.filter(pl.col("kind").is_in(LOOKALIKES)).height
    total = int((~truth["is_bad"]).sum())
    return {"benign": benign.height, "benign_share": benign.height / total, "lookalikes": lookalike}


@dataclass(frozen=True)
class World:
    """One simulated world under test and where its runs write."""

    camouflage: str
    seed: int
    data: Path
    truth: pl.DataFrame
    root: Path


def measure(world: World, run: str, held: str, membership, scores=None, known=None) -> list:
    """Records of one run: one per archetype it measures (`held`, or every one for 'all')."""
    base = {"camouflage": world.camouflage, "seed": world.seed, "run": run}
    records = []
    for archetype in ARCHETYPES if held == "all" else (held,):
        kinds = ARCHETYPES[archetype]
        record = base | {"archetype": archetype} | ring_figures(membership, world.truth, kinds)
        if scores is not None:
            record |= account_figures(scores, world.truth, known, kinds)
        records.append(record | benign_figures(membership, world.truth))
    return records


def one_run(world: World, held: str, say: Say) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Detect on the world with `held`'s labels removed ('all': none removed)."""
    kinds = () if held == "all" else ARCHETYPES[held]
    return detect(hold_out(world.data, world.root / held, world.truth, kinds), say)


def bench_world(world: World, archetypes: tuple[str, ...], say: Say, tick: Callable) -> list:
    """Every run on one world: all labelled, each archetype held out, the rule verdict."""
    scores, found, known = one_run(world, "all", say)
    records = [r for r in measure(world, "all labelled", "all", found, scores, known)
               if r["archetype"] in archetypes]  # fmt: skip
    tick()
    rules = rule_rings(world.root / "all", world.root / "rules.parquet", say)
    for held in archetypes:
        scores, found, known = one_run(world, held, say)
        records += measure(world, "held out", held, found, scores, known)
        records += measure(world, "rules", held, rules)
        tick()
    return records


@dataclass(frozen=True)
class BenchResult:
    """Per-seed records, their summary and how the run went."""

    per_seed: pl.DataFrame
    summary: pl.DataFrame
    command: str
    date: str
    seconds: float
    cpu_seconds: float
    load: tuple[float, float]

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows of the per-archetype table, as text."""
        from experiments.rings_report import HEADER, table_rows

        return HEADER, table_rows(self.summary)

    def benign_table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows of the benign-accounts-in-rings table, as text."""
        from experiments.rings_report import BENIGN_HEADER, benign_rows

        return BENIGN_HEADER, benign_rows(self.per_seed)


def run_rings_bench(
    bench: RingsBench, work: Path | None = None, say: Say = silent, tick: Callable = lambda: None
) -> BenchResult:
    """Run the benchmark (worlds under `work`, else a temporary folder); return its figures."""
    bench.check()
    load, started, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="ringwatch-bench-rings-") as tmp:
        root = Path(work) if work is not None else Path(tmp)
        for camouflage in bench.camouflage:
            for seed in bench.seeds:
                folder = root / f"{camouflage}-seed{seed}"
                say(f"simulating {bench.accounts:,} accounts, {camouflage} camouflage, seed {seed}")
                simulate_to(bench.world(camouflage, seed), folder / "data", overwrite=True)
                truth = pl.read_parquet(folder / "data" / "truth.parquet")
                world = World(camouflage, seed, folder / "data", truth, folder)
                records += bench_world(world, bench.archetypes, say, tick)
    per_seed = pl.DataFrame(records)
    return BenchResult(
        per_seed=per_seed,
        summary=summarise(per_seed),
        command=bench.command(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
        load=(load, os.getloadavg()[0]),
    )
