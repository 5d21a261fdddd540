"""What the two classifiers (sentence stance, pair relation) share.

* :mod:`pipeline.modelling.folder`: the model folder: skops files behind a type
  allow-list, a card with their SHA-256 hashes, the model id derived from those hashes;
* :mod:`pipeline.modelling.training`: grouped held-out split, grouped cross-validation
  over a small grid, class offsets tuned on cross-validated probabilities, versions.
"""
