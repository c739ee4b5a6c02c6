"""The gallery: filters, a lazy thumbnail grid, the detail of one can, corrections, exports."""
