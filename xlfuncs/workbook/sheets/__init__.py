"""The sheets of the valuation workbook, a module each, planned (every value computed)
then written.

Layout, the same on every table sheet: row 1 the title and the master check, row 2 a
note, row 4 the column headers, row 5 the units, data from row 6; panes frozen below
the units and right of the company column. One formula per column, the same down the
rows (companies are rows here, so the modelling standard's "one formula per row,
consistent across columns" is turned by a quarter: one per column, consistent down).
Inputs are blue on pale yellow, formulas black, links to other cells green.
"""

from .about import write_about
from .burn import plan_burn, write_year_series
from .card import write_card
from .charts import write_charts
from .checks import checks_status, input_checks, plan_checks, write_checks
from .common import Plan, facts_ref, write_table_sheet
from .dcf import dcf_checks, plan_dcf, write_dcf
from .facts import layout_facts, write_facts
from .functions import write_functions
from .inputs import input_check_groups, write_inputs
from .scenarios import write_scenarios
from .simulation import plan_simulation, write_simulation
from .story_inputs import plan_story_inputs
from .valuation import add_intrinsic_columns, plan_valuation

__all__ = [
    "Plan",
    "add_intrinsic_columns",
    "checks_status",
    "dcf_checks",
    "facts_ref",
    "input_check_groups",
    "input_checks",
    "layout_facts",
    "plan_burn",
    "plan_checks",
    "plan_dcf",
    "plan_simulation",
    "plan_story_inputs",
    "plan_valuation",
    "write_about",
    "write_card",
    "write_charts",
    "write_checks",
    "write_dcf",
    "write_facts",
    "write_functions",
    "write_inputs",
    "write_scenarios",
    "write_simulation",
    "write_table_sheet",
    "write_year_series",
]
