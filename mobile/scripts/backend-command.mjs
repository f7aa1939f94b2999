// Locates the project's Python console scripts (`foryou`, `amocrm-emulator`) for Node-side
// tooling: the workspace virtualenv the Makefile creates, else `uv run --frozen`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const mobileRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(mobileRoot, '..');

/** Returns [executable, ...leadingArgs] for a console script of the workspace. */
export function pythonCommand(script) {
  const venvBin = path.join(repoRoot, '.venv', 'bin', script);
  if (existsSync(venvBin)) return [venvBin];
  const localUv = path.join(repoRoot, '.tools', 'bin', 'uv');
  const uv = process.env.UV || (existsSync(localUv) ? localUv : 'uv');
  return [uv, 'run', '--frozen', script];
}
