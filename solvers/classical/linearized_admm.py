r"""Linearized ADMM for :math:`\min_x h(Kx)` s.t. :math:`Ax \in C(d)`, :math:`x \in X`, written once as a fixed-point operator.

Below, the equality case :math:`C(d) = \{d\}`, :math:`X = \mathbb R^n`; the noise ball
:math:`C(d) = B(d, \delta)` and the box :math:`X = [0, 1]^n` of CT are in
:class:`LinearizedADMMOperator` (an auxiliary :math:`w \approx Ax`, projected on the ball).

Problem of Heaton & Wu Fung, "Explainable AI via Learning to Optimize" (Sci. Rep. 2023), with
:math:`h = \|\cdot\|_1` and :math:`K = \Theta` (:class:`~l2obench.objectives.sparse_analysis.SparseAnalysisProblem`):

.. math:: N_\Theta(d) = \operatorname*{argmin}_x \|\Theta x\|_1 \quad \text{s.t.}\quad Ax = d,

split as :math:`\min h(p)` s.t. :math:`\Theta x = p,\ Ax = d`. With step sizes
:math:`\alpha, \beta, \lambda`, auxiliary :math:`p` and duals :math:`\nu, \omega`, one step is

.. math::
    p^+ &= \mathrm{prox}_{\lambda h}(p + \lambda[\nu + \alpha(\Theta x - p)]) \\
    \nu^+ &= \nu + \alpha(\Theta x - p^+) \\
    \omega^+ &= \omega + \alpha(Ax - d) \\
    x^+ &= x - \beta[\Theta^\top(2\nu^+ - \nu) + A^\top(2\omega^+ - \omega)]

on the state :math:`z = (x, p, \nu, \omega)` of size :math:`n + 2k + m` for :math:`\Theta` of shape
:math:`(k, n)` (:math:`3n + m` for a square one). The problem is invariant
to the scale of :math:`\Theta`, so the operator uses :math:`\tilde\Theta = \Theta/\|\Theta\|_2`
(the spectral norm is detached: by scale invariance the gradient of the solution is unchanged).
The step sizes are checked against :math:`\alpha\lambda \le 1` (the linearisation of the
:math:`p`-step majorises :math:`\tfrac\alpha2\|\Theta x - p\|^2`) and
:math:`\alpha\beta(1 + \|A\|_2^2) < 1`, which bounds :math:`\alpha\beta\|[\tilde\Theta; A]\|_2^2`
for every :math:`\Theta`. ``beta='auto'`` (the default) takes
:math:`\beta = 0.9/(\alpha(1 + \|A\|_2^2))` from the problem's :math:`A` (0.45 for
:math:`\|A\|_2 = 1`), so an unnormalised :math:`A` needs no hand-tuned step. The iteration is
then nonexpansive (averaged) but not a strict contraction: its linear part keeps an eigenvalue 1
along non-unique duals.

:class:`LinearizedADMMOperator` is the operator :math:`T(z; d)` (K a learned or fixed module);
:class:`LinearizedADMM` iterates it with the problem's fixed K (the classical solver: basis pursuit,
TV-min), and the implicit models (:mod:`l2obench.solvers.implicit.sparse_analysis`, ``ct``) find its
fixed point with a learned one: one step, classical and implicit modes.
"""
import torch

from l2obench.objectives.prox import project_ball
from l2obench.objectives.validation import check_choice, check_int, check_real, check_tensor

TRANSFORMS = ("identity", "difference")


def analytic_transform(n, kind="difference", dtype=torch.float64):
    """Square analytic sparsifier: the identity (basis pursuit) or first differences.

    ``'difference'`` is :math:`(Dx)_0 = x_0`, :math:`(Dx)_i = x_i - x_{i-1}`: invertible, and
    sparse on piecewise-constant signals (a total-variation analysis operator).
    """
    check_choice("transform", kind, TRANSFORMS)
    eye = torch.eye(n, dtype=dtype)
    return eye if kind == "identity" else eye - torch.diag(torch.ones(n - 1, dtype=dtype), -1)


BETA_MARGIN = 0.9  # beta='auto' takes this fraction of the largest admissible step


def resolve_beta(beta, alpha, constraint_norm):
    """``beta``, or for ``'auto'`` :math:`0.9/(\\alpha(1 + \\|A\\|_2^2))`: the step that satisfies
    :func:`check_step_sizes` with a 10 % margin whatever the scale of :math:`A`."""
    if isinstance(beta, str):
        if beta != "auto":
            raise ValueError(f"beta must be a positive number or 'auto', got {beta!r}.")
        check_real("alpha", alpha, low=0.0, low_open=True)
        return BETA_MARGIN / (alpha * (1.0 + float(constraint_norm) ** 2))
    return check_real("beta", beta, low=0.0, low_open=True)


def check_step_sizes(alpha, beta, lam, A, constraint_norm=None):
    """Raise ``ValueError`` unless :math:`\\alpha\\lambda \\le 1` and :math:`\\alpha\\beta(1+\\|A\\|^2) < 1`.

    ``constraint_norm`` is :math:`\\|A\\|_2` when known (a normalised operator); otherwise it is
    computed from the matrix ``A``.
    """
    for name, value in (("alpha", alpha), ("beta", beta), ("lam", lam)):
        check_real(name, value, low=0.0, low_open=True)
    if alpha * lam > 1.0:
        raise ValueError(f"step sizes: alpha*lam = {alpha * lam:.3g} must be <= 1 "
                         "(the linearised p-step diverges otherwise).")
    norm = float(torch.linalg.matrix_norm(A, 2)) if constraint_norm is None else float(constraint_norm)
    bound = alpha * beta * (1.0 + norm ** 2)
    if bound >= 1.0:
        raise ValueError(f"step sizes: alpha*beta*(1 + ||A||^2) = {bound:.3g} must be < 1; "
                         f"take beta < {1.0 / (alpha * (1.0 + norm ** 2)):.3g}.")


class MatrixAnalysis(torch.nn.Module):
    """The analysis operator :math:`\\tilde\\Theta = \\Theta/\\|\\Theta\\|_2` of a matrix (learnable or fixed).

    ``operators()`` returns the maps :math:`x \\mapsto \\tilde\\Theta x` and
    :math:`v \\mapsto \\tilde\\Theta^\\top v` on rows, the normalisation computed once per call
    (an SVD: once per forward solve, not per iteration).
    """

    def __init__(self, theta, learn=True):
        super().__init__()
        self.n_out = theta.shape[0]
        if learn:
            self.theta = torch.nn.Parameter(theta.clone())
        else:
            self.register_buffer("theta", theta.clone())

    def normalized(self):
        """:math:`\\Theta / \\|\\Theta\\|_2` with the norm detached."""
        return self.theta / torch.linalg.matrix_norm(self.theta.detach(), 2).clamp_min(1e-12)

    def operators(self):
        theta = self.normalized()
        return (lambda x: x @ theta.T), (lambda v: v @ theta)


class LinearizedADMMOperator(torch.nn.Module):
    """The linearized-ADMM operator :math:`T(z; d)` for :math:`\\min h(Kx)` s.t. :math:`Ax \\in C(d)`, :math:`x \\in X`.

    Written once for every problem with this structure; the problem supplies the constraint and
    the analysis operator :math:`K` (normalised, :math:`\\|K\\|_2 \\le 1`) comes as a module:

    - sparse analysis: :math:`K = \\tilde\\Theta` (:class:`MatrixAnalysis`), :math:`C(d) = \\{d\\}`,
      :math:`X = \\mathbb R^n`, :math:`h = \\|\\cdot\\|_1`;
    - CT (:mod:`l2obench.objectives.ct`): :math:`K` = image gradients (TV-min) or a learned
      convolution, :math:`C(d)` the ball :math:`B(d, \\delta)`, :math:`X = [0, 1]^n`,
      :math:`h = \\|\\cdot\\|_1` or a learned prox (the implicit model).

    With a ball constraint the state gains :math:`w \\approx Ax` and the step of Heaton & Wu Fung's
    Appendix D, :math:`w^+ = P_{B(d,\\delta)}(w + \\lambda[\\omega + \\alpha(Ax - w)])`,
    :math:`\\omega^+ = \\omega + \\alpha(Ax - w^+)`; with :math:`C = \\{d\\}` it reduces to the
    equality step above (:math:`w \\equiv d`, not stored). :math:`x^+` is projected on :math:`X`.

    Parameters
    ----------
    problem : SparseAnalysisProblem, CTProblem
        ``constraint(d)`` → ``(apply, adjoint, target, radius)`` (radius None: equality),
        ``constraint_norm()``, ``check_data(d)``, ``initial_estimate(d)``, ``project_primal(x)``,
        and ``penalty.inner_prox`` (the prox of :math:`h` when ``prox`` is None).
    analysis : Tensor (k, n) or module
        A matrix :math:`\\Theta` (wrapped in :class:`MatrixAnalysis`, learnable iff ``learn_theta``)
        or a module with ``operators()`` → (K, Kᵀ) and ``n_out`` (the length of :math:`Kx`).
    alpha, lam : float
        Step sizes (checked by :func:`check_step_sizes`).
    beta : float or 'auto'
        Primal step; ``'auto'`` chooses it from :math:`\\|A\\|_2` (:func:`resolve_beta`).
    learn_theta : bool
        For a matrix ``analysis``: a parameter (True) or a buffer (classical solver).
    prox : module, optional
        A learned prox ``prox(v, lam)`` replacing :math:`\\mathrm{prox}_{\\lambda h}`.
    radius : module, optional
        A learned radius ``radius(d)`` (B, 1) replacing the problem's.
    """

    def __init__(self, problem, analysis, alpha=1.0, beta="auto", lam=1.0, learn_theta=True, prox=None, radius=None):
        super().__init__()
        n = problem.shape[1]
        if isinstance(analysis, torch.Tensor):
            dtype = getattr(problem, "dtype", None)
            analysis = check_tensor("theta", analysis, shape=(None, n), ndim=2, dtype=dtype)
            if analysis.shape[0] == 0:
                raise ValueError(f"theta must have at least one row, got shape {tuple(analysis.shape)}.")
            analysis = MatrixAnalysis(analysis, learn=learn_theta)
        norm = problem.constraint_norm()
        beta = resolve_beta(beta, alpha, norm)
        check_step_sizes(alpha, beta, lam, None, constraint_norm=norm)
        self.problem = problem
        self.alpha, self.beta, self.lam, self.n, self.k = alpha, beta, lam, n, analysis.n_out
        self.analysis, self.prox, self.radius = analysis, prox, radius

    @property
    def theta(self):
        """The matrix of a :class:`MatrixAnalysis` (sparse analysis)."""
        return self.analysis.theta

    def normalized_theta(self):
        return self.analysis.normalized()

    def _constraint(self, d):
        apply, adjoint, target, radius = self.problem.constraint(d)
        if self.radius is not None:
            radius = self.radius(d)
        return apply, adjoint, target, radius

    def init_state(self, d):
        """:math:`x_0` from the problem (:math:`A^+ d`, a clipped FBP), :math:`p_0 = Kx_0`,
        :math:`w_0 = Ax_0` (ball), zero duals."""
        d = self.problem.check_data(d)
        apply, _, target, radius = self._constraint(d)
        x = self.problem.initial_estimate(d)
        p = self.analysis.operators()[0](x)
        w = [] if radius is None else [apply(x)]
        return torch.cat([x, p, torch.zeros_like(p), *w, torch.zeros_like(target)], dim=1)

    def readout(self, z):
        return z[:, :self.n]

    def step_fn(self, d):
        """The map :math:`z \\mapsto T(z; d)` for data ``d`` of shape (B, m)."""
        d = self.problem.check_data(d)
        K, Kt = self.analysis.operators()
        A, At, target, radius = self._constraint(d)
        n, k, m = self.n, self.k, target.shape[1]
        alpha, beta, lam = self.alpha, self.beta, self.lam
        prox = self.problem.penalty.inner_prox if self.prox is None else self.prox
        project = self.problem.project_primal

        def step(z):
            x, p, nu = z[:, :n], z[:, n:n + k], z[:, n + k:n + 2 * k]
            kx, ax = K(x), A(x)
            p_new = prox(p + lam * (nu + alpha * (kx - p)), lam)
            nu_new = nu + alpha * (kx - p_new)
            if radius is None:   # equality: w = d
                w_new, om = [], z[:, n + 2 * k:]
                om_new = om + alpha * (ax - target)
            else:
                w, om = z[:, n + 2 * k:n + 2 * k + m], z[:, n + 2 * k + m:]
                w_new = project_ball(w + lam * (om + alpha * (ax - w)), target, radius)
                om_new = om + alpha * (ax - w_new)
                w_new = [w_new]
            x_new = project(x - beta * (Kt(2 * nu_new - nu) + At(2 * om_new - om)))
            return torch.cat([x_new, p_new, nu_new, *w_new, om_new], dim=1)
        return step


class LinearizedADMM:
    """Linearized ADMM with the problem's fixed transform (the classical solver).

    Parameters
    ----------
    alpha, lam : float
        Step sizes (checked by :func:`check_step_sizes` against the problem's ``A``).
    beta : float or 'auto'
        Primal step; ``'auto'`` (default) chooses it from the problem's :math:`\\|A\\|_2`
        (:func:`resolve_beta`).
    """

    def __init__(self, alpha=1.0, beta="auto", lam=1.0):
        self.alpha, self.beta, self.lam = alpha, beta, lam

    def check(self):
        """Validate the step sizes' signs (their bounds depend on ``A``: checked at solve time)."""
        for name in ("alpha", "lam"):
            check_real(name, getattr(self, name), low=0.0, low_open=True)
        resolve_beta(self.beta, self.alpha, 1.0)  # 'auto' or a positive number
        return self

    def operator(self, problem):
        """The operator on ``problem``'s own fixed analysis operator (Θ, or the image gradients of CT)."""
        return LinearizedADMMOperator(problem, problem.analysis_operator(), self.alpha, self.beta, self.lam,
                                      learn_theta=False)

    @torch.no_grad()
    def solve(self, problem, d, n_iter):
        """``n_iter`` iterations from the problem's initial estimate (:math:`A^+d` for sparse analysis);
        returns x (B, n)."""
        n_iter = check_int("n_iter", n_iter, low=0)
        op = self.operator(problem)
        step, z = op.step_fn(d), op.init_state(d)
        for _ in range(n_iter):
            z = step(z)
        return op.readout(z)
