"""The classical check: value channel, blur, denoise, Otsu, morphology, contours; no training beyond a
few good images' statistics. Runs in numpy/OpenCV alone."""
