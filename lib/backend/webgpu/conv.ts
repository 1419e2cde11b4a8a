/**
 * WGSL for the window kernels of convolution and pooling (NHWC; see lib/layers/conv.ts and the
 * CPU reference in lib/backend/cpu.ts). Every kernel gathers (one thread per output element),
 * so none needs atomics: col2im sums, for each input pixel, the patch entries that read it;
 * the pool's backward sums, for each input pixel, the outputs whose argmax it was.
 *
 * (WGSL reserves the word `patch`: the patch width is `patchSize`.)
 *
 * Params (13 u32s, as `windowParams` orders them): count, batch, height, width, channels,
 * kernelHeight, kernelWidth, strideHeight, strideWidth, padTop, padLeft, outHeight, outWidth.
 */
import type { WindowGeometry } from "../backend.ts";
import { ELEMENTWISE_WORKGROUP } from "./shaders.ts";

/** The uniform integers of a window kernel over `count` threads. */
export function windowParams(g: WindowGeometry, count: number): number[] {
  return [
    count,
    g.batch,
    g.height,
    g.width,
    g.channels,
    g.kernelHeight,
    g.kernelWidth,
    g.strideHeight,
    g.strideWidth,
    g.padTop,
    g.padLeft,
    g.outHeight,
    g.outWidth,
  ];
}

const header = /* wgsl */ `
struct Params {
  count: u32, batch: u32, height: u32, width: u32, channels: u32,
  kh: u32, kw: u32, sh: u32, sw: u32, padTop: u32, padLeft: u32, outH: u32, outW: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
fn flatIndex(workgroup: vec3u, local: vec3u, groups: vec3u) -> u32 {
  return (workgroup.y * groups.x + workgroup.x) * ${ELEMENTWISE_WORKGROUP}u + local.x;
}
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;

const entry = /* wgsl */ `@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u,
        @builtin(num_workgroups) groups: vec3u) {
  let i = flatIndex(workgroup, local, groups);
  if (i >= params.count) { return; }`;

/** cols[row, (ky, kx, c)] = x[n, oy·sh + ky − padTop, ox·sw + kx − padLeft, c], 0 on the padding. */
export function im2colShader(): string {
  return /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
${entry}
  let patchSize = params.kh * params.kw * params.channels;
  let row = i / patchSize;
  let col = i % patchSize;
  let c = col % params.channels;
  let kx = (col / params.channels) % params.kw;
  let ky = col / (params.channels * params.kw);
  let ox = row % params.outW;
  let oy = (row / params.outW) % params.outH;
  let n = row / (params.outW * params.outH);
  let y = i32(oy * params.sh + ky) - i32(params.padTop);
  let x = i32(ox * params.sw + kx) - i32(params.padLeft);
  var value = 0.0;
  if (y >= 0 && y < i32(params.height) && x >= 0 && x < i32(params.width)) {
    value = input[((n * params.height + u32(y)) * params.width + u32(x)) * params.channels + c];
  }
  output[i] = value;
}`;
}

/** dx[n, y, x, c] = Σ over the taps (ky, kx) that read it of cols[(n, oy, ox), (ky, kx, c)]. */
export function col2imShader(): string {
  return /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
${entry}
  let c = i % params.channels;
  let x = (i / params.channels) % params.width;
  let y = (i / (params.channels * params.width)) % params.height;
  let n = i / (params.channels * params.width * params.height);
  let patchSize = params.kh * params.kw * params.channels;
  var total = 0.0;
  for (var ky = 0u; ky < params.kh; ky++) {
    let ty = i32(y + params.padTop) - i32(ky);
    if (ty < 0 || ty % i32(params.sh) != 0) { continue; }
    let oy = u32(ty) / params.sh;
    if (oy >= params.outH) { continue; }
    for (var kx = 0u; kx < params.kw; kx++) {
      let tx = i32(x + params.padLeft) - i32(kx);
      if (tx < 0 || tx % i32(params.sw) != 0) { continue; }
      let ox = u32(tx) / params.sw;
      if (ox >= params.outW) { continue; }
      let row = (n * params.outH + oy) * params.outW + ox;
      total += cols[row * patchSize + (ky * params.kw + kx) * params.channels + c];
    }
  }
  output[i] = total;
}`;
}

/** The window's maximum per channel and its flat input index; ties: the first in scan order; NaN wins. */
export function maxPoolShader(): string {
  return /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<f32>;
${entry}
  let c = i % params.channels;
  let ox = (i / params.channels) % params.outW;
  let oy = (i / (params.channels * params.outW)) % params.outH;
  let n = i / (params.channels * params.outW * params.outH);
  var best = 0.0;
  var at = -1;
  for (var ky = 0u; ky < params.kh; ky++) {
    let y = i32(oy * params.sh + ky) - i32(params.padTop);
    if (y < 0 || y >= i32(params.height)) { continue; }
    for (var kx = 0u; kx < params.kw; kx++) {
      let x = i32(ox * params.sw + kx) - i32(params.padLeft);
      if (x < 0 || x >= i32(params.width)) { continue; }
      let index = ((n * params.height + u32(y)) * params.width + u32(x)) * params.channels + c;
      let v = input[index];
      if (at < 0 || (!isNan(best) && (v > best || isNan(v)))) {
        best = v;
        at = i32(index);
      }
    }
  }
  output[i] = best;
  argmax[i] = f32(at);
}`;
}

/** dx[j] = Σ dy[o] over the windows o that contain input j and whose argmax is j. */
export function maxPoolBackwardShader(): string {
  return /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
${entry}
  let c = i % params.channels;
  let x = (i / params.channels) % params.width;
  let y = (i / (params.channels * params.width)) % params.height;
  let n = i / (params.channels * params.width * params.height);
  var total = 0.0;
  for (var ky = 0u; ky < params.kh; ky++) {
    let ty = i32(y + params.padTop) - i32(ky);
    if (ty < 0 || ty % i32(params.sh) != 0) { continue; }
    let oy = u32(ty) / params.sh;
    if (oy >= params.outH) { continue; }
    for (var kx = 0u; kx < params.kw; kx++) {
      let tx = i32(x + params.padLeft) - i32(kx);
      if (tx < 0 || tx % i32(params.sw) != 0) { continue; }
      let ox = u32(tx) / params.sw;
      if (ox >= params.outW) { continue; }
      let o = ((n * params.outH + oy) * params.outW + ox) * params.channels + c;
      if (u32(argmax[o]) == i) { total += dy[o]; }
    }
  }
  output[i] = total;
}`;
}
