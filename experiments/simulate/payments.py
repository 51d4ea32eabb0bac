"""Money and complaints: payments with chargebacks (card-fraud rings pay a lot), report bursts."""

from __future__ import annotations

import numpy as np
import polars as pl

from experiments.simulate.batch import raw
from experiments.simulate.headlines import STYLE, render_styles
from experiments.simulate.identity import pick
from experiments.simulate.kinds import ACTION, CATEGORY, KIND, N_BENIGN
from experiments.simulate.plan import Plan
from experiments.simulate.population import DAY, HOUR
from experiments.simulate.timing import cumcount

BENIGN_PAYMENTS_PER_WEEK = {
    CATEGORY["brand"]: 1.5,
    CATEGORY["media"]: 0.8,
    CATEGORY["creator"]: 0.5,
}
FRAUD_BURSTS_PER_WEEK = 2.0
FRAUD_PAYMENTS_PER_BURST = 4.0
CHARGEBACK_SHARE = {"benign": 0.01, "fraud": 0.45}


def _alive_uniform(plan: Plan, acc: np.ndarray, rng) -> np.ndarray:
    """Uniform times between an account's creation (or the window start) and the window end."""
    start = np.maximum(plan.created[acc], 0.0)
    return start + rng.random(acc.size) * np.maximum(plan.horizon - start, 0.0)


def chargebacks(acc, sec, inst, amount, back: np.ndarray) -> pl.DataFrame:
    """Chargeback events (at `sec`) of the payments marked `back`."""
    return raw(
        acc[back], sec[back], ACTION["chargeback"], inst=inst[back], amount=amount[back]
    )  # fmt: skip


def payment_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Payments of benign payers (ads) and card-fraud accounts, with their later chargebacks."""
    weeks = plan.config.weeks * plan.config.activity
    kind, ident = plan.kind[rows], plan.identity
    payer = (kind < N_BENIGN) & (ident.instruments[rows, 0] >= 0)
    rate = np.zeros(rows.size)
    for category, per_week in BENIGN_PAYMENTS_PER_WEEK.items():
        rate[payer & (plan.category[rows] == category)] = per_week * weeks
    benign_n = rng.poisson(rate)
    b_acc = np.repeat(rows, benign_n)
    b_sec = _alive_uniform(plan, b_acc, rng)
    b_amount = np.round(rng.lognormal(np.log(60.0), 1.0, b_acc.size), 2)
    fraud = rows[kind == KIND["card_fraud"]]
    bursts = rng.poisson(FRAUD_BURSTS_PER_WEEK * weeks, fraud.size)
    burst_acc = np.repeat(fraud, bursts)
    burst_sec = _alive_uniform(plan, burst_acc, rng)
    per_burst = 1 + rng.poisson(FRAUD_PAYMENTS_PER_BURST - 1, burst_acc.size)
    f_acc = np.repeat(burst_acc, per_burst)
    f_sec = np.repeat(burst_sec, per_burst) + rng.exponential(20 * 60.0, f_acc.size)
    f_amount = np.round(rng.lognormal(np.log(150.0), 0.8, f_acc.size), 2)
    acc = np.concatenate([b_acc, f_acc])
    sec = np.concatenate([b_sec, f_sec])
    amount = np.concatenate([b_amount, f_amount])
    is_fraud = np.concatenate([np.zeros(b_acc.size, bool), np.ones(f_acc.size, bool)])
    inst = pick(ident.instruments, ident.instrument_cw, acc, rng.random(acc.size))
    dev = pick(ident.devices, ident.device_cw, acc, rng.random(acc.size))
    ip = pick(ident.ips, ident.ip_cw, acc, rng.random(acc.size))
    pay = raw(acc, sec, ACTION["payment"], ip=ip, dev=dev, inst=inst, amount=amount)
    share = np.where(is_fraud, CHARGEBACK_SHARE["fraud"], CHARGEBACK_SHARE["benign"])
    back = rng.random(acc.size) < share
    delay = rng.lognormal(np.log(8 * DAY), 0.5, acc.size)
    both = pl.concat([pay, chargebacks(acc, sec + delay, inst, amount, back)])
    owner = pl.Series(plan.takeover.time).gather(both["acc"])  # hijacked: the owner is out
    return both.filter((pl.col("sec") < plan.horizon) & (pl.col("sec") < owner))


def promo_posts(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Card-fraud shops advertise: a few shop posts a day around their payment activity."""
    fraud = rows[plan.kind[rows] == KIND["card_fraud"]]
    counts = rng.poisson(1.5 * plan.config.weeks * 7 * plan.config.activity * 0.3, fraud.size)
    acc = np.repeat(fraud, counts)
    sec = _alive_uniform(plan, acc, rng)
    ident = plan.identity
    dev = pick(ident.devices, ident.device_cw, acc, rng.random(acc.size))
    ip = pick(ident.ips, ident.ip_cw, acc, rng.random(acc.size))
    text = render_styles(np.full(acc.size, STYLE["shop"]), rng)
    return raw(acc, sec, ACTION["post"], content=-2, ip=ip, dev=dev, text=text)


def report_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """report_received events from the planned bursts of the accounts in `rows`."""
    b = plan.bursts
    lo, hi = np.searchsorted(b.acc, [rows[0], rows[-1] + 1]) if rows.size else (0, 0)
    acc = np.repeat(b.acc[lo:hi], b.size[lo:hi])
    k = cumcount(b.size[lo:hi])
    spread = np.repeat(b.duration[lo:hi], b.size[lo:hi]) * rng.random(acc.size)
    sec = np.repeat(b.time[lo:hi], b.size[lo:hi]) + np.where(k == 0, 0.0, spread)
    sec += rng.exponential(0.05 * HOUR, acc.size)
    frame = raw(acc, sec, ACTION["report_received"])
    return frame.filter(pl.col("sec") < plan.horizon)
