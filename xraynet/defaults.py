"""Defaults shared by the data module, the model, the command line and the reports: each says
what it is and names the study that chose it (docs/studies/; the history is there).

- Input: 192 px grey squares (docs/studies/ACQUISITION.md), fitted by the body's box
  (docs/studies/BODYBOX.md: it cut the predictions a 224 px squeezed re-encode moves from 6.3%
  to 0.7%).
- Intensities: each image standardised (docs/studies/ROBUSTNESS.md).
- Augmentation: aspect, exposure and acquisition jitter (docs/studies/ACQUISITION.md,
  ROBUSTNESS.md).
- Training length: per backbone kind (docs/studies/BACKBONE.md).
"""

__all__ = ["CONFIDENT", "DEFAULT_ASPECT_JITTER", "DEFAULT_BLUR_AUG", "DEFAULT_FILL",
           "DEFAULT_GAMMA_AUG", "DEFAULT_IMAGE_SIZE", "DEFAULT_INTENSITY", "DEFAULT_MAX_DISTANCE",
           "DEFAULT_MAX_PIXELS", "DEFAULT_NOISE_AUG", "DEFAULT_RESIZE", "DEFAULT_RESOLUTION_AUG",
           "DEFAULT_STEM_STRIDE", "FILL_MODES", "INTENSITY_MODES", "RESIZE_MODES"]

#: side of the square grayscale input, in pixels
DEFAULT_IMAGE_SIZE = 192
#: stride of the model's first convolution
DEFAULT_STEM_STRIDE = 2
#: ways to fit an image to the square: keep its central square, squeeze the whole image in, or
#: squeeze in the body's box (the dark background around the body cut away: data/body_box.py)
RESIZE_MODES = ("crop", "stretch", "body")
#: how an image is fitted to the square: "body" cuts the dark background away and squeezes the
#: body's box in (docs/studies/BODYBOX.md); "crop" keeps the central square (proportions intact)
DEFAULT_RESIZE = "body"
#: ways to map raw 0..255 intensities before the first convolution (see IntensityNormalization)
INTENSITY_MODES = ("per_image", "equalize", "scale")
#: how the model maps raw intensities: "per_image" standardises each image (its overall brightness and contrast removed)
DEFAULT_INTENSITY = "per_image"
#: training-time aspect jitter: width against height changed by up to this share
DEFAULT_ASPECT_JITTER = 0.25
#: acquisition augmentation (docs/studies/ACQUISITION.md: in train-folder cross-validation it cut
#: the predictions one acquisition change moves from 13% (blur) to 6%, at the same accuracy):
#: probability of a half-resolution round trip (0: off)
DEFAULT_RESOLUTION_AUG = 0.5
#: acquisition augmentation: largest Gaussian blur, sigma in pixels (0: off)
DEFAULT_BLUR_AUG = 1.5
#: acquisition augmentation: largest sensor noise, in grey levels (0: off)
DEFAULT_NOISE_AUG = 8.0
#: exposure jitter in training: gamma drawn in 1/(1 + g)..(1 + g) (docs/studies/ROBUSTNESS.md: it
#: cut the held-out predictions exposure alone changes from 9.3% to 6.0%; 0: off)
DEFAULT_GAMMA_AUG = 0.25
#: what the augmentation's rotations, zooms and shifts show beyond the image's edge
FILL_MODES = ("constant", "reflect")
DEFAULT_FILL = "constant"
#: files with more pixels are refused as decompression bombs (Pillow's own guard is 2x this)
DEFAULT_MAX_PIXELS = 140_000_000
#: dHash distance (of 256 bits) up to which the audit calls two images duplicates
DEFAULT_MAX_DISTANCE = 12
#: the top probability at or above which an answer is called confident (the page's plain line;
#: the stress suites count the confident answers a change moves)
CONFIDENT = 0.8
#: training length of the from-scratch CNN: most epochs, and early stopping's patience
CNN_EPOCHS, CNN_PATIENCE = 40, 15
#: training length of a pretrained backbone's fine-tuning stage (after the head's warm-up)
FINE_TUNE_EPOCHS, FINE_TUNE_PATIENCE = 12, 5
