"""Model architectures."""

from .cnn import LAST_CONV_NAME, AugmentationConfig, ModelConfig, build_cnn
from .ensemble import average_ensemble, ensemble_members
from .graph import submodel

__all__ = ["LAST_CONV_NAME", "AugmentationConfig", "ModelConfig", "average_ensemble", "build_cnn",
           "ensemble_members", "submodel"]
