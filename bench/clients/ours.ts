/** Whether our own client (src/client, exported from src/index.ts) exists in this build. */
import { existsSync } from 'node:fs';
import { benchScript } from '../paths.js';

/** The script that drives our client, or null when src/index.ts exports no Producer and Consumer. */
export async function ourClientScript(): Promise<string | null> {
  const script = benchScript('clients/ours-client.js');
  if (!existsSync(script)) return null;
  try {
    const api = (await import('../../src/index.js')) as Record<string, unknown>;
    return typeof api.Producer === 'function' && typeof api.Consumer === 'function' ? script : null;
  } catch {
    return null;
  }
}
