/** Telling a software adapter (a GPU emulated on the CPU) from a GPU. */

const SOFTWARE_ADAPTERS = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i;

/** True for an adapter that emulates a GPU on the CPU. */
export function isSoftwareAdapter(info: GPUAdapterInfo, adapter?: GPUAdapter): boolean {
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
  const names = [info.description, info.vendor, info.architecture, info.device].join(" ");
  return fallback === true || SOFTWARE_ADAPTERS.test(names);
}
