"""Targets: the models modelmeter measures, behind one protocol and a registry."""

from modelmeter.targets.base import Prediction, Target
from modelmeter.targets.registry import create_target, known_kinds, register_target

__all__ = ["Prediction", "Target", "create_target", "known_kinds", "register_target"]
