"""Set up xlwings' custom-function runtime before anything imports xlwings.

xlwings decides at its first import whether ``xw.func`` registers functions
(``XLWINGS_ON_SERVER=true``) or is a no-op (Linux default); the UDF tests need the former.
``noncommercial`` is the license setting for xlwings' non-commercial use (PolyForm).
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
os.environ["XLWINGS_ON_SERVER"] = "true"
