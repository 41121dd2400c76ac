"""dutyroom benchmarks: ``python -m bench`` (full) or ``python -m bench --quick``.

Builds its own datasets with SQL-level bulk inserts (bench/dataset.py), measures
the console against baselines measured in the same run, and prints one table of
medians.  It reports; it never fails because a target is missed.  See
docs/benchmarks.md.
"""
