// Finds the alipay-cancel-kit binary: the platform package that npm installed beside this one
// (chosen by its `os` and `cpu`, the way esbuild and biome ship theirs), or an override.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The platform packages this release has, by `${process.platform}-${process.arch}`. */
export const PLATFORM_PACKAGES = {
  'linux-x64': '@alipay-cancel-kit/linux-x64',
};

/** Overrides the platform package (a binary built from source, say), as ESBUILD_BINARY_PATH does. */
export const BINARY_ENV = 'ALIPAY_CANCEL_KIT_BINARY';

/**
 * The path of the binary to run. Throws an Error that says what to install when no platform
 * package fits this machine or it was not installed (`--no-optional`, `--omit=optional`, or a
 * lockfile made on another platform).
 */
export function binaryPath() {
  const override = process.env[BINARY_ENV];
  if (override) {
    if (!existsSync(override)) throw new Error(`${BINARY_ENV} names ${override}, which does not exist`);
    return override;
  }
  const platform = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[platform];
  if (!pkg) {
    throw new Error(
      `alipay-cancel-kit has no binary for ${platform} (only ${Object.keys(PLATFORM_PACKAGES).join(', ')}); ` +
        `build it from source (cargo install --git ... --locked) and set ${BINARY_ENV} to its path`);
  }
  let manifest;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(
      `the platform package ${pkg} is not installed: alipay-cancel-kit needs it on ${platform}. ` +
        `Install it (npm install ${pkg}), or reinstall without --no-optional / --omit=optional ` +
        `(a lockfile made on another platform can leave it out)`);
  }
  const bin = path.join(path.dirname(manifest), 'bin', 'alipay-cancel-kit');
  if (!existsSync(bin)) throw new Error(`${pkg} is installed but holds no binary at ${bin}`);
  return bin;
}
