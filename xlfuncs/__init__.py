"""xlfuncs: Excel functions and a portable workbook for valuing AI companies."""

from .burn import (
    burn_annual,
    burn_cash_zero_date,
    burn_loss_to_revenue,
    burn_monthly,
    burn_months,
    burn_multiple,
    burn_net,
    burn_rule_of_40,
    burn_runway,
)
from .data import data_companies, data_fact, data_qualifier, data_source, data_table
from .elementwise import explain
from .errors import DataFileError, XlError, XlfuncsError
from .fx import fx_convert, fx_rate
from .story.api import story_implied, story_simulate, story_table, story_value
from .valuation import (
    val_annualize,
    val_cagr,
    val_dcf,
    val_ev,
    val_ev_revenue,
    val_failure_adjusted,
    val_implied_cagr,
    val_market_share,
    val_pe,
    val_premium,
    val_price_from_return,
    val_ps,
    val_return,
    val_years_to_justify,
)

__version__ = "0.1.0"

__all__ = [
    "DataFileError",
    "XlError",
    "XlfuncsError",
    "__version__",
    "burn_annual",
    "burn_cash_zero_date",
    "burn_loss_to_revenue",
    "burn_monthly",
    "burn_months",
    "burn_multiple",
    "burn_net",
    "burn_rule_of_40",
    "burn_runway",
    "data_companies",
    "data_fact",
    "data_qualifier",
    "data_source",
    "data_table",
    "explain",
    "fx_convert",
    "fx_rate",
    "story_implied",
    "story_simulate",
    "story_table",
    "story_value",
    "val_annualize",
    "val_cagr",
    "val_dcf",
    "val_ev",
    "val_ev_revenue",
    "val_failure_adjusted",
    "val_implied_cagr",
    "val_market_share",
    "val_pe",
    "val_premium",
    "val_price_from_return",
    "val_ps",
    "val_return",
    "val_years_to_justify",
]
