"""Audio frontend: int16 PCM -> int8 log-mel features (the one definition, see :mod:`.features`)."""
from .features import (FRAME_SECONDS, HOP, INPUT_SCALE, N_MELS, SAMPLE_RATE, features_from_pcm,
                       float_to_pcm16, model_input, num_frames)

__all__ = ["FRAME_SECONDS", "HOP", "INPUT_SCALE", "N_MELS", "SAMPLE_RATE", "features_from_pcm",
           "float_to_pcm16", "model_input", "num_frames"]
