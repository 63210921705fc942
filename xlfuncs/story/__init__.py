"""The story-driven DCF: a company's story (growth, margins, reinvestment, risk, failure)
turned into value per share, the market-implied story, and a simulation of it.

:mod:`.steps` holds the model's lines as element-wise metrics (one definition each, with
their native Excel formulas in the registry); :mod:`.model` composes them over ten years
and a table of companies; :mod:`.implied` solves for one driver; :mod:`.simulate` draws
drivers from distributions; :mod:`.table` reads labelled story ranges from Excel.
"""
