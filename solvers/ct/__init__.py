"""Learned CT reconstruction baselines: the FBP + U-Net post-processor and learned primal-dual."""
