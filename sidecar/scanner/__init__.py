"""The sensitive-information scanner: a pure library (``Scanner.scan``) and the ``mug-sidecar scan`` command.

It reports what a post exposes by type, position, severity, masked preview and keyed fingerprint, and never
the value itself. See ``detectors`` for what is recognised and what is deliberately not.
"""

from sidecar.scanner.findings import DETECTOR_VERSION, Finding, FindingType, Severity
from sidecar.scanner.scanner import RuleError, Scanner, ScanSettings

__all__ = ["DETECTOR_VERSION", "Finding", "FindingType", "RuleError", "ScanSettings", "Scanner", "Severity"]
