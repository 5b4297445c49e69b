"""Input-quality gate: is an image like the X-rays the model was trained on?

Pixel checks (:mod:`.checks`: colour, size, near-uniform) need only the file; the feature check
(:mod:`.features`: a distance on the model's penultimate-layer features, fitted on the training
split and thresholded on validation, stored in the bundle) needs the model. A flagged image still
gets its probabilities; callers show them as unreliable, with the reasons.
"""

from .checks import COLOUR_LIMIT, MIN_SIDE, UNIFORM_STD_LIMIT, pixel_reasons
from .features import (FEATURE_LAYER, QUALITY_FILE, FeatureGate, feature_model, fit_feature_gate,
                       load_feature_gate)
from .fitting import batched_features, fit_gate, flag_summary, gate_flag_rates
from .gate import Quality, QualityGate

__all__ = ["COLOUR_LIMIT", "FEATURE_LAYER", "MIN_SIDE", "QUALITY_FILE", "UNIFORM_STD_LIMIT",
           "FeatureGate", "Quality", "QualityGate", "batched_features", "feature_model",
           "fit_feature_gate", "fit_gate", "gate_flag_rates", "flag_summary", "load_feature_gate",
           "pixel_reasons"]
