r"""FBP + U-Net: a learned post-processor of the filtered backprojection (Jin et al., IEEE TIP 2017).

The network reads the FBP image :math:`x_0 = \mathrm{FBP}(d)` and returns the residual correction
:math:`x_0 + U_\Theta(x_0)`, fitted by :func:`l2obench.solvers.fit.fit` on pairs :math:`(d, x^\star)`.
The U-Net is the CT baseline of the paper (REFERENCES, CT): three resolution levels of width
:math:`w, 2w, 4w`, two conv + BatchNorm + ReLU per block, max-pooling down, transposed
convolutions up, skip concatenations.

Parameter count. The paper reports 533,593 parameters at :math:`w = 32`; no U-Net of these widths
can have exactly that many: every layer whose channels are multiples of 32 has a multiple of 32
parameters, so the total is the output layer's bias (0 or 1) modulo 32, while
:math:`533{,}593 \equiv 25 \pmod{32}`. The architecture below has 533,601 (8 more), the closest
count of the form :math:`32k + 1`:

- encoder: block 1 (1→w, w→w) with 7×7 convolutions, blocks 2 (w→2w) and 3 (2w→4w) with 3×3,
  max-pool 2×2 between blocks; convolutions followed by BatchNorm carry no bias (BatchNorm's shift
  makes it redundant);
- decoder: ``ConvTranspose2d(4w, 2w, 2, stride 2)`` + BN + ReLU, concatenation with block 2 (4w
  channels), block 4w→2w (3×3); ``ConvTranspose2d(2w, w, 4, stride 2, padding 1)`` + BN + ReLU,
  concatenation with block 1 (2w channels), block 2w→w (3×3); a 1×1 convolution w→1 with bias.
  Transposed convolutions carry a bias.
"""
import torch
from torch import nn

from l2obench.objectives.ct_projector import FILTERS
from l2obench.objectives.validation import check_choice, check_int
from l2obench.solvers.params import HyperParams


def inference(model, *args):
    """``model(*args)`` without autograd, in eval mode (BatchNorm on running statistics); the
    training flag is restored so that a call during training does not switch the model's mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(*args)
    finally:
        model.train(was_training)


def _block(c_in, c_out, kernel):
    """Two conv + BatchNorm + ReLU ('same' padding, odd ``kernel``)."""
    layers = []
    for ci in (c_in, c_out):
        layers += [nn.Conv2d(ci, c_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out),
                   nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def _up(c_in, c_out, kernel, padding):
    """×2 upsampling: transposed convolution (stride 2) + BatchNorm + ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, kernel, stride=2, padding=padding),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """The three-level U-Net of the module docstring, (B, 1, N, N) → (B, 1, N, N), N divisible by 4."""

    def __init__(self, width):
        super().__init__()
        w = width
        self.enc1, self.enc2, self.enc3 = _block(1, w, 7), _block(w, 2 * w, 3), _block(2 * w, 4 * w, 3)
        self.pool = nn.MaxPool2d(2)
        self.up2, self.dec2 = _up(4 * w, 2 * w, 2, 0), _block(4 * w, 2 * w, 3)
        self.up1, self.dec1 = _up(2 * w, w, 4, 1), _block(2 * w, w, 3)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        y = self.dec2(torch.cat([self.up2(e3), e2], dim=1))
        y = self.dec1(torch.cat([self.up1(y), e1], dim=1))
        return self.out(y)


class FBPUNet(HyperParams, nn.Module):
    """FBP followed by a residual U-Net, :math:`d \\mapsto x_0 + U_\\Theta(x_0)`, :math:`x_0 = \\mathrm{FBP}(d)`.

    Parameters
    ----------
    width : int
        Channels of the first level (:math:`w`; the levels have :math:`w, 2w, 4w`). 533,601
        parameters at 32 (see the module docstring for the paper's 533,593).
    filter : {'ram-lak', 'hann'}
        Ramp filter of the FBP input.
    """

    def __init__(self, width=32, filter="ram-lak"):
        super().__init__()
        self.width = check_int("width", width, low=1)
        self.filter = check_choice("filter", filter, FILTERS)

    def build(self, problem):
        """Create the U-Net for ``problem`` (a CTProblem; the image side N must be divisible by 4)."""
        size = problem.image_shape[0]
        if size % 4:
            raise ValueError(f"FBPUNet pools twice: the image size must be divisible by 4, got {size}.")
        self.problem_ = problem
        self.unet_ = UNet(self.width).to(problem.dtype)
        return self

    def forward(self, d):
        """Reconstructions (B, n) of measurements ``d`` (B, m), differentiable in the weights."""
        x0 = self.problem_.projector.fbp(d, filter=self.filter)
        img = x0.reshape(-1, 1, *self.problem_.image_shape)
        return x0 + self.unet_(img).reshape(x0.shape)

    def solve(self, d, n_iter=None):
        """No-grad reconstruction in eval mode; ``n_iter`` is ignored (a one-shot model)."""
        return inference(self, self.problem_.check_data(d))

    def trained_depth(self):
        return 1

    def lr_groups(self, params):
        return list(params)
