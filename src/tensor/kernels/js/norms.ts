// Reference RMSNorm and LayerNorm, forward and backward: plain loops with float64 accumulation.
import type { F32, NormKernels } from '../types.ts';
import { checkF32, checkSize, fail } from './check.ts';

function checkEps(kernel: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps))
    fail(kernel, `argument 'eps' must be a finite non-negative number, got ${String(eps)}`);
}

/** The sizes, the input x [rows, cols] and (forward only: `eps` not null) the epsilon every norm kernel takes. */
function checkInput(kernel: string, x: F32, rows: number, cols: number, eps: number | null): void {
  checkSize(kernel, 'rows', rows);
  checkSize(kernel, 'cols', cols);
  if (eps !== null) checkEps(kernel, eps);
  checkF32(kernel, 'x', x, rows * cols);
}

/** rmsNorm, and with `res` (residualRmsNorm) res + rmsNorm: the norm's value rounded to f32, then the add. */
function rmsRows(
  k: string,
  res: F32 | null,
  x: F32,
  w: F32 | null,
  out: F32,
  rstd: F32,
  rows: number,
  cols: number,
  eps: number,
): void {
  checkInput(k, x, rows, cols, eps);
  if (res !== null) checkF32(k, 'res', res, rows * cols);
  if (w !== null) checkF32(k, 'w', w, cols);
  checkF32(k, 'out', out, rows * cols);
  checkF32(k, 'rstd', rstd, rows);
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += x[b + j] * x[b + j];
    // rstd is a float32 value, as transformers computes it; out rounds x·rstd before the weight as it does.
    const rs = Math.fround(1 / Math.sqrt(ss / cols + eps));
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      const xh = Math.fround(x[b + j] * rs);
      const y = w === null ? xh : Math.fround(xh * w[j]);
      out[b + j] = res === null ? y : res[b + j] + y;
    }
  }
}

export const jsNorms: NormKernels = {
  rmsNorm(x, w, out, rstd, rows, cols, eps) {
    rmsRows('rmsNorm', null, x, w, out, rstd, rows, cols, eps);
  },

  residualRmsNorm(res, x, w, out, rstd, rows, cols, eps) {
    rmsRows('residualRmsNorm', res, x, w, out, rstd, rows, cols, eps);
  },

  rmsNormBackward(x, w, rstd, gy, gx, gw, rows, cols) {
    const k = 'rmsNormBackward';
    checkInput(k, x, rows, cols, null);
    if (w !== null) checkF32(k, 'w', w, cols);
    checkF32(k, 'rstd', rstd, rows);
    checkF32(k, 'gy', gy, rows * cols);
    checkF32(k, 'gx', gx, rows * cols);
    // gw belongs to the weight: ignored when w is null, skipped when null.
    const gwOut = w === null ? null : gw;
    if (gwOut !== null) checkF32(k, 'gw', gwOut, cols);
    const acc = new Float64Array(gwOut === null ? 0 : cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      const rs = rstd[r];
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += gy[b + j] * (w === null ? 1 : w[j]) * x[b + j] * rs;
      const c = dot / cols;
      for (let j = 0; j < cols; j++) {
        const xh = x[b + j] * rs;
        const g = gy[b + j] * (w === null ? 1 : w[j]);
        if (gwOut !== null) acc[j] += gy[b + j] * xh;
        gx[b + j] = rs * (g - xh * c);
      }
    }
    if (gwOut !== null) for (let j = 0; j < cols; j++) gwOut[j] = acc[j];
  },

  layerNorm(x, out, mean, rstd, rows, cols, eps) {
    const k = 'layerNorm';
    checkInput(k, x, rows, cols, eps);
    checkF32(k, 'out', out, rows * cols);
    checkF32(k, 'mean', mean, rows);
    checkF32(k, 'rstd', rstd, rows);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += x[b + j];
      const mu = s / cols;
      let v = 0;
      for (let j = 0; j < cols; j++) v += (x[b + j] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / cols + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) out[b + j] = (x[b + j] - mu) * rs;
    }
  },

  layerNormBackward(x, mean, rstd, gy, gx, rows, cols) {
    const k = 'layerNormBackward';
    checkInput(k, x, rows, cols, null);
    checkF32(k, 'mean', mean, rows);
    checkF32(k, 'rstd', rstd, rows);
    checkF32(k, 'gy', gy, rows * cols);
    checkF32(k, 'gx', gx, rows * cols);
    for (let r = 0; r < rows; r++) {
      const b = r * cols;
      const mu = mean[r];
      const rs = rstd[r];
      let sg = 0;
      let sgx = 0;
      for (let j = 0; j < cols; j++) {
        sg += gy[b + j];
        sgx += gy[b + j] * (x[b + j] - mu) * rs;
      }
      const a = sg / cols;
      const c = sgx / cols;
      for (let j = 0; j < cols; j++) gx[b + j] = rs * (gy[b + j] - a - (x[b + j] - mu) * rs * c);
    }
  },
};
