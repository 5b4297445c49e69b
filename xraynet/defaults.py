"""Defaults shared by the data module, the model and the command line.

The default input is 192 pixels square with a stride-2 first convolution: in a nested 10-fold
cross-validation on the train folder (3 seeds, 753 predictions; README, "Recipe study") it was
as accurate as 128 pixels at stride 1 (0.915 vs 0.918, difference -0.003 +- 0.009) and costs 56%
of its FLOPs, so the default fit trains 44% faster on a 2-core CPU.
"""

#: side of the square grayscale input, in pixels
DEFAULT_IMAGE_SIZE = 192
#: stride of the model's first convolution
DEFAULT_STEM_STRIDE = 2
