r"""Parallel-beam CT: the system matrix, its exact adjoint, and filtered backprojection.

Geometry (shared by the whole ``ct`` family): an :math:`N\times N` image of unit pixels centred at
the origin, flattened row-major (row :math:`i`, column :math:`j`: :math:`x = j - (N-1)/2`,
:math:`y = (N-1)/2 - i`); angles :math:`\theta_k = k\pi/K`; the ray :math:`(\theta, t)` is the line
:math:`x\cos\theta + y\sin\theta = t`, detector offsets :math:`t_j = (j - (J-1)/2)\,s`. Sinograms are
flattened angle-major (index :math:`kJ + j`). This matches ``skimage.transform.radon(image,
degrees(theta), circle=False)`` when :math:`N` and ``ceil(sqrt(2) N)`` are odd, :math:`s = 1`.

Model: **strip integrals** (area weighting). The length of the line :math:`(\theta, t)` inside a unit
pixel centred at :math:`t_p = x_p\cos\theta + y_p\sin\theta` is a trapezoid :math:`L_\theta(t - t_p)`
of area 1 (two boxes of widths :math:`|\cos\theta|, |\sin\theta|`, convolved). An entry is that length
averaged over the detector cell, :math:`A_{(k,j),p} = \frac1s\int_{t_j-s/2}^{t_j+s/2}
L_{\theta_k}(t-t_p)\,dt = \text{area}(\text{pixel}\cap\text{strip}_{kj})/s` (closed form), a line
integral in pixel units: a constant-1 disk of radius :math:`r` projects to :math:`\approx 2\sqrt{r^2-t^2}`.
Not exact thin rays (Siddon): their column sums jump with the sub-pixel phase of the detector grid
(2 % off ``radon``, FBP 10 % off at the rotation centre); strips: 0.4 %, and FBP within 1 % of ``iradon``
(Shepp-Logan 47 x 47). Built pixel-driven, vectorised over pixels, one loop over angles.

References: A. C. Kak & M. Slaney, *Principles of Computerized Tomographic Imaging* (1988), ch. 3
(FBP); B. De Man & S. Basu, Phys. Med. Biol. 49 (2004) (area-weighted / distance-driven projection).
"""
import hashlib
import math
import os
import uuid
import warnings
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from l2obench.objectives.storage import default_cache_dir
from l2obench.objectives.validation import check_choice, check_dtype, check_int, check_real

MODEL = "strip-area-v1"   # part of every cache key: a change of the model never reuses old files
FILTERS = ("ram-lak", "hann")


@dataclass(frozen=True)
class ParallelBeamGeometry:
    """Parallel-beam geometry, validated; ``n_detectors`` / ``detector_spacing`` default to a detector
    spanning the image diagonal: ``ceil(sqrt(2) size) + 1`` detectors of spacing ``sqrt(2) size / n_detectors``."""

    size: int
    n_angles: int = 30
    n_detectors: int = None
    detector_spacing: float = None

    def __post_init__(self):
        size = check_int("size", self.size, low=2)
        n_det = math.ceil(math.sqrt(2) * size) + 1 if self.n_detectors is None else self.n_detectors
        n_det = check_int("n_detectors", n_det, low=1)
        spacing = math.sqrt(2) * size / n_det if self.detector_spacing is None else self.detector_spacing
        values = dict(size=size, n_angles=check_int("n_angles", self.n_angles, low=1), n_detectors=n_det,
                      detector_spacing=check_real("detector_spacing", spacing, low=0.0, low_open=True))
        for name, value in values.items():
            object.__setattr__(self, name, value)   # frozen: resolve the defaults once, here

    @property
    def n(self):   # pixels
        return self.size ** 2

    @property
    def m(self):   # beams
        return self.n_angles * self.n_detectors

    @property
    def image_shape(self):
        return (self.size, self.size)

    @property
    def angles(self):
        return np.arange(self.n_angles) * (np.pi / self.n_angles)

    @property
    def offsets(self):
        return (np.arange(self.n_detectors) - (self.n_detectors - 1) / 2) * self.detector_spacing

    def key(self):
        """SHA-256 hex of the fields (floats by ``repr``, exact) and of the projector model: the cache key."""
        text = ";".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return hashlib.sha256(f"{MODEL};{text}".encode()).hexdigest()


def _footprint_cdf(t, a, b):
    """CDF at ``t`` of a pixel's projection (boxes of widths a >= b, convolved), without cancellation."""
    x = a / 2 - np.abs(t)                       # distance inside the left edge, mirrored for t > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(x >= b / 2, x / a, np.where(x > -b / 2, (x + b / 2) ** 2 / (2 * a * b), 0.0))
    return np.where(t > 0, 1.0 - left, left)


def _build(geometry):
    """The (m, n) float64 CSR matrix of strip-averaged ray-pixel lengths (see the module docstring)."""
    N, J, s = geometry.size, geometry.n_detectors, geometry.detector_spacing
    centre = np.arange(N) - (N - 1) / 2
    px, py = np.meshgrid(centre, -centre)                  # row-major pixel centres (y up)
    px, py, cols = px.ravel(), py.ravel(), np.arange(N * N)
    reach = math.floor(math.sqrt(2) / s) + 3              # cells meeting a footprint of width <= sqrt(2)
    rows_all, cols_all, vals_all = [], [], []
    for k, theta in enumerate(geometry.angles):
        c, sn = abs(math.cos(theta)), abs(math.sin(theta))
        a, b = max(c, sn), min(c, sn)
        u = (px * math.cos(theta) + py * math.sin(theta)) / s + (J - 1) / 2   # centre, in detector units
        first = np.floor(u - ((a + b) / 2 + s / 2) / s).astype(np.int64)
        det = first[:, None] + np.arange(reach)[None, :]  # (n, reach) candidate detectors
        tau = (det - u[:, None]) * s
        val = (_footprint_cdf(tau + s / 2, a, b) - _footprint_cdf(tau - s / 2, a, b)) / s
        keep = (val > 0) & (det >= 0) & (det < J)
        rows_all.append(k * J + det[keep])
        cols_all.append(np.broadcast_to(cols[:, None], det.shape)[keep])
        vals_all.append(val[keep])
    A = sp.coo_matrix((np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))),
                      shape=(geometry.m, geometry.n)).tocsr()
    A.sort_indices()   # tocsr() already summed duplicates (there are none: one entry per pixel and cell)
    return A


def _load(path, geometry):
    """The cached matrix, or None (with a warning) if the file is unreadable or not this geometry's."""
    try:
        with np.load(path, allow_pickle=False) as f:   # plain arrays only: loading never executes code
            key, shape = str(f["key"]), tuple(int(v) for v in f["shape"])
            data, indices, indptr = f["data"], f["indices"], f["indptr"]
        if key != geometry.key() or shape != (geometry.m, geometry.n) or data.dtype != np.float64:
            raise ValueError("the file holds another matrix")
        A = sp.csr_matrix((data, indices, indptr), shape=shape)
        A.check_format(full_check=True)   # torch trusts these indices (check_invariants=False)
        return A
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        warnings.warn(f"CT system matrix cache {path} is unreadable ({err}); rebuilding it.", stacklevel=3)
        return None


def system_matrix(geometry, cache_dir=None):
    """The (m, n) ``scipy.sparse.csr_matrix`` (float64) of line integrals of ``geometry``, cached on disk.

    ``cache_dir`` (default ``l2obench.objectives.storage.default_cache_dir() / "ct"``) holds one
    ``<geometry.key()>.npz`` per geometry: a missing file is built and written atomically (temp file +
    ``os.replace``), an unreadable one (or another geometry's) is rebuilt with a warning.
    """
    if not isinstance(geometry, ParallelBeamGeometry):
        raise ValueError(f"geometry must be a ParallelBeamGeometry, got {type(geometry).__name__}.")
    if cache_dir is None:
        cache_dir = default_cache_dir() / "ct"
    path = Path(cache_dir) / f"{geometry.key()}.npz"
    A = _load(path, geometry) if path.exists() else None
    if A is not None:
        return A
    A = _build(geometry)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}-{uuid.uuid4().hex}.npz")
    try:
        np.savez(tmp, key=np.array(geometry.key()), shape=np.array(A.shape, dtype=np.int64),
                 data=A.data, indices=A.indices, indptr=A.indptr)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)   # only left when the write failed
    return A


def _csr_tensor(A, dtype, device=None):
    with warnings.catch_warnings():   # torch flags sparse CSR as "beta" on every construction
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(torch.from_numpy(A.indptr.astype(np.int64)),
                                       torch.from_numpy(A.indices.astype(np.int64)),
                                       torch.from_numpy(A.data), size=A.shape, dtype=dtype, device=device,
                                       check_invariants=False)   # scipy's check_format already ran


class _SparseMatmul(torch.autograd.Function):
    """``x @ M.T`` for a sparse CSR ``M``; the backward multiplies by the stored ``MT`` (no transpose
    on the fly) through this same Function, so higher-order derivatives work too."""

    @staticmethod
    def forward(ctx, x, M, MT):
        ctx.mats = (M, MT)
        return (M @ x.T.contiguous()).T.contiguous()

    @staticmethod
    def backward(ctx, grad):
        M, MT = ctx.mats
        return _SparseMatmul.apply(grad, MT, M), None, None


class Projector:
    r"""The CT forward operator :math:`A` (m, n) as torch sparse CSR matrices, with its exact adjoint.

    ``apply`` / ``__call__`` maps images (B, n) to sinograms (B, m), ``adjoint`` sinograms to images
    through the stored :math:`A^\top` (so :math:`\langle Ax, y\rangle = \langle x, A^\top y\rangle` to
    rounding); both are differentiable in their input (the gradient of one is the other).

    Parameters: ``geometry`` (ParallelBeamGeometry), ``dtype`` (float32 / float64, a torch dtype or a
    string), ``cache_dir`` (see :func:`system_matrix`). Attributes: ``geometry``, ``shape`` (m, n),
    ``image_shape`` (N, N), ``dtype``, ``device``, and ``matrix``, the float64
    ``scipy.sparse.csr_matrix`` (on the CPU, whatever ``device``).
    """

    def __init__(self, geometry, dtype=torch.float32, cache_dir=None):
        matrix = system_matrix(geometry, cache_dir)
        self._init(geometry, matrix, check_dtype("dtype", dtype), None, None)

    def _init(self, geometry, matrix, dtype, device, norm):
        self.geometry, self.matrix, self.dtype = geometry, matrix, dtype
        self.shape, self.image_shape = (geometry.m, geometry.n), geometry.image_shape
        self._A = _csr_tensor(matrix, dtype, device)
        self._AT = _csr_tensor(matrix.T.tocsr(), dtype, device)
        self.device, self._norm, self._filters = self._A.device, norm, {}
        return self

    def to(self, device=None, dtype=None):
        """A new Projector on ``device`` in ``dtype`` (None: unchanged), sharing the geometry and norm."""
        dtype = self.dtype if dtype is None else check_dtype("dtype", dtype)
        device = self.device if device is None else torch.device(device)
        return Projector.__new__(Projector)._init(self.geometry, self.matrix, dtype, device, self._norm)

    def _check(self, name, value, size):   # shape and dtype, named
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{name} must be a torch tensor, got {type(value).__name__}.")
        if value.ndim != 2 or value.shape[1] != size:
            raise ValueError(f"{name} must have shape (B, {size}), got {tuple(value.shape)}.")
        # no finiteness check: it would synchronise the GPU on every call of a training loop
        if value.dtype != self.dtype:   # no silent casts: a float64 batch on a float32 operator is a bug
            raise ValueError(f"{name} must be {self.dtype} (the projector's dtype), got {value.dtype}.")
        return value

    def apply(self, x):
        """Sinograms ``A x`` (B, m) of images ``x`` (B, n)."""
        return _SparseMatmul.apply(self._check("x", x, self.shape[1]), self._A, self._AT)

    __call__ = apply

    def adjoint(self, y):
        """Backprojections ``A^T y`` (B, n) of sinograms ``y`` (B, m)."""
        return _SparseMatmul.apply(self._check("y", y, self.shape[0]), self._AT, self._A)

    def norm(self, tol=1e-10, max_iter=1000):
        r"""Spectral norm :math:`\|A\|_2` (float, cached) by power iteration on :math:`A^\top A` in float64,
        from the constant image (close to the top singular vector of a non-negative :math:`A`)."""
        if self._norm is None:
            v, lam = np.full(self.shape[1], self.shape[1] ** -0.5), 0.0
            for _ in range(max_iter):
                w = self.matrix.T @ (self.matrix @ v)
                lam, previous = float(np.linalg.norm(w)), lam
                v = w / lam
                if abs(lam - previous) <= tol * lam:
                    break
            self._norm = math.sqrt(lam)
        return self._norm

    def _filter(self, name, length):
        """rfft response of the ramp on a padded row, from the spatial Ram-Lak kernel (Kak & Slaney
        eq. 3.61: h(0) = 1/4, h(odd k) = -1/(pi k)^2), which gets the zero frequency right."""
        if (name, length) in self._filters:
            return self._filters[name, length]
        k = np.concatenate([np.arange(1, length // 2 + 1, 2), np.arange(length // 2 - 1, 0, -2)])
        h = np.zeros(length)
        h[0], h[1::2] = 0.25, -1.0 / (np.pi * k) ** 2
        response = np.fft.rfft(h).real
        if name == "hann":
            response *= 0.5 + 0.5 * np.cos(2 * np.pi * np.arange(response.size) / length)
        self._filters[name, length] = torch.as_tensor(response, dtype=self.dtype, device=self.device)
        return self._filters[name, length]

    def fbp(self, y, filter="ram-lak"):
        r"""Filtered backprojection (B, m) -> (B, n), differentiable.

        Each detector row is zero-padded to a power of two >= 2 n_detectors (no wrap-around),
        ramp-filtered by FFT, backprojected through :meth:`adjoint` and scaled by :math:`\pi/K`: the
        discrete :math:`\int_0^\pi q_\theta(x\cos\theta + y\sin\theta)\,d\theta`, since
        :math:`\sum_j A_{(k,j),p} q_{k,j} \approx q_k(t_p)/s` cancels the filter's :math:`1/s` at
        spacing :math:`s`. So ``fbp(A x) ~ x`` for smooth ``x``."""
        check_choice("filter", filter, FILTERS)
        y = self._check("y", y, self.shape[0])
        K, J = self.geometry.n_angles, self.geometry.n_detectors
        length = 1 << max(6, math.ceil(math.log2(2 * J)))
        rows = torch.fft.rfft(y.reshape(-1, K, J), n=length, dim=-1)
        filtered = torch.fft.irfft(rows * self._filter(filter, length), n=length, dim=-1)[..., :J]
        return self.adjoint(filtered.reshape(y.shape[0], -1)) * (math.pi / K)

    def fingerprint_tensors(self):
        """Tensors identifying the operator (the float64 CSR arrays and the geometry), for cache keys."""
        g = self.geometry
        return [torch.tensor([g.size, g.n_angles, g.n_detectors], dtype=torch.int64),
                torch.tensor([g.detector_spacing], dtype=torch.float64),
                torch.from_numpy(self.matrix.indptr), torch.from_numpy(self.matrix.indices),
                torch.from_numpy(self.matrix.data)]

    def __repr__(self):   # the geometry's repr, dtype and device
        return f"Projector({self.geometry}, dtype={self.dtype}, device={self.device})"
