/**
 * The error function and its complement in float64, for GELU's exact form
 * x * Phi(x) = x/2 * erfc(-x / sqrt 2).
 *
 * Method: W. J. Cody, "Rational Chebyshev approximations for the error
 * function", Mathematics of Computation 23 (1969), 631-637, as coded in his
 * SPECFUN routine CALERF (netlib.org/specfun/erf). Three rational
 * approximations, each with relative error below 1e-16 or so in its interval:
 *   |x| <= 0.46875:      erf(x)  = x * A(x^2) / B(x^2)
 *   0.46875 < |x| <= 4:  erfc(x) = exp(-x^2) * C(x) / D(x)
 *   |x| > 4:             erfc(x) = exp(-x^2) / x * (1/sqrt(pi) + R(1/x^2))
 * exp(-x^2) is computed as exp(-s^2) * exp(-(x - s)(x + s)) with s = x rounded
 * down to 1/16, which keeps the rounding of x^2 out of the result. erfc is
 * accurate in relative terms far into the tail (no 1 - erf cancellation), so
 * GELU stays accurate for large negative inputs.
 */

const A = [3.16112374387056560e0, 1.13864154151050156e2, 3.77485237685302021e2, 3.20937758913846947e3, 1.85777706184603153e-1];
const B = [2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3, 2.84423683343917062e3];
const C = [
  5.64188496988670089e-1, 8.88314979438837594e0, 6.61191906371416295e1, 2.98635138197400131e2, 8.81952221241769090e2,
  1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3, 2.15311535474403846e-8,
];
const D = [
  1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3, 3.29079923573345963e3,
  4.36261909014324716e3, 3.43936767414372164e3, 1.23033935480374942e3,
];
const P = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
const Q = [2.56852019228982242e0, 1.87295284992346047e0, 5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3];

/** 1 / sqrt(pi). */
const SQRPI = 5.6418958354775628695e-1;
/** Beyond this, erfc(x) underflows to 0 in float64. */
const XBIG = 26.543;

/** erf(y) / y for 0 <= y <= 0.46875, as A(y^2) / B(y^2). */
function erfSmallOverX(y: number): number {
  const ysq = y > 1.11e-16 ? y * y : 0;
  let num = A[4] * ysq;
  let den = ysq;
  for (let i = 0; i < 3; i++) {
    num = (num + A[i]) * ysq;
    den = (den + B[i]) * ysq;
  }
  return (num + A[3]) / (den + B[3]);
}

/** exp(-y^2) without the rounding error of y*y: split y at a multiple of 1/16. */
function expNegSquare(y: number): number {
  const s = Math.trunc(16 * y) / 16;
  const del = (y - s) * (y + s);
  return Math.exp(-s * s) * Math.exp(-del);
}

/** erfc(y) for y > 0.46875 (y >= 0). */
function erfcLarge(y: number): number {
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    return expNegSquare(y) * ((num + C[7]) / (den + D[7]));
  }
  if (y >= XBIG) return 0;
  const ysq = 1 / (y * y);
  let num = P[5] * ysq;
  let den = ysq;
  for (let i = 0; i < 4; i++) {
    num = (num + P[i]) * ysq;
    den = (den + Q[i]) * ysq;
  }
  const r = (ysq * (num + P[4])) / (den + Q[4]);
  return expNegSquare(y) * ((SQRPI - r) / y);
}

/** The error function, erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t^2) dt. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) return x * erfSmallOverX(y);
  const r = 1 - erfcLarge(y);
  return x < 0 ? -r : r;
}

/** The complementary error function, erfc(x) = 1 - erf(x), accurate in relative terms for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) return 1 - x * erfSmallOverX(y);
  const r = erfcLarge(y);
  return x < 0 ? 2 - r : r;
}

/** The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

/** The standard normal density, phi(x) = exp(-x^2/2) / sqrt(2 pi). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) * 0.3989422804014327;
}
