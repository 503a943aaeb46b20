"""Redact secrets and personal data from log lines."""

from .rules import DEFAULT_RULES, Rule, rules_by_name
from .redactor import Redactor

__all__ = ["DEFAULT_RULES", "Rule", "Redactor", "rules_by_name"]
__version__ = "0.9.1"
