"""Training the student: targets from word timings, the alignment loss, windows, the loop."""
