r"""Adam and AdamHD as classical solvers of the problem interface: the hand-designed baselines of
the learned optimizers.

For :math:`F(z) = f(z; x) + \lambda g(z)` (:mod:`l2obench.objectives.problem`), batched over
rows, Adam (Kingma & Ba, ICLR 2015) follows the subgradient
:math:`s_t = \nabla f(z_{t-1}) + \lambda\,\partial g(z_{t-1})` (for the ℓ1 penalty
:math:`\lambda\, w \odot \mathrm{sign}(z)`, the one autograd takes through :math:`|\cdot|`):

.. math::

    m_t = \beta_1 m_{t-1} + (1 - \beta_1) s_t, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) s_t^2, \quad
    d_t = \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}, \quad
    z_t = z_{t-1} - \alpha_t d_t,

so its iterates are ``torch.optim.Adam``'s on the same objective. AdamHD (Baydin, Cornish,
Martínez Rubio, Schmidt & Wood, ICLR 2018, *Online learning rate adaptation with hypergradient
descent*) adapts the rate of each row by gradient descent on it: :math:`\partial F(z_{t-1}) /
\partial\alpha_{t-1} = -\langle s_t, d_{t-1}\rangle`, hence

.. math:: \alpha_t = \alpha_{t-1} + \beta\,\langle s_t, d_{t-1}\rangle

(the paper's :math:`\alpha_t = \alpha_{t-1} - \beta h_t` with :math:`h_t = \langle s_t, u_{t-1}\rangle`,
:math:`u_{t-1} = -d_{t-1}` the previous update direction): the rate grows while successive
directions agree and shrinks when the iterate overshoots. With :math:`\beta = 0` it is Adam.
Neither has a convergence guarantee on the non-smooth :math:`F` with a constant rate: Adam
oscillates around the kinks of :math:`|\cdot|` at a distance set by :math:`\alpha` (it never
produces exact zeros), which is why the rate is tuned (:meth:`Adam.tune_rate`).
"""
import copy
import math

import torch

from l2obench.objectives.problem import L1Penalty
from l2obench.objectives.validation import check_int, check_real
from l2obench.solvers.threads import torch_threads

DEFAULT_GRID = tuple(10.0 ** (e / 3) for e in range(-12, 1))  # 1e-4 … 1, three rates a decade


def penalty_subgradient(penalty):
    """``Z ↦`` an element of :math:`\\partial g(Z)` (B, n) for ``penalty``.

    The penalty's own ``subgradient(Z)`` when it has one; for :class:`L1Penalty` (weights or
    not, :math:`K = I`) :math:`w \\odot \\mathrm{sign}(z)`. Other penalties are a ``ValueError``.
    """
    own = getattr(penalty, "subgradient", None)
    if callable(own):
        return own
    if isinstance(penalty, L1Penalty) and penalty.K is None:
        weights = penalty.weights
        return torch.sign if weights is None else (lambda Z: torch.sign(Z) * weights)
    raise ValueError(f"problem: Adam needs a subgradient of the penalty, and {type(penalty).__name__} has no "
                     "subgradient(Z) method (only the ℓ1 penalty L1Penalty is supported without one).")


class Adam:
    """Adam / AdamHD on a batch of problems of the problem interface; see the module docstring.

    Parameters
    ----------
    lr : float
        The (initial) rate :math:`\\alpha_0` (> 0), the same for every row.
    betas : tuple of two floats
        :math:`(\\beta_1, \\beta_2)`, each in [0, 1).
    eps : float
        :math:`\\epsilon` (> 0).
    hypergradient : float
        AdamHD's hypergradient rate :math:`\\beta` (>= 0); 0 is plain Adam.

    Attributes
    ----------
    lr_ : Tensor (B,)
        After :meth:`solve`: each row's final rate (``lr`` for plain Adam).
    """

    # runs on problems with one operator per row (a per-row step 1/L_i): benchopt adapters do not skip it
    per_instance = True

    def __init__(self, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, hypergradient=0.0):
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.hypergradient = hypergradient

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming the bad one); returns self."""
        check_real("lr", self.lr, low=0.0, low_open=True)
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}.")
        for i, beta in enumerate(self.betas):
            if check_real(f"betas[{i}]", beta, low=0.0) >= 1:
                raise ValueError(f"betas[{i}] must be < 1, got {beta!r}.")
        check_real("eps", self.eps, low=0.0, low_open=True)
        check_real("hypergradient", self.hypergradient, low=0.0)
        return self

    def solve(self, problem, X, lmbd, n_iter, z0=None, callback=None):
        """Run ``n_iter`` iterations from ``z0`` (default 0); returns Z (B, n).

        ``callback(k, z)``, if given, is called after each iteration k = 1..n_iter (``z`` is
        the solver's iterate, updated in place: copy it to keep it); returning ``True`` stops.
        """
        self.check()
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, z = problem.check_inputs(X, lmbd, z0)
        subgradient = penalty_subgradient(problem.penalty)
        (beta1, beta2), eps, hyper = self.betas, float(self.eps), float(self.hypergradient)
        m, v = torch.zeros_like(z), torch.zeros_like(z)
        lr = torch.full((z.shape[0], 1), float(self.lr), dtype=z.dtype, device=z.device)
        d_prev = None
        with torch.no_grad(), torch_threads(1 if getattr(problem.penalty, "single_threaded", False) else None):
            for t in range(1, n_iter + 1):
                s = problem.datafit.grad(X, z) + lam * subgradient(z)
                if hyper > 0 and d_prev is not None:
                    lr = lr + hyper * (s * d_prev).sum(dim=1, keepdim=True)
                m.lerp_(s, 1 - beta1)
                v.mul_(beta2).addcmul_(s, s, value=1 - beta2)
                d = (m / (1 - beta1 ** t)) / (v.sqrt() / math.sqrt(1 - beta2 ** t) + eps)
                z.sub_(lr * d)
                d_prev = d
                if callback is not None and callback(t, z) is True:
                    break
        self.lr_ = lr[:, 0]
        return z

    def tune_rate(self, problem, X, lmbd, n_iter, grid=None):
        """The rate of ``grid`` (default :data:`DEFAULT_GRID`, 1e-4 … 1 log-spaced) whose ``n_iter``
        iterations (with this solver's other hyper-parameters) reach the lowest mean final
        objective on the batch; non-finite objectives rank last, ties go to the first rate.

        Tune on **training** instances only: a rate chosen on the test instances would hand the
        baseline information the learned optimizers never see. The solver's own ``lr`` is not
        changed: build ``Adam(lr=rate, ...)`` with the answer.
        """
        self.check()
        n_iter = check_int("n_iter", n_iter, low=0)
        rates = DEFAULT_GRID if grid is None else tuple(grid)
        if not rates:
            raise ValueError("grid must hold at least one rate.")
        rates = [check_real("grid", rate, low=0.0, low_open=True) for rate in rates]
        X, lam, _ = problem.check_inputs(X, lmbd)
        best_rate, best_value = rates[0], math.inf
        for rate in rates:
            solver = copy.copy(self)
            solver.lr = rate
            value = float(problem.value(X, solver.solve(problem, X, lam[:, 0], n_iter), lam).mean())
            if math.isfinite(value) and value < best_value:
                best_rate, best_value = rate, value
        return best_rate
