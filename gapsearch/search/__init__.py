"""The search: what one trial does, and everything about a study's trials short of running workers.

``objective`` (a trial: sample, train each run, record), ``runs`` (one training run: build, measure costs,
fit), ``space`` (sampling the search space), ``algorithms`` (Optuna's sampler and pruner from the study
file), ``pruning`` (the cost-aware pruner for several objectives), ``runner`` (the data check, creating
or joining a study, a run's outcome), ``selection`` (choosing a trial: feasibility and ranking; what built
it: ``auto`` values, its first attempt's seed, the model that trains it again), ``warm_start``, ``resume``
(a retry resuming from its checkpoint), ``artifacts`` (a trial's curves, confusion matrix, model and
explanation) and ``tracking`` (MLflow).

May import: the foundation, ``gapsearch.spec``, ``gapsearch.storage``, ``gapsearch.data``,
``gapsearch.models``, ``gapsearch.explain`` and ``gapsearch.training``; never the workers or the results.
"""
