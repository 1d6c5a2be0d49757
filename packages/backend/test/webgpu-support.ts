/**
 * Shared by the webgpu tests: whether Dawn finds an adapter here. Outside CI without one (no
 * chromium, or VK_ICD_FILENAMES unset) the tests skip and say why; with CI=true a missing
 * adapter fails them, since .ci/run installs SwiftShader and points Dawn at it.
 */
import { create } from 'webgpu';

export interface AdapterCheck {
  /** A reason to skip, or undefined when an adapter was found. */
  readonly skip: string | undefined;
  /** The adapter's description, for test names. */
  readonly description: string;
}

const HOW =
  "install Debian's chromium (apt-get install --no-install-recommends chromium libvulkan1) and set " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, as .ci/run does';

export async function checkAdapter(): Promise<AdapterCheck> {
  const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
  if (adapter)
    return { skip: undefined, description: `${adapter.info.vendor} ${adapter.info.architecture}` };
  const reason = `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env['VK_ICD_FILENAMES'] ?? 'unset'}): ${HOW}`;
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${reason}`);
  console.log(`# webgpu tests skipped: ${reason}`);
  return { skip: reason, description: 'none' };
}
