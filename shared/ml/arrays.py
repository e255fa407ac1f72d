"""Array types of the numpy training code."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# Weights, activations and gradients: float16 under mixed precision, else float32 or float64.
FloatArray = NDArray[np.floating[Any]]
# Class labels or regression targets, and index arrays.
NumberArray = NDArray[np.number[Any]]
# Row indices of a batch.
IndexArray = NDArray[np.integer[Any]]
