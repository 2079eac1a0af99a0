"""Categorising what no list knows: a hostname model scored from the name alone.

``features`` turns a name into feature strings, ``scorer`` holds a trained model and scores names
(pure, no I/O), ``modelfile`` reads and writes the versioned model file, ``training`` fits one
from declared sources, ``judge`` turns a score into a verdict under the group's policy and
``queue`` is the ICT manager's review queue of automatic verdicts.
"""
