"""Distillation teachers: stronger aligners whose word timings label training data.

- :class:`~microalign.teachers.base.Teacher`: the interface (``align(pcm, words)``), in
  :mod:`~microalign.teachers.base` with the checks teachers share.
- :class:`~microalign.teachers.pocketsphinx_teacher.PocketsphinxTeacher`: pocketsphinx
  forced alignment (CPU, the model ships with the PyPI package).
- :class:`~microalign.teachers.qwen_teacher.QwenTeacher`: Qwen3-ForcedAligner-0.6B through
  ``qwen-asr`` when its weights are on disk (``pip install microalign[teacher]``).
- :func:`~microalign.teachers.labelling.label_corpus`: label a corpus and write a manifest.
- :mod:`~microalign.teachers.corpora`: readers for transcribed corpora without timings.

``python -m microalign.teachers --help`` labels a corpus from the command line.
"""
from .base import Teacher, TeacherAlignment, TeacherError
from .labelling import LabelReport, label_corpus

__all__ = ["LabelReport", "Teacher", "TeacherAlignment", "TeacherError", "label_corpus",
           "PocketsphinxTeacher", "QwenTeacher"]


def __getattr__(name: str):
    # the teachers import heavy packages: load them on first use
    if name == "PocketsphinxTeacher":
        from .pocketsphinx_teacher import PocketsphinxTeacher
        return PocketsphinxTeacher
    if name == "QwenTeacher":
        from .qwen_teacher import QwenTeacher
        return QwenTeacher
    raise AttributeError(f"module 'microalign.teachers' has no attribute {name!r}")
