"""UALM, the unified audio language model: vocabulary, model, audio I/O, checkpoints and decoding."""
