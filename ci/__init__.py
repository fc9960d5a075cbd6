"""CI tooling: tiny datasets, the smoke override and matrix, the dashboard checks.

Run its tools as modules from the repository root: ``python -m ci.run_smoke --out work_dirs/smoke``.
"""
