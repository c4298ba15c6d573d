"""Parallel workers that share nothing but the study database.

``devices`` plans worker slots over GPUs, ``signals`` turns SIGINT/SIGTERM into a clean
stop, ``loop`` runs trials until the study holds its budget (exactly, with any number
of workers), ``registry`` records which workers were seen, ``pool`` starts local worker
processes and merges their progress, ``status`` summarizes a study for ``gapsearch status``.
Nothing here imports Keras or TensorFlow.
"""
