"""Offline training data: synthetic speech with exact timings, corpus readers and augmentation.

- :mod:`.tts_base`: what the TTS engines share (:class:`~.tts_base.Spoken`,
  :class:`~.tts_base.SynthesisError`, the :class:`~.tts_base.TTSEngine` protocol);
- :mod:`.espeak`, :mod:`.festival`, :mod:`.piper`: TTS engines that return
  audio with word and phone times taken from the engine itself;
- :mod:`.sentences`: a seeded generator of varied English sentences, over the
  word list :mod:`.wordlist` (data in ``wordlist.txt``, rebuilt by
  ``python -m microalign.data.wordlist``);
- :mod:`.synth`: :func:`~.synth.build_synthetic_corpus`, wav files plus
  train/test manifests per engine;
- :mod:`.augment`: waveform augmentation that moves the times with the audio;
- :mod:`.readers`: TIMIT, MFA TextGrid and manifest corpora as
  :class:`~microalign.corpus.Utterance` (:func:`~.readers.read_corpus`); the
  one TIMIT reader of the project.

The submodules are imported on demand; none is loaded by this package.
"""
