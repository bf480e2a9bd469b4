r"""The coordinate-wise LSTM core shared by every learned optimizer (Andrychowicz et al. 2016).

One small recurrent network is applied to every coordinate of every instance independently, with
shared weights, so a trained model runs on problems of any size. Features ``(B, n, n_inputs)``
are flattened to a batch of ``B·n`` (every coordinate of every instance one sample of the LSTM;
no Python loop over coordinates or instances), go through a stack of LSTM cells (hidden size 20,
2 layers: Liu et al. ICML 2023, Andrychowicz et al. 2016), then ``Linear(hidden, hidden)`` + ReLU
(Liu et al.'s extra layer) and ``Linear(hidden, n_outputs)``:

.. math:: (i, f, g, o) = W [x; h] + b,\quad c^+ = \sigma(f) c + \sigma(i)\tanh(g),\quad
          h^+ = \sigma(o)\tanh(c^+).

The cells are :class:`torch.nn.LSTMCell` modules (their weights, names and initialisation), computed
*feature-major*: the states are (hidden, B·n) tensors and each cell is one product
:math:`W [x; h]` of its stacked weights with the stacked (in + hidden, B·n) inputs, so the four
gates are contiguous blocks of rows. With B·n = 32 000 rows (the paper's batch of 64 Lasso
instances of size 500) the network is memory-bound, and the element-wise passes on strided gate
columns of the (B·n, 4·hidden) layout cost more than the products (measured, 1 thread, 20
iterations forward and backward: 2.7 s with ``nn.LSTMCell``, 1.8 s feature-major).
``tests/solvers/learned_optimizers/test_lstm.py`` checks it against ``nn.LSTMCell``.
"""
import torch
from torch import nn
from torch.nn import functional as F

from l2obench.objectives.validation import check_int


class CoordinateLSTM(nn.Module):
    """Coordinate-wise LSTM: ``forward(features (B, n, n_inputs), state) -> (outputs (B, n, n_outputs), state)``.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Features fed and values returned per coordinate.
    hidden : int
        Hidden size of every LSTM layer and of the extra linear layer (20).
    n_layers : int
        Number of stacked LSTM cells (2).
    """

    def __init__(self, n_inputs, n_outputs, hidden=20, n_layers=2):
        super().__init__()
        self.n_inputs = check_int("n_inputs", n_inputs, low=1)
        self.n_outputs = check_int("n_outputs", n_outputs, low=1)
        self.hidden = check_int("hidden", hidden, low=1)
        self.n_layers = check_int("n_layers", n_layers, low=1)
        self.cells = nn.ModuleList([nn.LSTMCell(n_inputs if k == 0 else hidden, hidden) for k in range(n_layers)])
        self.hidden_layer = nn.Linear(hidden, hidden)
        self.output_layer = nn.Linear(hidden, n_outputs)

    def init_state(self, B, n):
        """Zero hidden and cell states for ``B`` instances of ``n`` coordinates: one ``(h, c)`` pair
        of (hidden, B·n) tensors per layer (Andrychowicz et al.'s zero initial state)."""
        weight = self.output_layer.weight
        zeros = weight.new_zeros(self.hidden, check_int("B", B, low=1) * check_int("n", n, low=1))
        return [(zeros, zeros) for _ in self.cells]

    def forward(self, features, state):
        if features.ndim != 3 or features.shape[2] != self.n_inputs:
            raise ValueError(f"features must have shape (B, n, {self.n_inputs}), got {tuple(features.shape)}.")
        B, n, _ = features.shape
        if len(state) != len(self.cells) or state[0][0].shape != (self.hidden, B * n):
            raise ValueError(f"state must hold {len(self.cells)} (h, c) pairs of shape ({self.hidden}, {B * n}) "
                             f"(init_state(B, n)), got {len(state)} pairs of shape {tuple(state[0][0].shape)}.")
        x = features.permute(2, 0, 1).reshape(self.n_inputs, B * n)
        new_state = []
        for cell, (h, c) in zip(self.cells, state):
            weight = torch.cat([cell.weight_ih, cell.weight_hh], dim=1)
            gates = torch.addmm((cell.bias_ih + cell.bias_hh)[:, None], weight, torch.cat([x, h], dim=0))
            i, f, g, o = gates.chunk(4, dim=0)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            new_state.append((h, c))
            x = h
        x = F.relu(torch.addmm(self.hidden_layer.bias[:, None], self.hidden_layer.weight, x))
        out = torch.addmm(self.output_layer.bias[:, None], self.output_layer.weight, x)
        return out.reshape(self.n_outputs, B, n).permute(1, 2, 0), new_state
