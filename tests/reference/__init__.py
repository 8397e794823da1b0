"""Slow, literal NumPy (float64) references that the compiled core is tested against.

Nothing here is fast or clever on purpose: every function is written straight from the
definition of the quantity it computes, so a reader can check it against the paper or the
framework documentation line by line.
"""
