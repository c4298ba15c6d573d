"""Parallel workers that share nothing but the study database.

``devices`` plans worker slots over GPUs, ``signals`` turns SIGINT/SIGTERM into a clean
stop, ``loop`` runs trials until the study holds its budget (exactly, with any number
of workers), ``registry`` records which workers were seen, ``pool`` starts local worker
processes, replaces those that die or are recycled, and merges their progress, ``deaths`` fails
(or quarantines) a dead worker's trial, ``watched`` runs a one-worker ``run`` in a child it
watches, ``status`` summarizes a study for ``gapsearch status``.
Nothing here imports Keras or TensorFlow.

``launch`` is the one run sequence (``gapsearch run``, ``worker`` and the Python API go through it).

May import: the foundation, ``gapsearch.spec``, ``gapsearch.storage``, ``gapsearch.data`` and
``gapsearch.search``; never the results, the command line or the Python API.
"""
