r"""The problem interface every algorithm of the suite is written against (ARCHITECTURE.md).

A problem is a smooth data term plus a penalty, batched over rows (skglm's *datafit + penalty*):

.. math:: F_x(z) = f(z; x) + \lambda\, g(z), \qquad f(z; x) = \tfrac12\|x - Az\|_2^2,

with ``X`` (B, m) the signals, ``Z`` (B, n) the iterates and ``lmbd`` a float or one value per
row. :class:`QuadraticDatafit` gives the value, the gradient, its Lipschitz constant
:math:`\|A\|_2^2` and the gradient step in the two algebraic forms the solvers use for speed.
A penalty gives its value, its prox and, for splitting methods, its structure
:math:`g = h \circ K` (a linear operator :math:`K` and a separable :math:`h`):

- :class:`L1Penalty` — :math:`\sum_i w_i|z_i|` (:math:`K = I`), prox soft-thresholding;
- :class:`~l2obench.objectives.tv_deconvolution.TVPenalty` — :math:`\|\nabla z\|_1`
  (:math:`K = \nabla`, first differences), exact prox;
- :class:`AnalysisL1` — :math:`\|\Theta z\|_1` for any matrix :math:`\Theta` (no closed-form prox:
  for splitting methods only).

:class:`CompositeProblem` adds what depends on both parts: the value, :math:`\lambda_{\max}`
(the smallest λ with a trivial solution) and, where the problem has one, a dual value whose gap
certifies a reference solve. A new problem family plugs in by writing one such class.
"""
import functools

import torch

from l2obench.objectives.prox import soft_threshold
from l2obench.objectives.validation import check_tensor, lambda_column


class GramForward:
    r"""The affine map :math:`z \mapsto \text{bias} + zW` as ``forward(z, out=None)``: a gradient step
    in Gram form (``bias = xW_x``, ``W = W_z`` of :meth:`QuadraticDatafit.step_weights`), or a
    LISTA layer's learned affine part. ``bias`` and ``W`` stay readable, so that a solver may
    add the bias in the pass that follows the product instead of in a pass of its own (FISTA on
    CPU, :mod:`l2obench.solvers.classical.fused_fista`)."""

    def __init__(self, bias, W):
        self.bias, self.W = bias, W

    def __call__(self, z, out=None):
        return torch.addmm(self.bias, z, self.W, out=out)


class ResidualForward:
    r"""The classical gradient step in residual form, :math:`y \mapsto y - \alpha(yA^\top - x)A`, as
    ``forward(y, out=None)``: two products, the residual through a preallocated (B, m) buffer.
    ``X``, ``A``, ``At`` (:math:`A^\top`, contiguous) and ``alpha`` stay readable, so that a solver
    may fuse the final update into the pass that follows the second product (FISTA on CPU,
    :mod:`l2obench.solvers.classical.fused_fista`)."""

    def __init__(self, X, A, At, alpha):
        self.X, self.A, self.At, self.alpha = X, A, At, alpha
        self.r = torch.empty_like(X)

    def residual(self, y):
        """:math:`yA^\top - x` into the buffer."""
        return torch.addmm(self.X, y, self.At, beta=-1, out=self.r)

    def __call__(self, y, out=None):
        return torch.addmm(y, self.residual(y), self.A, alpha=-self.alpha, out=out)


def gram_step_forward(step, XA, gram, eye):
    r"""The gradient step :math:`z \mapsto z - s(zA^\top - x)A` in Gram form, :math:`s\,xA + z(I - sA^\top A)`,
    for a step :math:`s` that may be learned (a tensor requiring grad: SLISTA, LPGD-Taut's
    ``weight='step'``); ``XA`` = :math:`xA`, ``gram`` = :math:`A^\top A` and ``eye`` = :math:`I` are precomputed."""
    return GramForward(step * XA, eye - step * gram)


def residual_forward(X, A, W, scale=None):
    r"""The map :math:`z \mapsto z - s\,(zA^\top - x)W` as ``forward(z, out=None)``: a gradient step
    in residual form for :math:`W = \alpha A`, or a learned one (LPGD, TiLISTA, LISTA-CP) with a
    learned :math:`W` and scale :math:`s` (a tensor may require grad)."""
    def forward(z, out=None):
        step = (z @ A.T - X) @ W
        return z - (step if scale is None else scale * step)
    return forward


def on_device(tensor, device):
    """Whether ``tensor`` is on ``device`` (``'cuda'`` matches every cuda index)."""
    device = torch.device(device)
    return tensor.device == device or (device.index is None and tensor.device.type == device.type)


class QuadraticDatafit:
    r""":math:`f(z; x) = \tfrac12\|x - Az\|_2^2` for rows ``X`` (B, m), ``Z`` (B, n).

    Parameters
    ----------
    A : Tensor, shape (m, n)
        The linear operator (a dictionary, a blur, a projector…), not all zero.
    name : str
        The operator's name in error messages (``D`` for a dictionary, ``H`` for a blur).
    """

    per_instance = False  # one operator for every row (BatchedQuadraticDatafit: one per row)

    def __init__(self, A, name="A"):
        A = check_tensor(name, A, ndim=2)
        if A.numel() == 0 or not bool((A != 0).any()):
            raise ValueError(f"{name} must be a non-empty matrix with a non-zero entry, got shape {tuple(A.shape)}.")
        if not A.is_floating_point() or A.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"{name} must be float32 or float64, got {A.dtype}.")
        self.A = A

    @functools.cached_property
    def lipschitz(self):
        r""":math:`\|A\|_2^2`, the Lipschitz constant of :math:`\nabla f` (a float)."""
        return float(torch.linalg.matrix_norm(self.A, ord=2) ** 2)

    @functools.cached_property
    def gram(self):
        """:math:`A^\\top A` (n, n)."""
        return self.A.T @ self.A

    def value(self, X, Z):
        return 0.5 * ((X - Z @ self.A.T) ** 2).sum(dim=1)

    def grad(self, X, Z):
        r""":math:`A^\top(Az - x)` per row."""
        return (Z @ self.A.T - X) @ self.A

    def step_weights(self, alpha):
        r"""``(W_x, W_z)`` with :math:`z - \alpha\nabla f(z) = xW_x + zW_z`: :math:`W_x = \alpha A` (m, n),
        :math:`W_z = I - \alpha A^\top A` (n, n). With these weights a LISTA layer is a gradient step."""
        return alpha * self.A, torch.eye(self.A.shape[1], dtype=self.A.dtype) - alpha * self.gram

    def gradient_step(self, X, alpha, form="auto"):
        r"""The map :math:`y \mapsto y - \alpha\nabla f(y)` as ``forward(y, out=None)``.

        Two algebraically equal forms, for speed: the Gram form ``xW_x + yW_z`` (one (B,n)×(n,n)
        product) when :math:`n < 2m`, else the residual form ``y − α(yAᵀ − x)A`` (two products
        through a preallocated (B, m) buffer). Either is its matrix products plus one fused
        ``addmm`` epilogue, so a proximal-gradient iteration costs its products plus the prox.
        """
        m, n = self.A.shape
        gram = form == "gram" or (form == "auto" and n < 2 * m)
        # the weights of the last (A, α, form) are kept: a solver that works through its batch in
        # blocks of rows asks for the same step once per block
        key = (self.A, float(alpha), gram)
        cached = getattr(self, "_step_cache", None)
        if cached is None or cached[0][0] is not key[0] or cached[0][1:] != key[1:]:
            weights = self.step_weights(alpha) if gram else (None, self.A.T.contiguous())
            self._step_cache = cached = (key, weights)
        if gram:
            W_x, W_z = cached[1]
            return GramForward(X @ W_x, W_z)
        # residual_forward's formula with its two products fused into preallocated buffers
        return ResidualForward(X, self.A, cached[1][1], float(alpha))


class L1Penalty:
    r""":math:`g(z) = \sum_i w_i|z_i|` (weights default to 1); :math:`K = I`, :math:`h = g`.

    Parameters
    ----------
    weights : Tensor of shape (n,), optional
        Non-negative per-coefficient weights (a weighted Lasso, e.g. the synthesis form of TV).
    """

    K = None  # the identity: splitting methods act on z itself
    K_norm2 = 1.0
    single_threaded = False

    def __init__(self, weights=None):
        if weights is not None:
            weights = check_tensor("weights", weights, ndim=1)
            if bool((weights < 0).any()):
                raise ValueError("weights must be >= 0.")
        self.weights = weights

    def value(self, Z):
        absz = Z.abs()
        return (absz if self.weights is None else absz * self.weights).sum(dim=1)

    def thresholds(self, thresh):
        """Per-coefficient thresholds: ``thresh`` times the weights."""
        return thresh if self.weights is None else thresh * self.weights

    def prox(self, U, thresh, out=None, state=None):
        """Soft-thresholding at ``thresh`` (float, (B, 1) or broadcastable) times the weights."""
        return soft_threshold(U, self.thresholds(thresh), out=out)

    def prox_state(self):
        """Per-solve state of the prox (none for soft-thresholding)."""
        return None

    def inner_prox(self, V, thresh):
        """Prox of :math:`h` at ``thresh``: here the prox itself."""
        return self.prox(V, thresh)


class AnalysisL1(L1Penalty):
    r""":math:`g(z) = \|Kz\|_1` for a matrix :math:`K` (p, n): splitting methods only (no prox).

    Parameters
    ----------
    K : Tensor, shape (p, n)
    """

    def __init__(self, K):
        super().__init__()
        self.K = check_tensor("K", K, ndim=2)
        self.K_norm2 = float(torch.linalg.matrix_norm(self.K, 2) ** 2)

    def value(self, Z):
        return (Z @ self.K.T).abs().sum(dim=1)

    def prox(self, U, thresh, out=None, state=None):
        raise NotImplementedError("AnalysisL1 has no closed-form prox: use a splitting method.")

    def inner_prox(self, V, thresh):
        return soft_threshold(V, thresh)


class CompositeProblem:
    r""":math:`F_x(z) = f(z; x) + \lambda g(z)`, batched over rows.

    Subclasses add :meth:`lambda_max` and, where a dual exists, :meth:`dual_value`.

    Parameters
    ----------
    datafit : QuadraticDatafit
    penalty : L1Penalty or a penalty with the same methods
    """

    has_dual = False

    def __init__(self, datafit, penalty):
        self.datafit, self.penalty = datafit, penalty

    @property
    def A(self):
        return self.datafit.A

    @property
    def shape(self):
        """``(m, n)``: signal and iterate sizes (the last two dimensions of the operator)."""
        return tuple(self.datafit.A.shape[-2:])

    @property
    def n_instances(self):
        """Rows a batch must have when the data term holds one operator per row
        (``datafit.per_instance``); None when every row shares the operator."""
        return self.datafit.A.shape[0] if getattr(self.datafit, "per_instance", False) else None

    def index(self, idx):
        """The problem of the rows ``idx`` (for chunked evaluation): the problem itself when the rows
        share the operator; per-instance problems say how."""
        if self.n_instances is None:
            return self
        raise NotImplementedError(f"{type(self).__name__}.index: build the problem on the rows' operators.")

    def check_inputs(self, X, lmbd, z0=None):
        """Validate a batch: returns ``X`` (B, m) in A's dtype, λ as (B, 1) and ``z0`` or zeros (B, n).

        Empty batches, NaN or Inf entries, non-float dtypes and negative λ are ``ValueError``; so is
        a batch whose row count differs from :attr:`n_instances` (a per-instance problem).
        """
        m, n = self.shape
        X = check_tensor("X", X, ndim=2, shape=(None, m))
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one signal (got an empty batch).")
        if self.n_instances is not None and X.shape[0] != self.n_instances:
            raise ValueError(f"X must have one row per instance of the problem ({self.n_instances}), "
                             f"got {X.shape[0]} rows.")
        if not X.is_floating_point() or X.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"X must be float32 or float64, got {X.dtype}.")
        if X.dtype != self.A.dtype:
            X = X.to(self.A.dtype)  # float64 values beyond float32's range would become ±Inf
            if not bool(torch.isfinite(X).all()):
                raise ValueError(f"X has entries too large for {self.A.dtype}, the dtype of the problem.")
        lam = lambda_column(lmbd, X.shape[0], self.A.dtype)
        Z = torch.zeros(X.shape[0], n, dtype=self.A.dtype) if z0 is None else \
            check_tensor("z0", z0, ndim=2, shape=(X.shape[0], n), dtype=self.A.dtype).clone()
        return X, lam, Z

    def value(self, X, Z, lmbd):
        """Per-row objective :math:`F_x(z)`, shape (B,)."""
        lam = lmbd.reshape(-1) if isinstance(lmbd, torch.Tensor) else lmbd
        return self.datafit.value(X, Z) + lam * self.penalty.value(Z)

    def double(self):
        """The same problem in float64 (reference solves); subclasses built from their operator
        alone say how."""
        if self.A.dtype == torch.float64:
            return self
        raise NotImplementedError(f"{type(self).__name__}.double(): build the problem on a float64 operator.")

    def to(self, device):
        """The same problem with its tensors on ``device`` (a solver's device, moved once by the benchopt
        adapters); subclasses built from their operator alone say how."""
        if on_device(self.A, device):
            return self
        raise NotImplementedError(f"{type(self).__name__}.to(device): build the problem on an operator on {device}.")

    def analysis_matrix(self):
        """The penalty's :math:`K` as a matrix (the identity when ``penalty.K`` is None), for the
        splitting methods."""
        K = self.penalty.K
        return torch.eye(self.shape[1], dtype=self.A.dtype) if K is None else K

    def to_output(self, Z):
        """The signal an iterate stands for (the identity; a synthesis form maps codes to signals)."""
        return Z

    def from_output(self, Z):
        """Inverse of :meth:`to_output`: the iterate of a signal (to warm-start from a signal)."""
        return Z

    def lambda_max(self, X):
        raise NotImplementedError

    def dual_value(self, X, Z, lmbd):
        """A lower bound on :math:`F^*` built from ``Z`` (problems with ``has_dual``)."""
        raise NotImplementedError(f"{type(self).__name__} has no dual value.")

    def fingerprint_tensors(self):
        """Tensors that define the problem (for cache keys)."""
        weights = getattr(self.penalty, "weights", None)
        K = getattr(self.penalty, "K", None)
        return [self.A, weights, K]
