"""The study report: which pooling and embedding dimension won, by how much, at what cost, how surely.

Three steps, a module each, in the order they run and may import one another:

- :mod:`.results` (collecting) reads the study once: its completed trials through the typed records of
  :mod:`gapsearch.trial_attrs`, their (pooling, embedding_dim) cells, Optuna's parameter importances, what
  pruning left (:mod:`gapsearch.results.pruned`: with too few combinations completed, every trial's value
  at the last epoch all reached), and the explanation artifacts and stored ``compare:*`` results, into one
  frozen :class:`StudyResults`. It may import Optuna, :mod:`gapsearch.stats`, the trial records, the
  artifact store, the comparison's record, :mod:`gapsearch.results.pruned` and the choice of a trial
  (:mod:`gapsearch.search.selection`); nothing else of this package.
- :mod:`.reasoning` (the headline) decides from those results what the report concludes and how sure it
  is, as plain data (:func:`conclude`), and words it (:func:`headline`). It imports only :mod:`.results`
  and :mod:`gapsearch.stats`: no study, no HTML.
- :mod:`.render` draws the figures through :mod:`gapsearch.plots` and writes the self-contained HTML page
  (a stored comparison as :mod:`gapsearch.results.compare_console` prints it);
  :mod:`.explanations` renders its section "What the best model looks at" (with
  :mod:`gapsearch.explain.render`'s token shading). They import :mod:`.results` and :mod:`.reasoning`,
  never the study database.

:mod:`.write` runs the three and writes the files (``gapsearch report``). Nothing here imports Keras or
TensorFlow.
"""

from gapsearch.results.report.reasoning import Conclusion, Headline, conclude, headline
from gapsearch.results.report.results import Cell, Explained, Explanations, StudyResults, TrialRow, collect
from gapsearch.results.report.write import ReportFiles, write_report, write_study_report

__all__ = [
    "Cell",
    "Conclusion",
    "Explained",
    "Explanations",
    "Headline",
    "ReportFiles",
    "StudyResults",
    "TrialRow",
    "collect",
    "conclude",
    "headline",
    "write_report",
    "write_study_report",
]
