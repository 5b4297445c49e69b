"""Defaults shared by the data module, the model and the command line.

The default input is 192 pixels square with a stride-2 first convolution: in a nested 10-fold
cross-validation on the train folder (3 seeds, 753 predictions; README, "Recipe study") it was
as accurate as 128 pixels at stride 1 (0.915 vs 0.918, difference -0.003 +- 0.009) and costs 56%
of its FLOPs, so the default fit trains 44% faster on a 2-core CPU.

The central-square crop with aspect jitter comes from the framing stress test (FRAMING.md:
5-fold cross-validation on the train folder, 2 seeds; held-out images also predicted after a
central crop to width/height 1.0, 1.2 and 1.4). Squeezing the whole image into the square let the
frame alone change 29% of the predictions (worst framing: 0.735 accuracy); the crop with jitter
changed 9% (worst framing 0.839), at the same accuracy on unframed images (0.888 vs 0.892,
difference -0.004 +- 0.013).

Intensities are standardised per image ("per_image"), not scaled to 0..1 ("scale"). Scaling was
3.2 +- 1.6 points more accurate on held-out train images (INTENSITY.md), but an exposure stress
test (EXPOSURE.md: held-out images also predicted at gamma 0.8 and 1.25) showed why: exposure
alone changed 21% of the scaled model's predictions against 4% of the standardised one's (darker
images drift to Covid), and gamma jitter in training did not remove it (20%). The gain is mostly
a brightness cue of the sources, so the default keeps per-image standardisation.
"""

#: side of the square grayscale input, in pixels
DEFAULT_IMAGE_SIZE = 192
#: stride of the model's first convolution
DEFAULT_STEM_STRIDE = 2
#: ways to fit an image to the square: keep its central square, or squeeze the whole image in
RESIZE_MODES = ("crop", "stretch")
#: how an image is fitted to the square: "crop" keeps its central square (proportions intact)
DEFAULT_RESIZE = "crop"
#: ways to map raw 0..255 intensities before the first convolution (see IntensityNormalization)
INTENSITY_MODES = ("per_image", "equalize", "scale")
#: how the model maps raw intensities: "per_image" standardises each image (its overall brightness and contrast removed)
DEFAULT_INTENSITY = "per_image"
#: training-time aspect jitter: width against height changed by up to this share
DEFAULT_ASPECT_JITTER = 0.25
