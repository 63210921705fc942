"""Random universes of companies in the facts format, for tests and benchmarks.

Hostile on purpose where it is cheap: zero and negative revenue, profits instead of
losses, blanks, every currency and scale, and (with ``hostile_names``) names that look
like formulas.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from .data import COLUMNS

HOSTILE_NAMES = ('=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "#N/A", "=1+1",
                 "'quoted", "tab\there", "ünïcødé 公司")


def universe_csv(companies: int, seed: int = 1, hostile_names: bool = False) -> str:
    """CSV text of ``companies`` random companies, about eight facts each."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    currencies = ("HKD", "USD", "CNY")
    for i in range(companies):
        name = (HOSTILE_NAMES[i] if hostile_names and i < len(HOSTILE_NAMES)
                else f"Company {i:05d}")
        source = f"generated, seed {seed}, para {i}"
        year = rng.randint(2019, 2025)

        def fact(metric: str, value: float | str, unit: str, currency: str = "",
                 start: str = "", end: str = "", qualifier: str = "=",
                 name: str = name, source: str = source) -> None:
            writer.writerow([name, metric, value, unit, currency, start, end, "2026-02-24",
                             qualifier, source])

        roll = rng.random()
        if roll > 0.05:  # a few companies have no market value at all
            fact("market_value", round(rng.uniform(0.5, 900), 3), rng.choice(("bn", "m", "tn")),
                 rng.choice(currencies), qualifier=rng.choice(("=", ">=", "~")))
        revenue = rng.choice((0.0, -5.0, round(rng.uniform(0.1, 5000), 3),
                              round(rng.uniform(0.1, 5000), 3), round(rng.uniform(1, 90), 2)))
        if rng.random() > 0.1:
            end_month = rng.choice((3, 6, 9, 12))
            end_day = {3: 31, 6: 30, 9: 30, 12: 31}[end_month]
            fact("revenue", revenue, "m", rng.choice(currencies), f"{year}-01-01",
                 f"{year}-{end_month:02d}-{end_day}")
        if rng.random() > 0.1:
            loss = round(rng.uniform(-2, 10), 3)  # negative: a profit
            fact("cumulative_loss", loss, "bn", rng.choice(currencies), f"{year - 3}-01-01",
                 f"{year}-{rng.choice(('06-30', '12-31', '09-30'))}")
        if rng.random() > 0.6:
            low = round(rng.uniform(-1, 3), 3)
            fact("net_profit", low, "bn", "CNY", f"{year}-01-01", f"{year}-12-31", "low")
            fact("net_profit", round(low + rng.uniform(0, 1), 3), "bn", "CNY",
                 f"{year}-01-01", f"{year}-12-31", "high")
        if rng.random() > 0.5:
            fact("issue_price", round(rng.uniform(1, 500), 2), "price", "HKD")
            fact("cumulative_increase", round(rng.uniform(-90, 900), 1), "%")
        if rng.random() > 0.5:
            fact("compute_share_of_rnd", round(rng.uniform(0, 100)), "%")
            fact("compute_spend", round(rng.uniform(0, 50), 2), "bn", rng.choice(currencies),
                 f"{year - 2}-01-01", f"{year}-12-31", ">=")
    return out.getvalue()


def write_universe(path: Path, companies: int, seed: int = 1,
                   hostile_names: bool = False) -> Path:
    path.write_text(universe_csv(companies, seed, hostile_names), encoding="utf-8")
    return path
