r"""A safeguard for learned iterations: keep a learned step only where it passes a test of progress.

Heaton, Chen, Wang & Yin (2020), *Safeguarded learned convex optimization*: a learned update is
accepted only when a test certifies progress, otherwise the classical operator is applied, so the
iteration keeps the classical convergence guarantee whatever the learned update does (on instances
far from its training distribution too). The default test here is a descent test on the objective
:math:`F = f + \lambda g` of a problem of the problem interface (:mod:`l2obench.objectives.problem`).
With :math:`\alpha = 1/L` (per row when the data term holds one operator per row) and the
proximal-gradient map

.. math:: T(z) = \mathrm{prox}_{\alpha\lambda g}\big(z - \alpha\nabla f(z)\big),

computed by the suite's one step (:func:`~l2obench.solvers.classical.proximal_gradient.prox_grad_step`
with the data term's ``gradient_step``), iteration :math:`k` of :class:`Safeguarded` takes the
model's candidate :math:`z_L` and, per row,

.. math:: z_{k+1} = z_L \ \text{if}\ F(z_L) \le F(T(z_k)), \qquad z_{k+1} = T(z_k) \ \text{otherwise}

(a NaN or infinite candidate is rejected); a rejected row is handed back to the model
(``model.reset``). Past the model's learned iterations every step is :math:`T`.

*Rounding ties.* A learned step that is the classical step up to rounding (an untrained LISTA
computes it in Gram form where the data term may use the residual form) lands a few ulps above
:math:`F(T(z_k))` on about a fifth of the rows (measured: up to 2 machine epsilons, relative, on
the Lasso in float32 and float64), and would count as a fallback. So a candidate is also
accepted when :math:`F(z_L) \le \min\big(F(z_k),\ F(T(z_k)) + \rho|F(T(z_k))|\big)`, with
:math:`\rho` = ``rtol`` (default 16 machine epsilons of the problem's dtype; 0 is the exact test
above): such a step never increases the objective, so no slack can accumulate.

**Guarantee.** Let :math:`G(z) = L(z - T(z))` and :math:`z^\star` a minimiser. The fundamental
prox-grad inequality (Beck 2017, *First-Order Methods in Optimization*, Thm 10.16, with
:math:`f` convex) gives (a) with :math:`x = z`: :math:`F(z) - F(T(z)) \ge \|G(z)\|^2/(2L)`
(sufficient decrease), and (b) with :math:`x = z^\star`:
:math:`F(T(z)) - F^\star \le \langle G(z), z - z^\star\rangle - \|G(z)\|^2/(2L)`. So
:math:`F(z_{k+1}) \le F(T(z_k)) \le F(z_k)`: **the objective is monotone**, every iterate stays
in the initial level set :math:`S_0 = \{F \le F(z_0)\}`. If :math:`S_0` is bounded (always for
the ℓ1 penalty with λ > 0: :math:`\|z\|_1 \le F(z_0)/\lambda` on it, as :math:`f \ge 0`), let
:math:`R = \sup_{z \in S_0}\|z - z^\star\|` (at most the diameter of :math:`S_0`). With
:math:`\delta_k = F(z_k) - F^\star` and :math:`g_k = \|G(z_k)\|`, (b) gives
:math:`\delta_{k+1} \le g_k R` and, maximised over :math:`g_k`, :math:`\delta_1 \le LR^2/2`; (a)
then gives :math:`\delta_k - \delta_{k+1} \ge g_k^2/(2L) \ge \gamma\,\delta_{k+1}^2` with
:math:`\gamma = 1/(2LR^2)`. Hence :math:`1/\delta_{k+1} - 1/\delta_k \ge \gamma/(1 + \gamma\delta_{k+1})
\ge 4\gamma/5` (as :math:`\gamma\delta_{k+1} \le 1/4`), and summing from :math:`1/\delta_1 \ge 4\gamma`:

.. math:: F(z_k) - F^\star \le \frac{5LR^2}{2(k + 4)}, \qquad k \ge 1,

the :math:`O(1/k)` rate of ISTA, whatever the model proposes. The recursion's constant is
:math:`2LR^2/k` asymptotically; ISTA's own telescoped bound :math:`L\|z_0 - z^\star\|^2/(2k)`
needs :math:`z_{k+1} = T(z_k)` and does not carry over. This is the argument for
sufficient-decrease methods (Beck 2017, Ch. 11, the block proximal gradient's rate), per row.
It holds exactly for ``rtol = 0``; a tie accepted within :math:`\rho|F(T(z_k))|` adds that much
to :math:`\delta_{k+1}` in (b), at the rounding level of the objective (monotonicity stays exact).

**The residual test** (``test='residual'``). The descent test is greedy: it compares the learned
step with one classical step, so a method that trades its first iterations for speed later (an
accelerated one: L2O-PA trained 200 steps is behind ISTA after one iteration and far ahead after
twenty) is refused from the start, handed back to the classical iterate, and refused again
(measured on Liu et al.'s Lasso: 100 % fallback over the first 60 iterations; ARCHITECTURE.md,
*Learned optimizers, the safeguard, out of distribution*). Heaton et al.'s own test is on the
fixed-point residual :math:`R(z) = \|z - T(z)\|` against a reference :math:`\mu_k` that decreases
only when a learned step is taken (their geometric-sequence rule), per row:

.. math:: z_{k+1} = z_L \ \text{and}\ \mu_{k+1} = (1 - \delta)\mu_k \ \text{if}\ R(z_L) \le (1 - \delta)\mu_k,
          \qquad z_{k+1} = T(z_k),\ \mu_{k+1} = \mu_k \ \text{otherwise},

from :math:`\mu_0 = R(z_0)`. *Guarantee*: :math:`T` is nonexpansive (a prox after a gradient step
of length :math:`\le 2/L`), so :math:`R(T(z)) \le R(z)`, and by induction :math:`R(z_k) \le \mu_k`
for every k. Infinitely many accepted steps drive :math:`\mu_k \to 0`; finitely many leave a tail
of classical steps, whose residual tends to 0. So :math:`R(z_k) \to 0`: every limit point is a
minimiser, whatever the model proposes. The objective is *not* monotone under this test (that is
what lets momentum through), and the O(1/k) bound above is the descent test's only.

**Cost** per learned iteration: the model's step plus one extra gradient step and prox (the
classical candidate :math:`T(z_k)`) and two objective evaluations (:math:`F(z_L)`,
:math:`F(T(z_k))`; :math:`F(z_{k+1})` is one of them), one more evaluation of :math:`F(z_0)`; with
the residual test, two gradient steps and proxes (:math:`T(z_k)`, :math:`T(z_L)`) and no objective,
one when every row took its learned step (then :math:`T(z_{k+1}) = T(z_L)` is kept);
past the learned iterations a step costs exactly ISTA's.
"""
import torch

from l2obench.objectives.validation import check_choice, check_int, check_real
from l2obench.solvers.classical.proximal_gradient import prox_grad_step
from l2obench.solvers.params import get_params
from l2obench.solvers.threads import torch_threads

PROTOCOL = ("init_state", "step", "reset")
TESTS = ("descent", "residual")


class Safeguarded:
    r"""A learned iteration under a safeguard test (descent or residual); see the module docstring.

    Parameters
    ----------
    model : object
        A model of the learned-optimizer protocol: ``init_state(problem, X, lam, Z)`` -> state,
        ``step(k, problem, X, lam, Z, state)`` -> ``(Z_next, state)``, ``reset(state, Z, mask)``
        (called after every learned iteration with the new iterate ``Z`` and ``mask`` (B,) bool,
        the rows replaced by the classical step, possibly none; returns the new state, or None
        when it realigned ``state`` in place), and optionally
        ``learned_iterations`` (the number of learned steps it can take; None or absent:
        unlimited). A learned optimizer (:mod:`l2obench.solvers.learned_optimizers`) or an
        :class:`~l2obench.solvers.unrolled.base.Unrolled` model.
    rtol : float or None
        Relative slack :math:`\rho` (>= 0) of the descent test for rounding ties (module
        docstring); None: 16 machine epsilons of the problem's dtype.
    test : {'descent', 'residual'}
        The objective's descent test against one classical step (monotone, O(1/k)), or Heaton et
        al.'s fixed-point-residual test against a decreasing reference (lets acceleration through;
        the residual tends to 0). See the module docstring.
    delta : float
        :math:`\delta \in (0, 1)` of the residual test (0.01).

    Attributes
    ----------
    fallbacks_ : list of int
        After :meth:`solve`: per learned iteration, the number of rows whose learned step was
        rejected (the classical step taken instead).
    fallback_rate_ : float
        Rejected learned steps over learned steps taken (rows × learned iterations); NaN when
        no learned step was taken (``n_iter = 0`` or a model without learned iterations).
    """

    def __init__(self, model, rtol=None, test="descent", delta=0.01):
        self.model = model
        self.rtol = rtol
        self.test = test
        self.delta = delta

    def get_params(self):
        return get_params(self)

    def check(self):
        """Validate the hyper-parameters (``ValueError`` naming ``model``); returns self."""
        missing = [name for name in PROTOCOL if not callable(getattr(self.model, name, None))]
        if missing:
            raise ValueError(f"model must implement the learned-optimizer protocol ({', '.join(PROTOCOL)}): "
                             f"{type(self.model).__name__} lacks {', '.join(missing)}.")
        depth = getattr(self.model, "learned_iterations", None)
        if depth is not None:
            check_int("model.learned_iterations", depth, low=0)
        if self.rtol is not None:
            check_real("rtol", self.rtol, low=0.0)
        check_choice("test", self.test, TESTS)
        if check_real("delta", self.delta, low=0.0, high=1.0, low_open=True) == 1.0:
            raise ValueError("delta must be < 1 (the reference would drop to 0 at the first learned step), got 1.0.")
        return self

    @torch.no_grad()
    def solve(self, problem, X, lmbd, n_iter, z0=None):
        """Run ``n_iter`` safeguarded iterations from ``z0`` (default 0); returns Z (B, n).

        Sets :attr:`fallbacks_` and :attr:`fallback_rate_`. ``problem`` is a problem of the
        problem interface (the one the model iterates on); ``lmbd`` a float or one value per row.
        """
        self.check()
        n_iter = check_int("n_iter", n_iter, low=0)
        X, lam, Z = problem.check_inputs(X, lmbd, z0)
        depth = getattr(self.model, "learned_iterations", None)
        n_learned = n_iter if depth is None else min(n_iter, int(depth))
        # the classical step, α = 1/L: L a float, or a (B, 1) tensor for one operator per row
        alpha = 1.0 / problem.datafit.lipschitz
        forward = problem.datafit.gradient_step(X, alpha)
        penalty = problem.penalty
        thresh, prox_state = lam * alpha, penalty.prox_state()
        rtol = 16 * torch.finfo(Z.dtype).eps if self.rtol is None else float(self.rtol)
        counts = []
        with torch_threads(1 if getattr(penalty, "single_threaded", False) else None):
            if n_learned:
                state = self.model.init_state(problem, X, lam, Z)
                F = problem.value(X, Z, lam) if self.test == "descent" else None
            T_next = None  # T(z_{k+1}) when the residual test computed it already (every row took z_L)
            for k in range(n_iter):
                T = T_next if T_next is not None else prox_grad_step(Z, forward, penalty.prox, thresh, state=prox_state)
                T_next = None
                if k >= n_learned:
                    Z = T
                    continue
                Z_L, state = self.model.step(k, problem, X, lam, Z, state)
                # NaN compares False: a non-finite candidate is rejected by either test
                if self.test == "residual":
                    if k == 0:
                        mu = (Z - T).norm(dim=1)
                    T_L = prox_grad_step(Z_L, forward, penalty.prox, thresh, state=prox_state)
                    accept = (Z_L - T_L).norm(dim=1) <= (1 - self.delta) * mu
                    mu = torch.where(accept, (1 - self.delta) * mu, mu)
                    T_next = T_L if bool(accept.all()) else None  # z_{k+1} = z_L on every row
                else:  # the descent test, and ties up to rounding that do not increase F
                    F_L, F_T = problem.value(X, Z_L, lam), problem.value(X, T, lam)
                    accept = (F_L <= F_T) | ((F_L <= F) & (F_L <= F_T + rtol * F_T.abs()))
                    F = torch.where(accept, F_L, F_T)
                Z = torch.where(accept[:, None], Z_L, T)
                rejected = ~accept
                counts.append(rejected.sum())
                reset = self.model.reset(state, Z, rejected)
                state = state if reset is None else reset
        self.fallbacks_ = [int(c) for c in torch.stack(counts).tolist()] if counts else []
        self.fallback_rate_ = sum(self.fallbacks_) / (Z.shape[0] * n_learned) if n_learned else float("nan")
        return Z
