"""Model architectures."""

from .cnn import LAST_CONV_NAME, AugmentationConfig, ModelConfig, build_cnn

__all__ = ["LAST_CONV_NAME", "AugmentationConfig", "ModelConfig", "build_cnn"]
