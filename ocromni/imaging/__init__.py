"""Pixel-level helpers shared by the image-producing tasks: text masks and inpainting."""
