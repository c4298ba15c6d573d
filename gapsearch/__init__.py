"""gapsearch: hyperparameter search for Keras text classifiers on Optuna.

Importing this package is cheap: it does not import Keras, TensorFlow or Optuna.
"""

__version__ = "0.1.0"
