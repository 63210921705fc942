"""Exchange rates between the article's three currencies: HKD, USD and CNY (alias RMB).

Rates are quoted as units of a currency per US dollar, the way markets quote both pegs:

* ``USD_HKD_DEFAULT`` = 7.80, the centre of the Hong Kong dollar's 7.75-7.85 band
  (the Linked Exchange Rate System; valid on the article's date, 2026-02-24).
* ``USD_CNY_DEFAULT`` = 6.91, the mean of the two USD/CNY rates that the article's own
  conversions imply on 2026-02-24 (US$53.44m ~ RMB 370m gives 6.924; US$1.32bn ~
  RMB 9.1bn gives 6.894). Pass today's rate for anything else.

Point-in-time amounts (market values) convert at the spot rate of their date; period
flows (revenue, losses) at the period's average rate: pass the rate you want.
"""

from __future__ import annotations

from typing import Any

from .elementwise import Guard, metric
from .errors import DIV0, NA, NUM
from .formula import lookup, not_one_of

USD_HKD_DEFAULT = 7.80
USD_CNY_DEFAULT = 6.91
FX_AS_OF = "2026-02-24"
HKD_BAND = (7.75, 7.85)
CURRENCY_CODES = ("USD", "HKD", "CNY", "RMB")


def _units_per_usd(codes: Any, usd_hkd: Any, usd_cny: Any) -> Any:
    return lookup(codes, CURRENCY_CODES, (1.0, usd_hkd, usd_cny, usd_cny))


def _unknown(codes: Any) -> Any:
    return not_one_of(codes, CURRENCY_CODES)


_RATE_GUARDS = (
    Guard(NUM, "usd_hkd must be a positive rate (HKD per USD)",
          lambda *a: a[-2] <= 0),
    Guard(NUM, "usd_cny must be a positive rate (CNY per USD)",
          lambda *a: a[-1] <= 0),
)


@metric(
    Guard(NA, "from_currency: not one of USD, HKD, CNY, RMB", lambda f, t, h, c: _unknown(f),
          native="lookup"),
    Guard(NA, "to_currency: not one of USD, HKD, CNY, RMB", lambda f, t, h, c: _unknown(t),
          native="lookup"),
    *_RATE_GUARDS,
    kinds={"from_currency": "text", "to_currency": "text"},
)
def fx_rate(from_currency, to_currency, usd_hkd=USD_HKD_DEFAULT, usd_cny=USD_CNY_DEFAULT):
    """Units of ``to_currency`` per one unit of ``from_currency``.

    >>> round(fx_rate("USD", "HKD"), 4)
    7.8
    >>> round(fx_rate("HKD", "CNY"), 4)  # 6.91 / 7.80
    0.8859
    """
    return (_units_per_usd(to_currency, usd_hkd, usd_cny)
            / _units_per_usd(from_currency, usd_hkd, usd_cny))


@metric(
    Guard(NA, "from_currency: not one of USD, HKD, CNY, RMB", lambda x, f, t, h, c: _unknown(f),
          native="lookup"),
    Guard(NA, "to_currency: not one of USD, HKD, CNY, RMB", lambda x, f, t, h, c: _unknown(t),
          native="lookup"),
    *_RATE_GUARDS,
    kinds={"from_currency": "text", "to_currency": "text"},
)
def fx_convert(amount, from_currency, to_currency, usd_hkd=USD_HKD_DEFAULT,
               usd_cny=USD_CNY_DEFAULT):
    """``amount`` in ``from_currency`` expressed in ``to_currency``.

    >>> round(fx_convert(300, "HKD", "USD"), 2)  # MiniMax's HK$300bn in US$bn
    38.46
    """
    return amount * fx_rate.__wrapped__(from_currency, to_currency, usd_hkd, usd_cny)


@metric(
    Guard(DIV0, "base_amount is zero: no rate is implied", lambda q, b: b == 0),
    Guard(NUM, "quote_amount and base_amount must be positive to imply an exchange rate",
          lambda q, b: (q < 0) | (b < 0)),
)
def fx_implied_rate(quote_amount, base_amount):
    """The rate a conversion implies: quote_amount / base_amount, units of the quote
    currency per unit of the base currency (RMB 370m for US$53.44m: 6.92 CNY per USD).

    >>> round(fx_implied_rate(370, 53.44), 3)
    6.924
    """
    return quote_amount / base_amount
