"""Layer 2's hands: the ladder of rungs (deterministic, memory, block, whole), the
meaning guard every candidate passes, prompts, answers, baselines and model backends."""
