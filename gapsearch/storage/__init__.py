"""The study database: opening it from a URL (``database``: SQLite, PostgreSQL, MySQL/MariaDB, with
one-line errors and masked passwords), what a failed connection means (``failures``: unreachable,
refused user, missing database or tables, another application's tables), its one retry layer for
outages (``retry``: every storage call retried within the study's outage window; a refused user is no
outage), and requeueing failed trials with their parameters (``requeue``).

May import: the foundation and ``gapsearch.spec``; nothing that trains.
"""
