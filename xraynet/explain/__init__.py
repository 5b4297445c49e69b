"""Explanations: Grad-CAM (each backend's autodiff), occlusion sensitivity, overlays, shortcut check."""

from .explainer import METHODS, Explainer, Explanation
from .gradcam import GradCAM
from .heatmap import BORDER_FRACTION, border_mask, border_share, correlation, mass_share
from .occlusion import occlusion_map
from .overlay import save_overlay

__all__ = ["BORDER_FRACTION", "METHODS", "Explainer", "Explanation", "GradCAM", "border_mask",
           "border_share", "correlation", "mass_share", "occlusion_map", "save_overlay"]
