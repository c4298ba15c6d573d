"""What a finished study gives its user: ``console`` (the trial lines, tables and summaries the CLI
prints), ``compare`` (paired comparisons; ``comparison``, the record one stores with the study),
``evaluation`` (the held-out test), ``export`` (a trial's model as one file, ``predict``;
``export_savedmodel`` for TensorFlow Serving), ``dashboard`` (optuna-dashboard, behind
``dashboard_guard``: the Host check and the token each change needs), ``pruned`` (how many trials
were pruned and where, and their values at an epoch all reached) and ``report`` (the HTML report).

May import every layer below it: the foundation, ``gapsearch.spec``, ``gapsearch.storage``,
``gapsearch.data``, ``gapsearch.models``, ``gapsearch.explain``, ``gapsearch.training``,
``gapsearch.search`` and ``gapsearch.workers``; never the command line or the Python API.
"""
