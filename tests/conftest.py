import torch

# Unit tests use small matrices: one thread avoids thread start-up costs and keeps the run
# predictable when other processes share the cores.
torch.set_num_threads(1)
