/**
 * Dense linear algebra for analysis: the singular value decomposition and the symmetric
 * eigenproblem (PCA, built on them, is in pca.ts). Interpretability reads structure off small
 * matrices (embeddings, OV circuits, activation covariances), so these favour accuracy and
 * reproducibility over speed. Both
 * decompositions are Jacobi methods: short loops that converge to full f64 accuracy, small
 * singular values included, and that with a fixed sign convention give the same vectors on every
 * run. Everything is computed in f64 whatever the input dtype; results are f64.
 *
 * @module
 */

import { eye, sizeOf, Tensor } from "./tensor.ts";
import { materialize, transpose } from "./view.ts";
import {
  assertFinite,
  dot,
  jacobiRotation,
  negate,
  norm,
  rotate,
  rowsOf,
  scaledCopy,
  signOf,
} from "./linalg_kernels.ts";

/** The thin singular value decomposition `A = U · diag(S) · Vh`, with `r = min(m, n)`. */
export interface Svd {
  /** Left singular vectors as columns, `[..., m, r]`. */
  U: Tensor;
  /** Singular values, descending, `[..., r]`. */
  S: Tensor;
  /** Right singular vectors as rows, `[..., r, n]`. */
  Vh: Tensor;
}

/** The eigendecomposition `A = vectors · diag(values) · vectorsᵀ` of a symmetric matrix. */
export interface Eigh {
  /** Eigenvalues, ascending, `[n]`. */
  values: Tensor;
  /** Unit eigenvectors as columns, `[n, n]` (numpy's layout). */
  vectors: Tensor;
}

const EPS = Number.EPSILON;
/** Jacobi methods converge quadratically: a handful of sweeps in practice, so this never binds. */
const MAX_SWEEPS = 60;
/** How far from symmetric, relative to the largest entry, `eigh` accepts a matrix. */
const SYMMETRY_TOL = 1e-10;

/**
 * The thin SVD of a matrix, or of each matrix of a batch `[..., m, n]`: Householder QR of the
 * shorter side's vectors, then one-sided (Hestenes) Jacobi on the small factor R. Signs are fixed
 * so that the largest-magnitude entry of each right singular vector (row of `Vh`) is positive,
 * the first of them if several tie within 1e-9 (scikit-learn's `svd_flip` convention for PCA).
 * Singular values below `S[0]·2⁻⁵²` are rounding noise whose vectors carry no direction; those
 * on the long side are replaced by a Gram–Schmidt completion of the others, so `U` and `Vh` are
 * orthonormal even for rank-deficient and zero matrices. Each matrix is first divided by a power
 * of two near its largest entry (and `S` multiplied back), so any finite magnitude works;
 * a NaN or infinite entry is an error.
 *
 * @example
 * ```ts
 * import { svd } from "./linalg.ts";
 * import { tensor } from "./tensor.ts";
 * const { U, S, Vh } = svd(tensor([3, 0, 0, -2], [2, 2]));
 * S.toArray(); // Float64Array [3, 2]
 * U.toArray(); // Float64Array [1, 0, 0, -1]
 * Vh.toArray(); // Float64Array [1, 0, 0, 1]
 * ```
 */
export function svd(t: Tensor): Svd {
  if (t.ndim < 2) throw new Error(`svd: expected a matrix [..., m, n], got shape [${t.shape}]`);
  const [m, n] = t.shape.slice(-2) as [number, number];
  const batch = t.shape.slice(0, -2);
  const r = Math.min(m, n);
  const count = sizeOf(batch);
  const U = new Float64Array(count * m * r);
  const S = new Float64Array(count * r);
  const Vh = new Float64Array(count * r * n);
  assertFinite(t, "svd");
  for (let b = 0; b < count; b++) {
    const { values, scale } = scaledCopy(t.data.subarray(b * m * n, (b + 1) * m * n));
    const one = svdMatrix(new Tensor(values, [m, n]));
    U.set(one.U.data, b * m * r);
    S.set(one.S.data.map((s) => s * scale), b * r);
    Vh.set(one.Vh.data, b * r * n);
  }
  return {
    U: new Tensor(U, [...batch, m, r]),
    S: new Tensor(S, [...batch, r]),
    Vh: new Tensor(Vh, [...batch, r, n]),
  };
}

/**
 * The eigenvalues (ascending, as numpy's `eigh`) and unit eigenvectors (columns) of a symmetric
 * matrix, by the cyclic Jacobi method. The matrix must be symmetric within 1e-10 of its largest
 * entry; it is then symmetrised. Eigenvector signs follow `svd`'s convention (largest-magnitude
 * entry positive, the first of near-ties). As in `svd`, the matrix is scaled by a power of two
 * near its largest entry (the eigenvalues scaled back) and non-finite entries are rejected.
 *
 * @example
 * ```ts
 * import { eigh } from "./linalg.ts";
 * import { tensor } from "./tensor.ts";
 * const { values, vectors } = eigh(tensor([2, 1, 1, 2], [2, 2]));
 * values.toArray(); // Float64Array [1, 3]
 * vectors.toNested(); // [[0.7071…, 0.7071…], [-0.7071…, 0.7071…]]
 * ```
 */
export function eigh(t: Tensor): Eigh {
  if (t.ndim !== 2 || t.shape[0] !== t.shape[1]) {
    throw new Error(`eigh: expected a square [n, n] matrix, got shape [${t.shape}]`);
  }
  assertFinite(t, "eigh");
  const n = t.shape[0]!;
  const { values: scaled, scale } = scaledCopy(t.data);
  const A = rowsOf(scaled, n, n);
  symmetrize(A, scale);
  const V = rowsOf(eye(n).data as Float64Array, n, n); // eigenvectors as rows
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const app = A[p]![p]!;
        const aqq = A[q]![q]!;
        const apq = A[p]![q]!;
        // Relative to the diagonal rather than the norm, so small eigenvalues stay accurate too.
        if (Math.abs(apq) <= EPS * Math.sqrt(Math.abs(app)) * Math.sqrt(Math.abs(aqq))) continue;
        rotated = true;
        const { c, s, tan } = jacobiRotation(app, aqq, apq);
        // Rows p and q of Jᵀ A; by symmetry the columns of Jᵀ A J mirror them, except the 2×2
        // block, which takes the closed form that zeroes a_pq exactly.
        rotate(A[p]!, A[q]!, c, s);
        for (let k = 0; k < n; k++) {
          A[k]![p] = A[p]![k]!;
          A[k]![q] = A[q]![k]!;
        }
        A[p]![p] = app - tan * apq;
        A[q]![q] = aqq + tan * apq;
        A[p]![q] = A[q]![p] = 0;
        rotate(V[p]!, V[q]!, c, s);
      }
    }
    if (!rotated) break;
  }
  const diagonal = A.map((row, i) => row[i]!);
  const order = [...diagonal.keys()].sort((i, j) => diagonal[i]! - diagonal[j]! || i - j);
  const rows = new Float64Array(n * n);
  const sorted = rowsOf(rows, n, n);
  order.forEach((i, k) => {
    sorted[k]!.set(V[i]!);
    if (signOf(sorted[k]!) < 0) negate(sorted[k]!);
  });
  return {
    values: new Tensor(Float64Array.from(order, (i) => diagonal[i]! * scale), [n]),
    vectors: transpose(new Tensor(rows, [n, n])),
  };
}

/** The SVD of one `[m, n]` f64 matrix, which it overwrites; see `svd`. */
function svdMatrix(a: Tensor): Svd {
  const [m, n] = a.shape as [number, number];
  const tall = m >= n;
  const r = Math.min(m, n);
  const len = Math.max(m, n);
  // The r vectors of the short side (columns of a tall matrix, rows of a wide one), as the
  // columns of R in their QR factorisation, are rotated until orthogonal; the rotations,
  // accumulated from the identity, are the other side's vectors. Factoring first makes each
  // rotation cost r instead of len, several times less work for all but square matrices.
  const work = tall ? materialize(a, { offset: 0, shape: [n, m], strides: [1, n] }) : a;
  const { R, applyQ } = qr(rowsOf(work.data as Float64Array, r, len));
  const short = rowsOf(eye(r).data as Float64Array, r, r);
  hestenes(R, short);
  const sigma = R.map(norm);
  const order = [...sigma.keys()].sort((i, j) => sigma[j]! - sigma[i]! || i - j);
  const S = Float64Array.from(order, (i) => sigma[i]!);
  const unit = rowsOf(new Float64Array(r * r), r, r);
  const [longOut, shortOut] = [new Float64Array(r * len), new Float64Array(r * r)];
  const [L, Q] = [rowsOf(longOut, r, len), rowsOf(shortOut, r, r)];
  const noise = (S[0] ?? 0) * EPS;
  order.forEach((i, k) => {
    Q[k]!.set(short[i]!);
    // Sorted descending, so every row before a noise row is a proper unit vector.
    if (S[k]! > noise) unit[k]!.set(R[i]!.map((v) => v / S[k]!));
    else completeBasis(unit, k);
    L[k]!.set(applyQ(unit[k]!));
    if (signOf(tall ? Q[k]! : L[k]!) < 0) {
      negate(L[k]!);
      negate(Q[k]!);
    }
  });
  const [uRows, vRows] = tall ? [longOut, shortOut] : [shortOut, longOut];
  return {
    U: transpose(new Tensor(uRows, [r, m])),
    S: new Tensor(S, [r]),
    Vh: new Tensor(vRows, [r, n]),
  };
}

/**
 * Householder QR of the `len × r` matrix (len ≥ r) whose columns are `cols`, which it overwrites:
 * the columns of `R` (`r` long), and `applyQ`, which maps an `r`-vector `x` to `Q·x` (`len` long).
 */
function qr(cols: Float64Array[]): { R: Float64Array[]; applyQ(x: Float64Array): Float64Array } {
  const r = cols.length;
  const len = cols[0]?.length ?? 0;
  const R = rowsOf(new Float64Array(r * r), r, r);
  const reflectors: Float64Array[] = []; // unit v of H = I - 2vvᵀ
  cols.forEach((x, j) => {
    const v = x.slice();
    v.fill(0, 0, j);
    // The sign opposite to x[j] avoids cancellation in v[j].
    const diagonal = (x[j]! < 0 ? 1 : -1) * norm(v);
    v[j] = v[j]! - diagonal;
    const size = norm(v) || 1; // a zero column needs no reflection: v stays 0 and H = I
    for (let i = j; i < len; i++) v[i] = v[i]! / size;
    reflectors.push(v);
    for (let k = j + 1; k < r; k++) reflect(cols[k]!, v, j);
    R[j]!.set(x.subarray(0, j));
    R[j]![j] = diagonal;
  });
  return {
    R,
    applyQ(x) {
      const y = new Float64Array(len);
      y.set(x);
      for (let j = r - 1; j >= 0; j--) reflect(y, reflectors[j]!, j);
      return y;
    },
  };
}

/** `x ← (I − 2vvᵀ)·x` for a unit `v` that is zero before `from`, in place. */
function reflect(x: Float64Array, v: Float64Array, from: number): void {
  let proj = 0;
  for (let i = from; i < x.length; i++) proj += x[i]! * v[i]!;
  for (let i = from; i < x.length; i++) x[i] = x[i]! - 2 * proj * v[i]!;
}

/**
 * One-sided Jacobi: rotates pairs of `rows` until all are mutually orthogonal (to rounding),
 * applying the same rotations to `basis`.
 */
function hestenes(rows: Float64Array[], basis: Float64Array[]): void {
  // A dot product of length-len rows carries ~√len ulps of rounding, so asking for less stalls.
  const tol = EPS * Math.sqrt(rows[0]?.length ?? 1);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let i = 0; i < rows.length - 1; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        const x = rows[i]!;
        const y = rows[j]!;
        const alpha = dot(x, x);
        const beta = dot(y, y);
        const gamma = dot(x, y);
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotated = true;
        // The rotation that diagonalises the Gram matrix of x and y makes them orthogonal.
        const { c, s } = jacobiRotation(alpha, beta, gamma);
        rotate(x, y, c, s);
        rotate(basis[i]!, basis[j]!, c, s);
      }
    }
    if (!rotated) return;
  }
}

/**
 * Makes `rows[k]` a unit vector orthogonal to `rows[0..k)`, which are orthonormal: the first
 * standard basis vector that keeps over half of its fair share (1/len) of squared norm after
 * projecting them out. One exists, since the k < len rows take only k of the len basis vectors'
 * total. Projecting twice repairs the orthogonality classical Gram–Schmidt loses in one pass.
 */
function completeBasis(rows: Float64Array[], k: number): void {
  const v = rows[k]!;
  for (let e = 0; e < v.length; e++) {
    v.fill(0);
    v[e] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < k; j++) {
        const u = rows[j]!;
        const proj = dot(v, u);
        for (let i = 0; i < v.length; i++) v[i] = v[i]! - proj * u[i]!;
      }
    }
    const size = norm(v);
    if (size * size > 0.5 / v.length) {
      for (let i = 0; i < v.length; i++) v[i] = v[i]! / size;
      return;
    }
  }
}

/**
 * Throws unless `A` is symmetric within `SYMMETRY_TOL` of its largest entry, then averages. `A`
 * is the input divided by `scale`, which the message multiplies back (exactly, a power of two).
 */
function symmetrize(A: Float64Array[], scale: number): void {
  let [big, worst, where] = [0, 0, [0, 0]];
  A.forEach((row, i) =>
    row.forEach((v, j) => {
      big = Math.max(big, Math.abs(v));
      const gap = Math.abs(v - A[j]![i]!);
      if (gap > worst) [worst, where] = [gap, [i, j]];
    })
  );
  if (!(worst <= SYMMETRY_TOL * big)) {
    throw new Error(
      `eigh: matrix is not symmetric: |a[${where}] - a[${where.toReversed()}]| = ` +
        `${worst * scale} exceeds ${SYMMETRY_TOL} × max |a| = ${big * scale}`,
    );
  }
  A.forEach((row, i) => {
    for (let j = i + 1; j < row.length; j++) row[j] = A[j]![i] = (row[j]! + A[j]![i]!) / 2;
  });
}
