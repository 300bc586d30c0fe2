"""microalign: forced alignment for microcontrollers."""
