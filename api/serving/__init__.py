"""Serving deployed models: scoring, micro-batching, the loaded-model cache, tokens and the prediction log."""
