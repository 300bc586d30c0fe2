"""The student acoustic model and its checkpoint format."""
from .checkpoint import default_model_path, load_checkpoint, save_checkpoint, tokens_for_model
from .student import StudentAligner, StudentConfig, count_parameters, macs_per_second, macs_per_window

__all__ = ["default_model_path", "load_checkpoint", "save_checkpoint", "tokens_for_model", "StudentAligner", "StudentConfig", "count_parameters", "macs_per_second", "macs_per_window"]
