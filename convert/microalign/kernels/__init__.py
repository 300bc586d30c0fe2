"""Reference models and test-vector generators for the custom C kernels in ``tflm_app/kernels``.

- :mod:`.fixedpoint`: TFLite / gemmlowp integer primitives (bit-exact, numpy).
- :mod:`.attention_ref`: the fused int8 attention kernel, integer-exact.
- :mod:`.attention_oracle`: builds and runs the builtin TFLite subgraph the
  kernel replaces in the TFLite Micro Python runtime (the oracle) and writes
  test vectors as a C header.
- :mod:`.log_softmax`: int8 LOG_SOFTMAX as TFLite Micro computes it (the C
  ``ma_log_softmax_s8``'s reference), integer-exact.
- :mod:`.log_softmax_oracle`: one-op LOG_SOFTMAX models run in the TFLite Micro
  Python runtime (the oracle), test cases and their C header.
- :mod:`.add`: same-shape int8 ADD as TFLite Micro (and CMSIS-NN) computes it (the C
  ``ma_add_s8``'s reference), integer-exact.
- :mod:`.add_oracle`: one-op ADD models run in the TFLite Micro Python runtime (the
  oracle), test cases and their C header.
- :mod:`.fully_connected`: int8 FULLY_CONNECTED and 1-D CONV_2D as TFLite Micro (and
  CMSIS-NN) computes them (the C ``ma_fc_s8``'s reference), integer-exact.
- :mod:`.fc_oracle`: one-op FULLY_CONNECTED / CONV_2D models run in the TFLite Micro
  Python runtime (the oracle), the shipped model's layers, test cases and their C header.
"""
