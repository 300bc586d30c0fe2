"""Quality of an alignment: calibrated word confidence, an utterance score, and warnings for
transcripts that do not match their audio (:func:`assess`), defined in integers and fixed point
(:mod:`.fixed`) so that the device computes the same numbers."""
from .checks import CODES, Assessment, QualityWarning, assess, utterance_stats
from .confidence import TOLERANCE_SECONDS, Calibration, Logistic, Thresholds, load_calibration
from .features import FEATURES, QualityError, UtteranceFrames, log_probs_of, word_features

__all__ = ["CODES", "Assessment", "Calibration", "FEATURES", "Logistic", "QualityError", "QualityWarning",
           "TOLERANCE_SECONDS", "Thresholds", "UtteranceFrames", "assess", "load_calibration", "log_probs_of",
           "utterance_stats", "word_features"]
