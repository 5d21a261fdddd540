"""Stance stage: which way a sentence points (convergence / divergence / neutral).

* :mod:`pipeline.stance.lexicon`: the cooperation / conflict cue lexicon (CAMEO verbs
  with Goldstein directions, plus news nouns) and its negation-aware matcher;
* :mod:`pipeline.stance.features`: scikit-learn transformers built on it;
* :mod:`pipeline.stance.model`: the classifier ``Pipeline``, training, prediction and
  the model folder (skops file + card);
* :mod:`pipeline.stance.evaluate`: metrics with the majority and lexicon baselines.
"""
